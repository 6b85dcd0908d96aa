"""Revocation follows the data: the loop that opens deletion obligations (docs/DATAROOM.md).

Driven by the index, in one process (`cityledger dataroom serve-obligations`, which `cityledger up`
starts): for every logged release whose consent snapshot is published here, each subject in it for
whom the release's use is no longer covered (the consent it relied on was revoked or expired, the
dataset was withdrawn, the grantee lost the role a consent to "any researcher" needs), or who filed
an erasure or objection request against the release's publisher or dataset (not withdrawn nor
rejected), gets one obligation on chain: `DeletionRegistry.request_deletion` with the subject's
Merkle proof from the snapshot, naming the release's recipient, due in 30 days.

Idempotent and crash-safe: a (release, subject) with an obligation in the index is skipped, and the
chain's `obligation_of` is read before anything is sent, so a pass that died after sending and
before the index saw it sends nothing twice. Sends go through the operator's sender lease.
Anyone may ask once the consent no longer covers the use; after an erasure or objection with the
consent still in force only the subject, the publisher or its operator may: a data room that the
publisher did not name its operator leaves those to the publisher (reported, not retried in a loop).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from web3 import Web3

from .. import codes
from ..chain import actions
from ..chain.deployments import Deployment, contract
from ..config import Config
from ..errors import CityLedgerError
from ..fingerprint.consent_tree import ConsentTree
from ..query import queries
from ..release.snapshots import read_snapshot
from .pending import settle
from .sender import sender_lease

log = logging.getLogger("cityledger.dataroom")

FOLLOWED_RIGHTS = (codes.RIGHTS_KINDS["erasure"], codes.RIGHTS_KINDS["objection"])
ZERO_ROOT = "0x" + "00" * 32


@dataclass(frozen=True)
class Due:
    """A subject of a release whose rows must be deleted by the release's recipient, and why."""

    release_id: int
    subject: str
    reason: str
    tree: ConsentTree = field(repr=False, compare=False)


def _rights_subjects(conn: Connection, publisher: str, dataset_id: int) -> dict[str, str]:
    """Subjects with an erasure or objection request (not withdrawn nor rejected) against the
    publisher or the dataset: subject -> the reason."""
    rr = queries.RR
    target_dataset = "0x" + dataset_id.to_bytes(32, "big").hex()
    target_publisher = "0x" + bytes.fromhex(publisher[2:]).rjust(32, b"\0").hex()
    rows = conn.execute(
        select(rr.c.id, rr.c.citizen, rr.c.kind).where(
            rr.c.kind.in_(FOLLOWED_RIGHTS),
            rr.c.status.not_in((codes.RIGHTS_WITHDRAWN, codes.RIGHTS_REJECTED)),
            (
                ((rr.c.target_kind == codes.TARGET_DATASET) & (rr.c.target == target_dataset))
                | ((rr.c.target_kind == codes.TARGET_PUBLISHER) & (rr.c.target == target_publisher))
            ),
        )
    ).all()
    return {citizen: f"{codes.RIGHTS_KIND_NAMES[kind]} request {rid}" for rid, citizen, kind in rows}


def due_deletions(conn: Connection, data_dir: Path) -> Iterator[Due]:
    """Every (release, subject) that needs an obligation and has none in the index yet."""
    cp = queries.checkpoint(conn)
    if cp is None:
        return  # nothing indexed yet
    block = cp["block_number"]
    now = queries.now_ts(conn)
    releases = conn.execute(select(queries.R).where(queries.R.c.consent_root != ZERO_ROOT)).mappings().all()
    for rel in releases:
        try:
            found = read_snapshot(Path(data_dir), rel["consent_root"])
        except CityLedgerError as exc:
            log.warning("release %s: its snapshot is not usable (%s)", rel["id"], exc)
            continue
        if found is None:
            continue  # published elsewhere: another data room (or the publisher) follows it
        tree = found[0]
        ds = conn.execute(select(queries.D).where(queries.D.c.id == rel["dataset_id"])).mappings().first()
        if ds is None:
            continue
        withdrawn = ds["status"] == codes.STATUS_WITHDRAWN
        covered = (
            set()
            if withdrawn
            else queries.consenting_citizens(
                conn, dataset_row=ds, purpose=rel["purpose"], grantee=rel["grantee"], block=block, now=now
            )
        )
        rights = _rights_subjects(conn, ds["publisher"], ds["id"])
        done = set(conn.execute(select(queries.DO.c.subject).where(queries.DO.c.release_id == rel["id"])).scalars())
        for subject in map(str.lower, tree.values):  # the index keeps addresses lowercase
            if subject in done:
                continue
            if subject not in covered:
                reason = "the dataset was withdrawn" if withdrawn else "the consent no longer covers the use"
            elif subject in rights:
                reason = rights[subject]
            else:
                continue
            yield Due(rel["id"], subject, reason, tree)


