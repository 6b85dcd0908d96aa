"""Seed a deployed devnet with a realistic, honest demo: datasets, a correction, an attestation,
a synthetic citizen-level dataset with consents (direct and EIP-712 via the relayer, one revoked),
an access request granted to the researcher, and two rights requests (one answered, one open).

Idempotent: every step first looks on chain for what it would create (by content hash, consent
nonce, access or request fields) and skips it if present, so seeding twice duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ..chain.deployments import Deployment, contract
from ..chain.tx import transact
from ..codes import (
    ANY_RESEARCHER,
    DOMAINS,
    RIGHTS_KINDS,
    SCOPE_DATASET,
    SCOPE_DOMAIN,
    SCOPE_PUBLISHER,
    TARGET_DATASET,
    TARGET_PUBLISHER,
    purpose_hash,
)
from ..datasets.metadata import DatasetInfo
from ..datasets.registry import attest, publish, text_hash
from ..datasets.store import MetadataStore, metadata_dir
from ..fingerprint import iter_rows, rows_root, sha256_file
from ..signing import grant_message, sign
from . import catalog

ADMIN, AGENCY, BUSINESS, AUDITOR, RESEARCHER, RELAYER = range(6)
YEAR = 365 * 24 * 3600
RESEARCH = purpose_hash("ScientificResearch")
MARKETING = purpose_hash("Marketing")


@dataclass
class SeedSummary:
    datasets: dict[str, int] = field(default_factory=dict)  # key -> dataset id
    created: list[str] = field(default_factory=list)  # what this run did (empty on a second run)
    consents: dict[str, str] = field(default_factory=dict)  # citizen address -> state
    access_id: int = 0
    rights_requests: list[int] = field(default_factory=list)

    def note(self, text: str, log: Callable[[str], None] | None) -> None:
        self.created.append(text)
        if log:
            log(text)


def _b32(value: int | str) -> bytes:
    if isinstance(value, str):  # an address, left-padded
        return bytes(12) + bytes.fromhex(value[2:])
    return int(value).to_bytes(32, "big")


def _write_if_changed(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)
    return path


def _publish(
    w3,
    deployment,
    account,
    path,
    ds: catalog.DemoDataset,
    store,
    summary,
    log,
    *,
    supersedes=0,
    description=None,
    cfg=None,
) -> int:
    info = DatasetInfo(
        title=ds.title + (" (version 2)" if supersedes else ""),
        domain=ds.domain,
        publisher=account.address,
        description=description or ds.description,
        license=ds.license,
        coverage=ds.coverage,
        personal_data=ds.personal_data,
        supersedes=supersedes,
        keywords=list(ds.keywords),
        source=ds.source,
    )
    result = publish(w3, deployment, account, path, info, store=store, cfg=cfg)
    if not result.already_registered:
        summary.note(f"published {path.name} as dataset {result.dataset_id} ({ds.domain})", log)
    return result.dataset_id


def _quality_report(path: Path) -> bytes:
    """An auditor's actual checks of a table: row count, columns, empty values, its root."""
    fp = rows_root(path)
    names, rows = iter_rows(path)
    empty = dict.fromkeys(names, 0)
    dates = []
    for row in rows:
        for k, v in row.items():
            if v == "":
                empty[k] += 1
        dates.append(row.get("date", ""))
    lines = [
        "CityLedger demo auditor: quality check",
        f"file: {path.name}",
        f"sha256: {sha256_file(path).hex()}",
        f"rows: {fp.count}; rows Merkle root: 0x{fp.root.hex()}",
        f"columns: {', '.join(names)}",
        "empty values per column: " + ", ".join(f"{k}={v}" for k, v in empty.items()),
        f"date range: {min(dates)} .. {max(dates)}; distinct dates: {len(set(dates))}"
        f" (no duplicates: {len(set(dates)) == fp.count})",
        "finding: complete daily series, ISO 8601 dates, no missing values.",
    ]
    return ("\n".join(lines) + "\n").encode()


def _sign_grant(w3, consents, citizen: LocalAccount, purpose, scope_kind, scope_id, grantee, expiry, deadline):
    key = consents.functions.consent_key(citizen.address, purpose, scope_kind, scope_id, grantee).call()
    nonce = consents.functions.nonce_of(key).call()
    message = grant_message(citizen.address, purpose, scope_kind, scope_id, grantee, expiry, nonce, deadline)
    return sign(citizen, w3.eth.chain_id, consents.address, message)  # as the citizen's wallet would


