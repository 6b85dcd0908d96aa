"""Private aggregate answers served by the data room (issue 19, docs/PRIVACY.md "Served by the data
room"): the signed-in grantee of a live access to a personal dataset asks a query in the engine's
form; the data room answers it with differential privacy over the rows of the subjects whose consent
covers the access as of the index's last finalized block (the release's own selection), and logs it
on chain with `log_query` from its release-operator key. Only the noisy answer leaves the server.

Every refusal comes before anything is spent: the grantee and liveness (index and chain), the
dataset's `cl:privacy` declaration, the query against it, then, holding the operator's sender lease,
the budget read from the chain and the replay check, before a row is read. The lease is held from the
budget check to the `log_query` receipt (reserve, then commit): two answers racing for the last of a
budget are checked one after the other, and the second sees the first one's spending.

Every answer is recorded for its grantee once its `log_query` is signed and before it is sent, and
completed from the receipt (pending.py): an answer whose epsilon was spent is never lost to a crash,
a late receipt or a dropped connection; `stored_answers` gives them back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from web3 import Web3

from ..chain.deployments import contract, load_deployment
from ..chain.tx import TransactionFailed, transact
from ..config import Config, Network
from ..datasets.store import MetadataStore, metadata_dir
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree
from ..indexer.models import Checkpoint, PrivateQuery
from ..query.errors import CodedError, Unavailable
from ..query.queries import epsilon
from ..release import service
from .delivery import grantee_access, live_on_chain, release_source
from .files import FileStore
from .models import StoredAnswer
from .pending import PendingKind, settle
from .profiles import kept_profile, stored_table
from .sender import sender_lease
from .sessions import Session


def _refused(message: str) -> CodedError:
    return CodedError(f"{message}; nothing was spent", code="query_refused")


def logged_hashes(engine: Engine, registry: Any, access_id: int, from_block: int) -> set[str]:
    """The query hashes already logged on chain under `access_id` (PrivateQueryLogged, access_id is
    indexed): from the index up to its last finalized block (final: no reorg takes them back), and
    from the chain after it, since the index may lag behind an answer given a moment ago. Reading the
    chain only past the finalized block keeps the log range short: a provider that caps eth_getLogs
    ranges (10,000 blocks) would refuse the whole span since the grant."""
    with engine.connect() as conn:
        final = conn.execute(select(Checkpoint.finalized_block)).scalar()
        indexed: set[str] = set()
        if final is not None and final >= from_block:
            indexed = set(
                conn.execute(
                    select(PrivateQuery.query_hash).where(
                        PrivateQuery.access_id == access_id, PrivateQuery.block_number <= final
                    )
                ).scalars()
            )
            from_block = final + 1
    try:
        events = registry.events.PrivateQueryLogged().get_logs(
            from_block=from_block, argument_filters={"access_id": access_id}
        )
    except Exception:
        raise Unavailable("the node does not answer, so earlier answers cannot be checked: retry") from None
    return indexed | {"0x" + bytes(e["args"]["query_hash"]).hex() for e in events}


def _check_query(query: Any, access_id: int, dataset_id: int, decl: Any) -> None:
    """The data room's own requirements on top of the engine's: each request hashes uniquely."""
    if query.access_id != access_id:
        raise _refused(
            f'the query must name its access ("access_id": {access_id}), so that its hash is of this access'
            + (f", not {query.access_id}" if query.access_id is not None else "")
        )
    if query.nonce is None:
        raise _refused('the query needs a "nonce" (1 to 100 printable characters, new for each question)')
    if query.dataset_id is not None and query.dataset_id != dataset_id:
        raise _refused(
            f"the query names dataset {query.dataset_id}, but access {access_id} is answered from dataset {dataset_id}"
        )
    if query.representativeness is not None and decl.profile_epsilon is None:
        raise _refused(
            f"dataset {dataset_id} declares no cl:profileEpsilon, so there is no population profile to compare "
            "with: ask without a representativeness report"
        )


def answer_query(
    engine: Engine,
    cfg: Config,
    network: Network,
    data_dir: Path,
    files: FileStore,
    w3: Web3,
    operator: Any,
    session: Session,
    access_id: int,
    body: Any,
) -> dict[str, Any]:
    """Answer `body` (a query document) for the signed-in grantee of `access_id` with differential
    privacy, log it on chain and return the answer with its on-chain record and the budget left."""
    from ..privacy import PrivacyError, parse_declaration, parse_query, run_query

    with engine.connect() as conn:
        access = grantee_access(conn, access_id, session)
        source = release_source(conn, access, files)
    registry = contract(w3, load_deployment(network.chain_id, cfg), "AccessRegistry", cfg)
    live_on_chain(w3, registry, access_id)
    declared = service.privacy_declaration(source, MetadataStore(metadata_dir(data_dir=Path(data_dir))))
    if declared is None:
        raise _refused(f"dataset {source['id']} declares no cl:privacy (columns, bounds): it cannot answer queries")
    try:
        decl = parse_declaration(declared)
        query = parse_query(body, decl)
    except PrivacyError as exc:
        raise _refused(str(exc)) from None
    _check_query(query, access_id, source["id"], decl)

    with engine.connect() as conn:
        snapshot_block, consenting = service.consent_snapshot(
            conn, access, source, rpc_timestamp=lambda n: int(w3.eth.get_block(n)["timestamp"])
        )
    if not consenting:
        raise _refused(
            "no subject consents to this use as of the last finalized block: there are no rows to answer from"
        )
    tree = ConsentTree.build(consenting)
    try:
        service.check_flow(w3, registry, operator, source["publisher"], access_id, snapshot_block, "private answer")
    except CityLedgerError as exc:
        raise Unavailable(f"the data room cannot log this answer: {exc}") from None

    fns = registry.functions
    answers = pending_answers(engine, registry)
    # Reserve, then commit: the lease serialises every send of the operator's key, so the budget read
    # here cannot be spent by another answer before this one's log_query is mined.
    with sender_lease(engine, operator.address):
        settle(engine, w3, operator.address, [answers], locked=True)
        budget, spent = fns.privacy_budget(access_id).call()
        if query.cost_micro > budget - spent:
            raise CodedError(
                f"this answer costs epsilon {epsilon(query.cost_micro)}, but access {access_id} has "
                f"{epsilon(budget - spent)} of its budget {epsilon(budget)} left: nothing was computed or spent",
                code="budget_exceeded",
            )
        if _stored(engine, access_id, query.hash, logged=False):
            raise Unavailable(
                f"query {query.hash} is being logged on chain under access {access_id} (its transaction is not "
                "mined yet): ask again in a moment; nothing was computed or spent now"
            )
        if query.hash in logged_hashes(engine, registry, access_id, fns.granted_block(access_id).call()):
            kept = _stored(engine, access_id, query.hash, logged=True)
            raise CodedError(
                f"query {query.hash} was already answered under access {access_id}: a replay is refused ("
                + (f"its answer: GET /api/access/{access_id}/answers?query_hash={query.hash}; " if kept else "")
                + "ask with a new nonce to spend again); nothing was computed or spent",
                code="query_replayed",
            )
        # Only now is a row read.
        try:
            table = stored_table(files, data_dir, source["content_hash"], decl)
        except PrivacyError as exc:
            raise _refused(f"dataset {source['id']}'s file does not fit its declaration: {exc}") from None
        population = None
        if query.representativeness is not None:  # once per file and declaration, then kept
            population = kept_profile(data_dir, source["content_hash"], source["metadata_hash"], decl, lambda: table)
        try:
            answer = run_query(query, table, sorted(consenting), reserved_hash=query.hash, population=population)
        except PrivacyError as exc:
            raise _refused(str(exc)) from None
        out = {
            **answer.to_json(),
            "access_id": access_id,
            "dataset_id": source["id"],
            "snapshot_block": snapshot_block,
            "consent_root": "0x" + tree.root.hex(),
            "subject_count": len(tree),
            "logged_by": operator.address.lower(),
        }
        recorded: dict[str, Any] = {}

        def record(tx_hash: str, nonce: int) -> None:
            # Before the send: from here on the answer is the grantee's, whatever happens to this request.
            row = {"tx_hash": tx_hash, "operator": operator.address.lower(), "nonce": nonce, "access_id": access_id}
            row |= {"grantee": session.address, "query_hash": answer.query_hash, "answer": json.dumps(out)}
            with engine.begin() as conn:
                conn.execute(insert(ANSWERS).values(**row, created_at=int(time.time())))
            recorded.update(row)

        try:
            receipt = transact(
                w3,
                operator,
                fns.log_query(
                    access_id,
                    source["id"],
                    answer.cost_micro,
                    bytes.fromhex(answer.query_hash[2:]),
                    tree.root,
                    snapshot_block,
                    len(tree),
                ),
                on_signed=record,
            )
        except TransactionFailed as exc:
            if recorded and exc.receipt is None and exc.tx_hash is not None:  # not mined in time: kept
                raise Unavailable(
                    f"the answer's log (tx {recorded['tx_hash']}) was not mined in time: once it is, "
                    f"GET /api/access/{access_id}/answers?query_hash={answer.query_hash} gives the answer"
                ) from None
            if recorded:
                _forget(engine, recorded)
            # The answer is dropped unseen: nothing leaves unlogged.
            raise Unavailable(f"the data room could not log this answer on chain ({exc.reason}): retry") from None
        return _keep(engine, registry, recorded, out, receipt)


ANSWERS = cast(Table, StoredAnswer.__table__)


def _keep(engine: Engine, registry: Any, row: Any, out: dict[str, Any], receipt: Any) -> dict[str, Any]:
    """The answer with its on-chain record (from the receipt's PrivateQueryLogged), kept for its grantee."""
    logged = registry.events.PrivateQueryLogged().process_receipt(receipt)[0]["args"]
    budget, spent = int(logged["budget"]), int(logged["spent_total"])
    final = {
        **out,
        "query_id": int(logged["query_id"]),
        "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "budget": {
            "budget": epsilon(budget),
            "spent": epsilon(spent),
            "remaining": epsilon(budget - spent),
            "budget_micro": budget,
            "spent_micro": spent,
            "remaining_micro": budget - spent,
        },
    }
    with engine.begin() as conn:
        conn.execute(
            update(ANSWERS)
            .where(ANSWERS.c.tx_hash == row["tx_hash"])
            .values(query_id=final["query_id"], answer=json.dumps(final))
        )
    return final


