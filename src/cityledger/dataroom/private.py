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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
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
    # Reserve, then commit: the lease serialises every send of the operator's key, so the budget read
    # here cannot be spent by another answer before this one's log_query is mined.
    with sender_lease(engine, operator.address):
        budget, spent = fns.privacy_budget(access_id).call()
        if query.cost_micro > budget - spent:
            raise CodedError(
                f"this answer costs epsilon {epsilon(query.cost_micro)}, but access {access_id} has "
                f"{epsilon(budget - spent)} of its budget {epsilon(budget)} left: nothing was computed or spent",
                code="budget_exceeded",
            )
        if query.hash in logged_hashes(engine, registry, access_id, fns.granted_block(access_id).call()):
            raise CodedError(
                f"query {query.hash} was already answered under access {access_id}: a replay is refused (ask with "
                "a new nonce to spend again); nothing was computed or spent",
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
            )
        except TransactionFailed as exc:  # the answer is dropped unseen: nothing leaves unlogged
            raise Unavailable(f"the data room could not log this answer on chain ({exc.reason}): retry") from None
    events = registry.events.PrivateQueryLogged().process_receipt(receipt)
    logged = events[0]["args"]
    return {
        **answer.to_json(),
        "query_id": int(logged["query_id"]),
        "access_id": access_id,
        "dataset_id": source["id"],
        "snapshot_block": snapshot_block,
        "consent_root": "0x" + tree.root.hex(),
        "subject_count": len(tree),
        "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "logged_by": operator.address.lower(),
        "budget": {
            "budget": epsilon(int(logged["budget"])),
            "spent": epsilon(int(logged["spent_total"])),
            "remaining": epsilon(int(logged["budget"]) - int(logged["spent_total"])),
            "budget_micro": int(logged["budget"]),
            "spent_micro": int(logged["spent_total"]),
            "remaining_micro": int(logged["budget"]) - int(logged["spent_total"]),
        },
    }