def _consents(w3, deployment, accounts, citizen_ds: int, summary: SeedSummary, log, cfg=None) -> None:
    consents = contract(w3, deployment, "ConsentRegistry", cfg)
    now = w3.eth.get_block("latest")["timestamp"]
    expiry, deadline = now + YEAR, now + 3600
    business = accounts[BUSINESS].address
    researcher = accounts[RESEARCHER].address
    relayer = accounts[RELAYER]
    c6, c7, c8, c9 = (accounts[i] for i in range(6, 10))
    # (citizen, purpose, scope kind, scope id, grantee, how, then revoke?)
    plan = [
        (c6, RESEARCH, SCOPE_DATASET, _b32(citizen_ds), ANY_RESEARCHER, "direct", False),
        (c7, RESEARCH, SCOPE_PUBLISHER, _b32(business), researcher, "signature", False),
        (c8, RESEARCH, SCOPE_DOMAIN, _b32(DOMAINS["transport"]), ANY_RESEARCHER, "signature", False),
        (c8, MARKETING, SCOPE_DATASET, _b32(citizen_ds), ANY_RESEARCHER, "direct", False),
        (c9, RESEARCH, SCOPE_DATASET, _b32(citizen_ds), ANY_RESEARCHER, "signature", True),
    ]
    for citizen, purpose, kind, scope_id, grantee, how, revoke in plan:
        key = consents.functions.consent_key(citizen.address, purpose, kind, scope_id, grantee).call()
        label = f"citizen {citizen.address} {'research' if purpose == RESEARCH else 'marketing'} consent"
        if consents.functions.nonce_of(key).call() == 0:  # never granted nor revoked: do it now
            if how == "direct":
                transact(w3, citizen, consents.functions.grant(purpose, kind, scope_id, grantee, expiry))
            else:
                sig = _sign_grant(w3, consents, citizen, purpose, kind, scope_id, grantee, expiry, deadline)
                transact(
                    w3,
                    relayer,
                    consents.functions.grant_by_sig(
                        citizen.address, purpose, kind, scope_id, grantee, expiry, deadline, sig
                    ),
                )
            summary.note(f"{label} granted ({how})", log)
            if revoke:
                transact(w3, citizen, consents.functions.revoke(purpose, kind, scope_id, grantee))
                summary.note(f"{label} revoked", log)
        active = consents.functions.is_active(citizen.address, purpose, kind, scope_id, grantee).call()
        if purpose == RESEARCH:
            summary.consents[citizen.address] = "active" if active else "revoked"


def _access(w3, deployment, accounts, citizen_ds: int, summary: SeedSummary, log, cfg=None) -> None:
    access = contract(w3, deployment, "AccessRegistry", cfg)
    researcher, business = accounts[RESEARCHER], accounts[BUSINESS]
    for i in range(1, access.functions.access_count().call() + 1):
        dataset_id, requester, purpose, status, _ = access.functions.access(i).call()
        if (dataset_id, requester, purpose) == (citizen_ds, researcher.address, RESEARCH):
            summary.access_id = i
            break
    else:
        terms = text_hash("Demo terms: mobility study, aggregate results only, delete raw data after 180 days.")
        receipt = transact(w3, researcher, access.functions.request_access(citizen_ds, RESEARCH, terms))
        summary.access_id = access.events.AccessRequested().process_receipt(receipt)[0]["args"]["access_id"]
        summary.note(f"researcher requested access {summary.access_id} to dataset {citizen_ds}", log)
        status = 1
    if status == 1:  # requested: the business publisher grants it for 180 days
        now = w3.eth.get_block("latest")["timestamp"]
        transact(w3, business, access.functions.grant_access(summary.access_id, now + 180 * 24 * 3600))
        summary.note(f"business publisher granted access {summary.access_id}", log)