def _forget(engine: Engine, row: Any) -> None:
    with engine.begin() as conn:
        conn.execute(delete(ANSWERS).where(ANSWERS.c.tx_hash == row["tx_hash"]))


def _stored(engine: Engine, access_id: int, query_hash: str, *, logged: bool) -> bool:
    done = ANSWERS.c.query_id.is_not(None) if logged else ANSWERS.c.query_id.is_(None)
    with engine.connect() as conn:
        hit = conn.execute(
            select(ANSWERS.c.tx_hash).where(ANSWERS.c.access_id == access_id, ANSWERS.c.query_hash == query_hash, done)
        ).first()
    return hit is not None


def pending_answers(engine: Engine, registry: Any) -> PendingKind:
    """Answers whose log_query was signed and not seen mined, to settle (pending.py): mined, completed
    with their on-chain record; otherwise forgotten (nothing was spent)."""

    def rows(operator: str) -> Sequence[Any]:
        with engine.connect() as conn:
            query = select(ANSWERS).where(ANSWERS.c.operator == operator, ANSWERS.c.query_id.is_(None))
            return conn.execute(query).mappings().all()

    def finish(row: Any, receipt: Any) -> None:
        _keep(engine, registry, row, json.loads(row["answer"]), receipt)

    return PendingKind("answer", rows, finish, lambda row: _forget(engine, row))