@dataclass
class PassResult:
    opened: list[dict[str, Any]] = field(default_factory=list)
    already: int = 0  # on chain, not yet in the index
    refused: list[str] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=dict)  # pending releases and answers settled (pending.py)


def follow_once(
    engine: Engine,
    w3: Web3,
    deployment: Deployment,
    operator: Any,
    data_dir: Path,
    cfg: Config | None = None,
    refused_before: set[tuple[int, str]] | None = None,
) -> PassResult:
    """One pass: settle the releases and answers a crash left half made, then open every due
    obligation (see the module's docstring)."""
    result = PassResult()
    try:
        result.pending = _settle(engine, w3, deployment, operator, data_dir, cfg)
    except Exception as exc:  # the obligations below do not wait for it: retried on the next pass
        log.warning("pending releases and answers not settled this pass: %s", exc)
    with engine.connect() as conn:
        due = list(due_deletions(conn, data_dir))
    if not due:
        return result
    deletion = contract(w3, deployment, "DeletionRegistry", cfg)
    for item in due:
        key = (item.release_id, item.subject)
        if refused_before is not None and key in refused_before:
            continue
        subject = Web3.to_checksum_address(item.subject)
        if deletion.functions.obligation_of(item.release_id, subject).call():
            result.already += 1  # sent before (this pass's crash, or another watchdog): never twice
            continue
        try:
            with sender_lease(engine, operator.address):
                opened = actions.request_deletion(w3, deployment, operator, item.release_id, subject, item.tree, cfg)
        except CityLedgerError as exc:
            result.refused.append(f"release {item.release_id}, subject {item.subject} ({item.reason}): {exc}")
            if refused_before is not None:
                refused_before.add(key)
            continue
        opened["reason"] = item.reason
        result.opened.append(opened)
        log.info(
            "deletion obligation %s opened: release %s, subject %s (%s)",
            opened["obligation_id"],
            item.release_id,
            item.subject,
            item.reason,
        )
    return result


def _settle(
    engine: Engine, w3: Web3, deployment: Deployment, operator: Any, data_dir: Path, cfg: Config | None
) -> dict[str, int]:
    """A release or a private answer whose log was sent just before the API died is kept or dropped
    here, within a pass of the restart (pending.py), not only when its grantee asks again."""
    from .delivery import pending_releases
    from .files import open_store
    from .private import pending_answers

    files = open_store(data_dir, cfg.dataroom.file_store if cfg else "local")
    registry = contract(w3, deployment, "AccessRegistry", cfg)
    kinds = [pending_releases(engine, registry, files, data_dir), pending_answers(engine, registry)]
    done = settle(engine, w3, operator.address, kinds)
    if done["made"] or done["dropped"]:
        log.info("pending logs: %d kept, %d dropped, %d waiting", done["made"], done["dropped"], done["waiting"])
    return done


def serve(
    engine: Engine,
    w3: Web3,
    deployment: Deployment,
    operator: Any,
    data_dir: Path,
    cfg: Config | None = None,
    interval: float = 5.0,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Follow the index until stopped: a pass every `interval` seconds. A node or store that does
    not answer is logged and retried on the next pass; a request the chain refuses is reported once."""
    refused: set[tuple[int, str]] = set()
    while not stop():
        try:
            res = follow_once(engine, w3, deployment, operator, data_dir, cfg, refused)
            for line in res.refused:
                log.warning("deletion obligation not opened: %s", line)
        except Exception as exc:  # the loop outlives a node or store outage
            log.warning("deletion pass failed (retrying in %gs): %s", interval, exc)
        time.sleep(interval)
