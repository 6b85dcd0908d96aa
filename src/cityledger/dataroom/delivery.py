"""Releases served to their grantee: the consent-filtered release made by the existing release
logic (release/service.py) as of the index's last finalized block, logged on chain by the data
room's release operator, its snapshot published, its file kept in the store; then short-lived
download links bound to the session that asked, and a record of every delivery.

A personal dataset's raw file never leaves the store: only a release file, to its grantee.

A release is recorded as pending between signing its log and keeping it, so a crash in between is
settled from the chain afterwards (pending.py; docs/DATAROOM.md).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Connection, Engine
from web3 import Web3

from .. import codes
from ..chain.deployments import contract, load_deployment
from ..chain.tx import TransactionFailed
from ..config import Config, Network
from ..datasets.store import MetadataStore, metadata_dir
from ..errors import CityLedgerError
from ..query import queries
from ..query.errors import CodedError, NotFound, Unavailable
from ..release import service
from ..release.snapshots import document_hash
from .files import FileStore, put_file
from .models import Delivery, DownloadLink, PendingRelease, RoomRelease
from .owners import check_owner, owns
from .pending import PendingKind, settle
from .profiles import kept_profile
from .sender import sender_lease
from .sessions import Session, _hash

RELEASES, LINKS, DELIVERIES, PENDING = (
    cast(Table, m.__table__) for m in (RoomRelease, DownloadLink, Delivery, PendingRelease)
)
# What a pending release carries into its dataroom_releases row (with the release id).
RELEASE_FIELDS = (
    *("access_id", "dataset_id", "grantee", "sha256", "size", "rows_in", "rows_out"),
    *("snapshot_hash", "tx_hash", "created_at"),
)


def _not_live(access_id: int, why: str) -> CodedError:
    return CodedError(f"access {access_id} is not live ({why}): nothing is released or served", code="access_not_live")


def grantee_access(conn: Connection, access_id: int, session: Session) -> Any:
    """The access row, if the signed-in account is its grantee and it is live in the index."""
    access = conn.execute(select(queries.AC).where(queries.AC.c.id == access_id)).mappings().first()
    if access is None:
        raise NotFound(f"no access request {access_id} in the index")
    if access["requester"] != session.address:
        raise CodedError(
            f"access {access_id} was granted to {access['requester']}, not to you ({session.address})", code="forbidden"
        )
    if access["status"] != codes.ACCESS_GRANTED:
        raise _not_live(access_id, f"status {codes.ACCESS_STATUS_NAMES.get(access['status'], '?')}")
    if access["expiry"] is None or access["expiry"] <= time.time():
        raise _not_live(access_id, f"expired at {access['expiry']}")
    return access


def live_on_chain(w3: Web3, access_registry: Any, access_id: int) -> None:
    """AccessRegistry.is_live, read now: an end or expiry the index has not seen yet stops it too."""
    try:
        live = access_registry.functions.is_live(access_id).call()
    except Exception:
        raise Unavailable("the node does not answer, so the access cannot be checked: retry") from None
    if not live:
        raise _not_live(access_id, "ended, expired, or a party lost its role, on chain")


def release_source(conn: Connection, access: Any, files: FileStore) -> Any:
    """The dataset version a release is made from: the newest version of the granted one's lineage
    that the contract accepts (active, same publisher, domain and personal flag) and whose file is
    in the store. Refused (403) when the granted version's publisher did not register its bytes first
    (owners.py): its versions get no stored bytes."""
    lineage = service._lineage_forward(conn, access["dataset_id"])
    granted = lineage[access["dataset_id"]]
    check_owner(conn, granted)
    for row in sorted(lineage.values(), key=lambda r: r["id"], reverse=True):
        same = (row["publisher"], row["domain"], row["personal_data"]) == (
            granted["publisher"],
            granted["domain"],
            granted["personal_data"],
        )
        usable = same and row["status"] != codes.STATUS_WITHDRAWN and owns(conn, row)
        if usable and files.size(row["content_hash"]) is not None:
            return row
    raise NotFound(
        f"dataset {access['dataset_id']} (or a later version of it) has no file in this data room's store: "
        "its publisher stores it with `cityledger publish` or PUT /api/datasets/{id}/file"
    )


def _local_copy(files: FileStore, sha256: str, spool: Path) -> tuple[Path, bool]:
    """A path the release logic can read: the stored file itself (local), or a temporary copy (S3)."""
    path_of = getattr(files, "path_of", None)
    if path_of is not None:
        return Path(path_of(sha256)), False
    spool.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=spool, prefix=".release-source-")
    try:
        with open(fd, "wb") as fh:
            for chunk in files.read(sha256):
                fh.write(chunk)
    except BaseException:  # a store failing mid-copy leaves no partial copy behind
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), True


def make_release(
    engine: Engine,
    cfg: Config,
    network: Network,
    data_dir: Path,
    files: FileStore,
    w3: Web3,
    operator: Any,
    session: Session,
    access_id: int,
    link_ttl: int,
) -> dict[str, Any]:
    """Make, log and keep a release for the signed-in grantee of `access_id`; returns the release and
    a download link for this session."""
    from ..privacy.errors import KAnonymityRefused

    with engine.connect() as conn:
        access = grantee_access(conn, access_id, session)
        source = release_source(conn, access, files)
    deployment = load_deployment(network.chain_id, cfg)
    registry = contract(w3, deployment, "AccessRegistry", cfg)
    live_on_chain(w3, registry, access_id)
    path, temporary = _local_copy(files, source["content_hash"], Path(data_dir) / "files" / "tmp")
    try:
        with engine.connect() as conn:
            try:
                prepared = service.prepare(
                    conn,
                    access_id=access_id,
                    purpose=access["purpose"],
                    file=path,
                    rpc_timestamp=lambda n: int(w3.eth.get_block(n)["timestamp"]),
                    store=MetadataStore(metadata_dir(data_dir=Path(data_dir))),
                )
            except KAnonymityRefused as exc:
                raise CodedError(str(exc), code="release_refused") from None
            except CodedError:
                raise
            except CityLedgerError as exc:  # e.g. nobody consents: nothing to release
                raise CodedError(str(exc), code="release_refused") from None
        report = release_representativeness(data_dir, source, path, prepared)
    finally:
        if temporary:
            path.unlink(missing_ok=True)
    try:
        service.check_on_chain(w3, registry, operator, prepared)
    except CityLedgerError as exc:
        raise Unavailable(f"the data room cannot log this release: {exc}") from None
    fields = {
        "access_id": access_id,
        "dataset_id": prepared.dataset_id,
        "grantee": session.address,
        "sha256": prepared.release_hash,
        "size": len(prepared.data),
        "rows_in": prepared.rows_in,
        "rows_out": len(prepared.rows),
    }
    # One sender for the operator's key across API workers and the obligation loop (its nonce); the
    # turn also covers finishing the release, so a settle elsewhere never meets it half made.
    with sender_lease(engine, operator.address):
        settle(engine, w3, operator.address, [pending_releases(engine, registry, files, data_dir)], locked=True)
        _sweep_spool(engine, data_dir)
        with tempfile.TemporaryDirectory(dir=Path(data_dir)) as tmp:
            written, snapshot = service.write(prepared, Path(data_dir), Path(tmp) / "release.csv")
            fields["snapshot_hash"] = document_hash(snapshot)
            pending: dict[str, Any] = {}

            def record(tx_hash: str, nonce: int) -> None:
                # Before the send: a crash from here on leaves the file and this row to settle by.
                spool = Path(PENDING_DIR) / f"{tx_hash}.csv"
                (Path(data_dir) / spool).parent.mkdir(parents=True, exist_ok=True)
                written.replace(Path(data_dir) / spool)
                pending.update(fields, tx_hash=tx_hash, nonce=nonce, operator=operator.address.lower())
                pending.update(spool=str(spool), created_at=int(time.time()))
                try:
                    with engine.begin() as conn:
                        conn.execute(insert(PENDING).values(**pending))
                except BaseException:  # not recorded: nothing is sent, and the file goes
                    (Path(data_dir) / spool).unlink(missing_ok=True)
                    pending.clear()
                    raise

            try:
                release_id, _ = service.log_on_chain(w3, registry, operator, prepared, on_signed=record)
            except TransactionFailed as exc:
                if pending and (exc.receipt is not None or exc.tx_hash is None):  # reverted, or never sent
                    _drop(engine, data_dir, pending)
                raise  # not mined in time: the row stays, to settle when its receipt comes
            row = _finish(engine, files, data_dir, pending, release_id)
    with engine.begin() as conn:
        link = new_link(conn, release_id, session, link_ttl, int(row["created_at"]))
    return {
        **{k: v for k, v in row.items() if k not in ("sha256", "grantee", "created_at")},
        "snapshot_block": prepared.snapshot_block,
        "subject_count": prepared.subject_count,
        "k_anonymity": prepared.k_anonymity,
        "representativeness": report,
        "release_hash": prepared.release_hash,
        "consent_root": prepared.consent_root,
        "logged_by": operator.address.lower(),
        "link": link,
    }


PENDING_DIR = "releases-pending"  # under the data folder: release files whose log is not yet mined


def _finish(engine: Engine, files: FileStore, data_dir: Path, pending: Any, release_id: int) -> Any:
    """Keep a mined release: its file into the store, its row in (made when it was recorded), its
    pending row out (idempotent)."""
    spool = Path(data_dir) / pending["spool"]
    if spool.exists():
        put_file(files, spool, pending["sha256"])
    row = {k: pending[k] for k in RELEASE_FIELDS} | {"release_id": release_id, "created_at": pending["created_at"]}
    with engine.begin() as conn:
        if conn.execute(select(RELEASES.c.release_id).where(RELEASES.c.release_id == release_id)).first() is None:
            conn.execute(insert(RELEASES).values(**row))
        conn.execute(delete(PENDING).where(PENDING.c.tx_hash == pending["tx_hash"]))
    spool.unlink(missing_ok=True)
    return row


def _drop(engine: Engine, data_dir: Path, pending: Any) -> None:
    """Forget a release whose log failed or can never be mined: its row and its file go."""
    with engine.begin() as conn:
        conn.execute(delete(PENDING).where(PENDING.c.tx_hash == pending["tx_hash"]))
    (Path(data_dir) / pending["spool"]).unlink(missing_ok=True)


def _sweep_spool(engine: Engine, data_dir: Path) -> None:
    """Remove spooled release files that no pending row names: a process that died between moving a
    file there and recording its row (the caller holds the sending turn, under which both happen, so
    no other request is between the two)."""
    folder = Path(data_dir) / PENDING_DIR
    if not folder.is_dir():
        return
    with engine.connect() as conn:
        named = {Path(p).name for p in conn.execute(select(PENDING.c.spool)).scalars()}
    for path in folder.iterdir():
        if path.name not in named:
            path.unlink(missing_ok=True)


def pending_releases(engine: Engine, registry: Any, files: FileStore, data_dir: Path) -> PendingKind:
    """Releases whose log_release was signed and not seen mined, to settle (pending.py): mined, kept
    with the id its ReleaseLogged carries; otherwise dropped with their file."""

    def rows(operator: str) -> Sequence[Any]:
        with engine.connect() as conn:
            return conn.execute(select(PENDING).where(PENDING.c.operator == operator)).mappings().all()

    def finish(row: Any, receipt: Any) -> None:
        _finish(engine, files, data_dir, row, service.logged_release_id(registry, receipt))

    return PendingKind("release", rows, finish, lambda row: _drop(engine, data_dir, row))


def release_representativeness(data_dir: Path, source: Any, path: Path, prepared: Any) -> dict[str, Any] | None:
    """How a release's rows differ from all rows of the file (docs/PRIVACY.md section 7), for its
    grantee only: the released rows counted exactly (the grantee holds them) against the population
    profile the data room keeps at the declaration's `cl:profileEpsilon`; None without one. A column
    the k-anonymity guard generalised is not compared (its released labels are not the profile's
    categories) and is named under "not_compared"."""
    from ..privacy import load_table, parse_declaration, release_report

    declared = service.privacy_declaration(source, MetadataStore(metadata_dir(data_dir=Path(data_dir))))
    decl = parse_declaration(declared) if declared is not None else None
    if decl is None or decl.profile_epsilon is None or not decl.categorical:
        return None
    profile = kept_profile(
        data_dir, source["content_hash"], source["metadata_hash"], decl, lambda: load_table(path, decl)
    )
    report = release_report(profile, prepared.header, prepared.rows, decl).to_json()
    generalised = set(prepared.k.generalised) if prepared.k is not None else set()
    report["columns"] = [c for c in report["columns"] if c["column"] not in generalised]
    report["not_compared"] = sorted(generalised & {c.name for c in decl.categorical})
    return report


def new_link(conn: Connection, release_id: int, session: Session, ttl: int, now: int | None = None) -> dict[str, Any]:
    """A download link to a release file for this session only, valid `ttl` seconds."""
    now = int(time.time()) if now is None else now
    # Links expired a day ago go (within the day an old link still says "expired", 410).
    conn.execute(delete(LINKS).where(LINKS.c.expires_at <= now - 86400))
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(LINKS).values(
            token_hash=_hash(token),
            release_id=release_id,
            session_hash=session.id_hash,
            address=session.address,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return {"url": f"/api/releases/{release_id}/file?link={token}", "expires_at": now + ttl}


def room_release(conn: Connection, release_id: int) -> Any:
    row = conn.execute(select(RELEASES).where(RELEASES.c.release_id == release_id)).mappings().first()
    if row is None:
        raise NotFound(f"release {release_id} was not made by this data room (its file is not here)")
    return row


def link_for(conn: Connection, release_id: int, session: Session) -> dict[str, Any]:
    """A new link to a release the data room made, for its grantee, while the access is live."""
    rel = room_release(conn, release_id)
    grantee_access(conn, rel["access_id"], session)
    return rel


def check_link(conn: Connection, release_id: int, token: str | None, session: Session) -> Any:
    """The release a link opens, if it is this session's, for this release, and unexpired."""
    row = None
    if token and len(token) <= 100:
        row = conn.execute(select(LINKS).where(LINKS.c.token_hash == _hash(token))).mappings().first()
    if row is None:
        raise NotFound("no such download link: ask for a new one (POST /api/releases/{id}/links)")
    if row["session_hash"] != session.id_hash:
        raise CodedError("this download link was made for another session: ask for your own", code="forbidden")
    if row["release_id"] != release_id:
        raise CodedError(f"this download link is for release {row['release_id']}, not {release_id}", code="forbidden")
    if row["expires_at"] <= time.time():
        raise CodedError("this download link has expired: ask for a new one", code="gone")
    return room_release(conn, release_id)


def record_delivery(conn: Connection, rel: Any, recipient: str, now: int | None = None) -> int:
    """Record one serving of a release file: who, when, which release, bytes, SHA-256."""
    result = conn.execute(
        insert(DELIVERIES).values(
            release_id=rel["release_id"],
            access_id=rel["access_id"],
            dataset_id=rel["dataset_id"],
            recipient=recipient,
            delivered_at=int(time.time()) if now is None else now,
            bytes=rel["size"],
            sha256=rel["sha256"],
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row
    return int(key[0])