def stored_answers(
    engine: Engine, w3: Web3, registry: Any, operator: str, access: Any, session: Session, **page: Any
) -> dict[str, Any]:
    """The answers the data room gave the signed-in grantee under `access` (newest first; one query's
    with `query_hash`), after settling any whose log was still pending."""
    if access["requester"] != session.address:
        raise CodedError(
            f"access {access['id']} was granted to {access['requester']}, not to you ({session.address})",
            code="forbidden",
        )
    settle(engine, w3, operator, [pending_answers(engine, registry)])
    where = [ANSWERS.c.access_id == access["id"], ANSWERS.c.grantee == session.address, ANSWERS.c.query_id.is_not(None)]
    query_hash = page.pop("query_hash", None)
    if query_hash is not None:
        where.append(ANSWERS.c.query_hash == query_hash)
        if _stored(engine, access["id"], query_hash, logged=False):
            raise Unavailable(f"the answer to query {query_hash} is still being logged on chain: ask again in a moment")
    size, number = page["page_size"], page["page"]
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(ANSWERS).where(*where)).scalar_one()
        rows = conn.execute(
            select(ANSWERS.c.answer)
            .where(*where)
            .order_by(ANSWERS.c.query_id.desc())
            .limit(size)
            .offset((number - 1) * size)
        ).scalars()
        items = [json.loads(a) for a in rows]
    return {"items": items, "total": total, "page": number, "page_size": size}