def _rights(w3, deployment, accounts, citizen_ds: int, summary: SeedSummary, log, cfg=None) -> None:
    rights = contract(w3, deployment, "RightsRegistry", cfg)
    business = accounts[BUSINESS]
    wanted = [
        # (citizen, kind, target kind, target, details, answer text or None = stays open)
        (
            accounts[7],
            "access",
            TARGET_DATASET,
            _b32(citizen_ds),
            "Which rows about me does the mobility dataset hold?",
            "Export of the one row with your subject address delivered to your wallet's encrypted inbox.",
        ),
        (accounts[8], "erasure", TARGET_PUBLISHER, _b32(business.address), "Please erase my mobility records.", None),
    ]
    existing = {}
    for i in range(1, rights.functions.request_count().call() + 1):
        citizen, _, kind, target_kind, target, details, status, _ = rights.functions.request(i).call()
        existing[(citizen, kind, target_kind, target, details)] = (i, status)
    for citizen, kind, target_kind, target, details, answer in wanted:
        k = (citizen.address, RIGHTS_KINDS[kind], target_kind, target, text_hash(details))
        if k in existing:
            request_id, status = existing[k]
        else:
            receipt = transact(
                w3, citizen, rights.functions.file_request(RIGHTS_KINDS[kind], target_kind, target, text_hash(details))
            )
            request_id = rights.events.RightsRequestFiled().process_receipt(receipt)[0]["args"]["request_id"]
            status = 1
            summary.note(f"citizen {citizen.address} filed rights request {request_id} ({kind})", log)
        if answer and status == 1:
            transact(w3, business, rights.functions.answer_request(request_id, True, text_hash(answer)))
            summary.note(f"business publisher answered rights request {request_id}", log)
        summary.rights_requests.append(request_id)


def seed_demo(
    w3: Web3,
    deployment: Deployment,
    accounts: list[LocalAccount],
    data_dir: str | Path,
    *,
    cfg=None,
    log: Callable[[str], None] | None = None,
    release_step: Callable[[Web3, Deployment, list[LocalAccount], SeedSummary], None] | None = None,
) -> SeedSummary:
    """Seed the demo (idempotent). Files generated for it go to `<data_dir>/demo/`, metadata to the
    store (`<data_dir>/metadata` unless CITYLEDGER_METADATA_DIR says otherwise).

    RELEASE STEP: `release_step(w3, deployment, accounts, summary)` runs last, once the researcher's
    access to the citizen dataset (summary.access_id, summary.datasets["citizen-mobility"]) is live
    and consents are in place: the place for the consent-filtered release (api/release service)."""
    data_dir = Path(data_dir)
    store = MetadataStore(metadata_dir(data_dir=data_dir))
    demo_dir = data_dir / "demo"
    summary = SeedSummary()

    for ds in catalog.PUBLIC:
        summary.datasets[ds.key] = _publish(
            w3, deployment, accounts[ds.publisher], catalog.vega_file(ds.file), ds, store, summary, log, cfg=cfg
        )

    # A correction: seattle-weather re-saved with ISO dates supersedes the first version.
    v2 = _write_if_changed(demo_dir / "seattle-weather-v2.csv", catalog.seattle_v2_bytes())
    summary.datasets["seattle-weather-v2"] = _publish(
        w3,
        deployment,
        accounts[AGENCY],
        v2,
        catalog.PUBLIC[0],
        store,
        summary,
        log,
        supersedes=summary.datasets["seattle-weather"],
        description=catalog.SEATTLE_V2_DESCRIPTION,
        cfg=cfg,
    )

    # The auditor checks the corrected version (once).
    registry = contract(w3, deployment, "DatasetRegistry", cfg)
    report = _write_if_changed(demo_dir / "reports" / "seattle-weather-v2-quality.txt", _quality_report(v2))
    if not _attested(w3, deployment, registry, summary.datasets["seattle-weather-v2"]):
        result = attest(
            w3, deployment, accounts[AUDITOR], summary.datasets["seattle-weather-v2"], "quality", report, cfg=cfg
        )
        summary.note(f"auditor attested quality of dataset {result['dataset_id']}", log)

    citizens = [accounts[i].address for i in range(6, 10)]
    citizen_file = _write_if_changed(demo_dir / "citizen-mobility-synthetic.csv", catalog.citizen_bytes(citizens))
    citizen_ds = _publish(
        w3, deployment, accounts[catalog.CITIZEN.publisher], citizen_file, catalog.CITIZEN, store, summary, log, cfg=cfg
    )
    summary.datasets[catalog.CITIZEN.key] = citizen_ds

    _consents(w3, deployment, accounts, citizen_ds, summary, log, cfg)
    _access(w3, deployment, accounts, citizen_ds, summary, log, cfg)
    _rights(w3, deployment, accounts, citizen_ds, summary, log, cfg)

    if release_step is not None:
        release_step(w3, deployment, accounts, summary)
    return summary


def _attested(w3, deployment, registry, dataset_id: int) -> bool:
    logs = registry.events.AttestationAdded().get_logs(
        from_block=deployment.start_block, argument_filters={"dataset_id": dataset_id}
    )
    return bool(logs)
