"""Chain facts: what a derived description takes from the chain rather than from the registered
document (which cannot contain them: the contract assigns the id, the block dates the registration).

The API builds them from its index rows (`facts_from_rows`), the CLI from the chain (`chain_facts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from web3 import Web3

from ..chain.deployments import Deployment, contract
from ..codes import KIND_AGENCY, KIND_BUSINESS, STATUS_WITHDRAWN
from ..datasets.registry import dataset_record, registry, verify_hash
from ..errors import CityLedgerError


@dataclass(frozen=True)
class ChainFacts:
    """One registered version as the chain records it. Hashes are 0x hex, times unix seconds."""

    dataset_id: int
    publisher: str
    content_hash: str
    metadata_hash: str
    metadata_uri: str
    registered_at: int  # time of the registration block: dct:issued
    version: int = 1
    domain: int | None = None  # the registered domain code
    personal_data: bool = False
    supersedes: int = 0
    successor: int = 0
    lineage: int = 0  # id of the lineage's first version (0: unknown)
    latest: int = 0  # the lineage's newest version, when known (0: unknown)
    withdrawn_at: int | None = None
    chain_id: int | None = None
    registered_block: int | None = None
    registered_tx: str | None = None
    publisher_kind: str | None = None  # "agency" | "business", from CityRoles

    @property
    def status(self) -> str:
        """withdrawn, superseded or active (a superseded version stays registered and verifiable)."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "superseded" if self.successor else "active"

    @property
    def modified_at(self) -> int:
        """The last change of this version's on-chain record (its withdrawal, else its registration)."""
        return max(self.registered_at, self.withdrawn_at or 0)

    @property
    def root(self) -> int | None:
        """The lineage's first version: known, or this version when it supersedes nothing."""
        return self.lineage or (None if self.supersedes else self.dataset_id)


@dataclass(frozen=True)
class Publisher:
    """What the organisation registry knows of a publisher's address (citizens are never publishers)."""

    name: str
    email: str | None = None
    homepage: str | None = None
    kind: str | None = None  # "agency" | "business"


# address -> the publisher's name (or a Publisher), or None when the registry has none.
PublisherLookup = Callable[[str], "Publisher | str | None"]
KINDS = {KIND_AGENCY: "agency", KIND_BUSINESS: "business"}


def facts_from_rows(rows: Iterable[Mapping], chain_id: int | None = None) -> list[ChainFacts]:
    """ChainFacts of index rows (the indexer's `datasets` table, as the API reads them). Lineage and
    latest version are followed through supersedes/successor among the rows given, so pass a whole
    lineage (the API's versions query) to get them; alone, a row gives what it holds."""
    rows = list(rows)
    by_id = {int(r["id"]): r for r in rows}

    def follow(did: int, key: str) -> tuple[int, bool]:
        # (last id reached along `key`, whether that is the end of the line rather than a missing row)
        seen = {did}
        while True:
            nxt = int(by_id[did][key] or 0)
            if not nxt or nxt not in by_id or nxt in seen:
                return did, not nxt
            did = nxt
            seen.add(did)

    out = []
    for r in rows:
        did = int(r["id"])
        first, first_known = follow(did, "supersedes")
        last, last_known = follow(did, "successor")
        out.append(
            ChainFacts(
                dataset_id=did,
                publisher=r["publisher"],
                content_hash=r["content_hash"],
                metadata_hash=r["metadata_hash"],
                metadata_uri=r["metadata_uri"],
                registered_at=int(r["registered_at"]),
                version=int(r["version"]),
                domain=int(r["domain"]),
                personal_data=bool(r["personal_data"]),
                supersedes=int(r["supersedes"] or 0),
                successor=int(r["successor"] or 0),
                lineage=first if first_known else 0,
                latest=last if last_known else 0,
                withdrawn_at=int(r["withdrawn_at"]) if r.get("withdrawn_at") is not None else None,
                chain_id=chain_id,
                registered_block=r.get("registered_block"),
                registered_tx=r.get("registered_tx"),
            )
        )
    return out


def chain_facts(w3: Web3, deployment: Deployment, dataset_id: int, cfg=None) -> ChainFacts:
    """The facts of one version read from the chain (the record, its registration and withdrawal
    events, its lineage and its publisher's kind), through the lookups `cityledger verify` uses."""
    rec = dataset_record(w3, deployment, dataset_id, cfg)
    v = verify_hash(w3, deployment, rec["content_hash"], cfg).of(int(dataset_id))
    if v is None:  # a record without its DatasetRegistered event: not this chain's
        raise CityLedgerError(f"dataset {dataset_id} has no registration event on this chain")
    reg = registry(w3, deployment, cfg)
    withdrawn_at = None
    if rec["status"] == STATUS_WITHDRAWN:
        logs = reg.events.DatasetWithdrawn().get_logs(
            from_block=deployment.start_block, argument_filters={"dataset_id": int(dataset_id)}
        )
        if logs:
            withdrawn_at = w3.eth.get_block(logs[0]["blockNumber"])["timestamp"]
    lineage = reg.functions.lineage_of(int(dataset_id)).call()
    kind = contract(w3, deployment, "CityRoles", cfg).functions.publisher_kind(rec["publisher"]).call()
    return ChainFacts(
        dataset_id=int(dataset_id),
        publisher=rec["publisher"],
        content_hash="0x" + bytes(rec["content_hash"]).hex(),
        metadata_hash=v.metadata_hash or "",
        metadata_uri=v.metadata_uri or "",
        registered_at=int(v.timestamp or 0),
        version=int(rec["version"]),
        domain=int(rec["domain"]),
        personal_data=bool(rec["personal_data"]),
        supersedes=int(rec["supersedes"]),
        successor=int(rec["successor"]),
        lineage=int(lineage),
        latest=v.latest,
        withdrawn_at=withdrawn_at,
        chain_id=w3.eth.chain_id,
        registered_block=v.block,
        registered_tx=v.tx_hash,
        publisher_kind=KINDS.get(kind),
    )
