"""Seed a deployed devnet with a realistic, honest demo: the organisations' public profiles,
datasets, a correction, an attestation, a synthetic citizen-level dataset declaring its
quasi-identifiers (cl:privacy) with consents (direct and EIP-712 via the relayer, one revoked, and 48
synthetic subjects' signed consents in one batch), an access request granted to the researcher with
a privacy budget, the business publisher's release operator (the relayer's account, standing in for
the data room), and two rights requests (one answered with a document, one open).

`dataroom_demo` is the demo's last act, once the stack runs (cli/up_cmds.py): the researcher signs in
to the data room, downloads an open dataset, receives its consent-filtered release and asks one
differentially private mean (its epsilon spent once from the access's budget); then
`after_release`: a citizen of the release revokes, the data room's deletion loop opens the
obligation for the recipient, and the researcher deletes the rows and confirms it on chain.

Idempotent: every step first looks on chain for what it would create (by content hash, consent
nonce, access or request fields, profile hash, obligation) and skips it if present, so seeding twice
duplicates nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from ..chain import actions
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
from ..dataroom.files import open_store
from ..datasets.metadata import DatasetInfo, canonical_json
from ..datasets.profiles import profile_document
from ..datasets.registry import attest, publish, text_hash
from ..datasets.store import MetadataStore, metadata_dir
from ..errors import CityLedgerError
from ..fingerprint import iter_rows, rows_root, sha256_file
from ..signing import grant_message, sign
from . import catalog

ADMIN, AGENCY, BUSINESS, AUDITOR, RESEARCHER, RELAYER = range(6)
YEAR = 365 * 24 * 3600
RESEARCH = purpose_hash("ScientificResearch")
MARKETING = purpose_hash("Marketing")
DEMO_BUDGET = "3"  # epsilon the researcher's private answers may spend in all
REVOKING_CITIZEN = 6  # the devnet citizen who revokes after the release (its rows must then be deleted)

# The demo's organisations (fictional; `.example` names cannot exist). The relayer's account, which
# stands in for the data room and is the business publisher's release operator, holds no role:
# CityRoles gives profiles to accredited organisations only, so it has none.
PROFILES = {
    AGENCY: dict(
        name="Northbridge Open Data Office",
        kind="agency",
        website="https://data.northbridge.example",
        contact="opendata@northbridge.example",
        jurisdiction="Northbridge (a fictional city)",
    ),
    BUSINESS: dict(
        name="Lumen Mobility Ltd",
        kind="business",
        website="https://lumen-mobility.example",
        contact="privacy@lumen-mobility.example",
        jurisdiction="Northbridge (a fictional city)",
    ),
    AUDITOR: dict(
        name="Civic Data Audit Cooperative",
        kind="auditor",
        website="https://civic-audit.example",
        contact="https://civic-audit.example/contact",
        jurisdiction="Northbridge (a fictional city)",
    ),
    RESEARCHER: dict(
        name="Northbridge Institute for Urban Research",
        kind="research institute",
        website="https://urban-research.northbridge.example",
        contact="ethics@urban-research.northbridge.example",
        jurisdiction="Northbridge (a fictional city)",
    ),
}


@dataclass
class SeedSummary:
    datasets: dict[str, int] = field(default_factory=dict)  # key -> dataset id
    created: list[str] = field(default_factory=list)  # what this run did (empty on a second run)
    consents: dict[str, str] = field(default_factory=dict)  # citizen address -> state
    signed_subjects: int = 0  # synthetic subjects whose signed consent is on chain
    access_id: int = 0
    rights_requests: list[int] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)  # organisation address -> profile hash
    operator: str = ""  # the business publisher's release operator

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
    files=None,
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
        privacy=ds.privacy,
    )
    result = publish(w3, deployment, account, path, info, store=store, files=files, cfg=cfg)
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
    _signed_subjects(w3, consents, relayer, citizen_ds, expiry, deadline, summary, log)


def _signed_subjects(w3, consents, relayer: LocalAccount, citizen_ds: int, expiry, deadline, summary, log) -> None:
    """Synthetic subjects of the citizen dataset consent to research on it by EIP-712 signatures that
    the relayer submits in one grant_batch_by_sig (a citizen needs no ether); only those never asked."""
    from eth_account import Account

    scope = _b32(citizen_ds)
    batch = []
    for i in range(catalog.SIGNING_SUBJECTS):
        subject = Account.from_key(catalog.subject_key(i))
        key = consents.functions.consent_key(subject.address, RESEARCH, SCOPE_DATASET, scope, ANY_RESEARCHER).call()
        if consents.functions.nonce_of(key).call() == 0:
            sig = _sign_grant(w3, consents, subject, RESEARCH, SCOPE_DATASET, scope, ANY_RESEARCHER, expiry, deadline)
            batch.append((subject.address, RESEARCH, SCOPE_DATASET, scope, ANY_RESEARCHER, expiry, deadline, sig))
    if batch:
        receipt = transact(w3, relayer, consents.functions.grant_batch_by_sig(batch))
        skipped = consents.events.SignedGrantSkipped().process_receipt(receipt, errors=DISCARD)
        if skipped:
            raise CityLedgerError(f"the demo's signed consents were refused: {[dict(e['args']) for e in skipped]}")
        summary.note(f"{len(batch)} synthetic subjects consented by signature (one relayed batch)", log)
    summary.signed_subjects = catalog.SIGNING_SUBJECTS


def _access(w3, deployment, accounts, citizen_ds: int, summary: SeedSummary, log, cfg=None) -> None:
    """The researcher's access to the citizen dataset, granted, with a privacy budget; the business
    publisher's release operator."""
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
    if access.functions.privacy_budget(summary.access_id).call()[0] == 0:  # never set
        actions.set_privacy_budget(w3, deployment, business, summary.access_id, DEMO_BUDGET, cfg)
        summary.note(
            f"business publisher set a privacy budget of {DEMO_BUDGET} epsilon on access {summary.access_id}", log
        )
    # The data room logs releases for the publisher with a key of its own (here the relayer's account).
    operator = accounts[RELAYER].address
    if not access.functions.is_release_operator(business.address, operator).call():
        actions.set_release_operator(w3, deployment, business, operator, True, cfg)
        summary.note(f"business publisher named {operator} its release operator", log)
    summary.operator = operator


def _profiles(w3, deployment, accounts, store: MetadataStore, summary: SeedSummary, log, cfg=None) -> None:
    """The organisations' public profiles (the admin publishes them): names instead of hex."""
    roles = contract(w3, deployment, "CityRoles", cfg)
    for index, fields in PROFILES.items():
        account = accounts[index].address
        doc = profile_document(**fields)
        digest = hashlib.sha256(canonical_json(doc)).digest()
        if roles.functions.profile_of(account).call() != digest:
            actions.set_profile(w3, deployment, accounts[ADMIN], account, doc, store, cfg)
            summary.note(f"profile of {fields['name']} ({account}) published", log)
        else:
            store.put(doc)  # the document may be missing from a new data folder: it is content-addressed
        summary.profiles[account] = "0x" + digest.hex()


def _rights(w3, deployment, accounts, citizen_ds: int, data_dir: Path, summary: SeedSummary, log, cfg=None) -> None:
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
            "# Your access request\n\nThe mobility dataset holds one row with your subject address: your home "
            "district, your average weekly trips by mode, the share of them in peak hours and your age. Its export "
            "was delivered to your wallet's encrypted inbox.\n",
        ),
        (accounts[8], "erasure", TARGET_PUBLISHER, _b32(business.address), "Please erase my mobility records.", None),
    ]
    # request() no longer returns the details hash: it is in the RightsRequestFiled event.
    existing = {}
    for ev in rights.events.RightsRequestFiled().get_logs(from_block=deployment.start_block):
        a = ev["args"]
        status = rights.functions.request(a["request_id"]).call()[5]
        existing[(a["citizen"], a["kind"], a["target_kind"], bytes(a["target"]), bytes(a["details_hash"]))] = (
            a["request_id"],
            status,
        )
    store = MetadataStore(metadata_dir(data_dir=data_dir))
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
            # The answer is a document the citizen's page fetches by its hash (GET /api/documents/...).
            actions.answer_rights_request(
                w3, deployment, business, request_id, "fulfilled", answer.encode(), store, cfg
            )
            summary.note(f"business publisher answered rights request {request_id}", log)
        elif answer:
            store.put_text(answer.encode())  # a new data folder: the answer document again (content-addressed)
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
    # The data room's file store holds every demo file: the open ones are downloadable.
    files = open_store(data_dir, cfg.dataroom.file_store if cfg is not None else "local")
    demo_dir = data_dir / "demo"
    summary = SeedSummary()
    _profiles(w3, deployment, accounts, store, summary, log, cfg)

    for ds in catalog.PUBLIC:
        summary.datasets[ds.key] = _publish(
            w3,
            deployment,
            accounts[ds.publisher],
            catalog.vega_file(ds.file),
            ds,
            store,
            summary,
            log,
            files=files,
            cfg=cfg,
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
        files=files,
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
        w3,
        deployment,
        accounts[catalog.CITIZEN.publisher],
        citizen_file,
        catalog.CITIZEN,
        store,
        summary,
        log,
        files=files,
        cfg=cfg,
    )
    summary.datasets[catalog.CITIZEN.key] = citizen_ds

    _consents(w3, deployment, accounts, citizen_ds, summary, log, cfg)
    _access(w3, deployment, accounts, citizen_ds, summary, log, cfg)
    _rights(w3, deployment, accounts, citizen_ds, data_dir, summary, log, cfg)

    if release_step is not None:
        release_step(w3, deployment, accounts, summary)
    return summary


def _attested(w3, deployment, registry, dataset_id: int) -> bool:
    logs = registry.events.AttestationAdded().get_logs(
        from_block=deployment.start_block, argument_filters={"dataset_id": dataset_id}
    )
    return bool(logs)


def after_release(
    w3: Web3,
    deployment: Deployment,
    accounts: list[LocalAccount],
    data_dir: str | Path,
    release_id: int,
    *,
    follow: Callable[[Callable[[], bool]], None],
    cfg=None,
    log: Callable[[str], None] | None = None,
) -> list[str]:
    """Revocation follows the data: a devnet citizen included in release `release_id` revokes its
    consent, `follow(opened)` lets the data room's deletion loop (dataroom/obligations.py) see it and
    open the obligation for the release's recipient (until `opened()`), and the recipient (the
    researcher) deletes the rows from its copy and confirms on chain. Idempotent; returns what it did."""
    from ..release.snapshots import read_snapshot

    done: list[str] = []
    deletion = contract(w3, deployment, "DeletionRegistry", cfg)
    consents = contract(w3, deployment, "ConsentRegistry", cfg)
    claim = actions.release_claim(w3, deployment, release_id, cfg)
    found = read_snapshot(Path(data_dir), "0x" + bytes(claim["consent_root"]).hex())
    citizen = accounts[REVOKING_CITIZEN]
    if found is None or citizen.address not in found[0]:
        return done  # not one of its subjects (or its snapshot is elsewhere): nothing to follow
    scope = _b32(int(claim["dataset_id"]))
    if consents.functions.is_active(citizen.address, RESEARCH, SCOPE_DATASET, scope, ANY_RESEARCHER).call():
        transact(w3, citizen, consents.functions.revoke(RESEARCH, SCOPE_DATASET, scope, ANY_RESEARCHER))
        done.append(f"citizen {citizen.address} revoked the consent release {release_id} relied on")
    obligation = deletion.functions.obligation_of(release_id, citizen.address).call()
    if obligation == 0:
        follow(lambda: deletion.functions.obligation_of(release_id, citizen.address).call() != 0)
        obligation = deletion.functions.obligation_of(release_id, citizen.address).call()
        if obligation == 0:
            raise CityLedgerError(
                f"the data room's deletion loop opened no obligation for {citizen.address} in release {release_id}"
            )
        done.append(
            f"the data room opened deletion obligation {obligation}: the researcher must delete the citizen's rows "
            "within 30 days"
        )
    if deletion.functions.obligation(obligation).call()[4] == 1:  # open: the recipient deletes and confirms
        evidence = _delete_rows(Path(data_dir), release_id, citizen.address)
        actions.confirm_deletions(w3, deployment, accounts[RESEARCHER], [obligation], evidence, cfg)
        done.append(f"the researcher deleted the citizen's rows and confirmed obligation {obligation} on chain")
    for text in done:
        if log:
            log(text)
    return done


# The researcher's one private answer in the demo: its epsilon is spent once (a second run shows it).
# With a representativeness report (epsilon 0.5 more): how the consenting rows differ from all rows.
DEMO_QUERY = {
    "statistic": "mean",
    "column": "trips_walk",
    "epsilon": "1",
    "representativeness": "0.5",
    "nonce": "demo: mean walking trips",
}


def _private_answer(
    api, ok: Callable[[Any], Any], w3: Web3, deployment: Deployment, access_id: int, mine: Path, cfg=None
) -> str:
    """The researcher asks the data room for a differentially private mean (docs/PRIVACY.md), once:
    when the chain shows the access's budget already spent, the answer kept in the researcher's store
    is shown instead (the noisy number is not on chain; its record and the budget are)."""
    import json

    from ..query.queries import epsilon

    kept = mine / f"private-answer-access-{access_id}.json"
    budget, spent = contract(w3, deployment, "AccessRegistry", cfg).functions.privacy_budget(access_id).call()
    if spent:
        if kept.is_file():
            return "already answered: " + _answer_words(json.loads(kept.read_text()))
        return f"already answered: access {access_id} spent epsilon {epsilon(spent)} of its budget {epsilon(budget)}"
    answer = ok(api.post(f"/api/access/{access_id}/queries", json={**DEMO_QUERY, "access_id": access_id}))
    _write_if_changed(kept, json.dumps(answer, indent=1, sort_keys=True).encode())
    return _answer_words(answer)


def _answer_words(answer: dict[str, Any]) -> str:
    group, budget = answer["groups"][0], answer["budget"]
    mean = group.get("mean")
    value = (
        "suppressed (too few rows to show)"
        if group["suppressed"] or not mean
        else f"{mean['value']:.2f}, 95 % interval {mean['low']:.2f} to {mean['high']:.2f}"
    )
    report = answer.get("representativeness") or {}
    bias = "".join(
        f"; consenting vs all rows on {c['column']}: total variation {c['total_variation']:.2f} "
        f"(95 % {c['total_variation_low']:.2f} to {c['total_variation_high']:.2f})"
        for c in report.get("columns", [])
    )
    return (
        f"private answer {answer['query_id']} (differential privacy, epsilon {answer['epsilon']}): mean "
        f"{answer['column']} {value}, over {answer['subject_count']} consenting subjects{bias}; budget: spent "
        f"{budget['spent']} of {budget['budget']}, {budget['remaining']} left (logged on chain)"
    )


def researcher_dir(data_dir: Path) -> Path:
    """Where the demo researcher keeps what the data room served it (its "analysis store")."""
    return Path(data_dir) / "demo" / "researcher"


def _delete_rows(data_dir: Path, release_id: int, subject: str) -> bytes:
    """The researcher removes a subject's rows from its copy of a release; returns the deletion log
    (its SHA-256 is the evidence on chain; it names the release and a pseudonymous address only)."""
    copy = researcher_dir(data_dir) / f"release-{release_id}.csv"
    removed = 0
    if copy.is_file():
        lines = copy.read_text().splitlines(keepends=True)
        kept = [line for line in lines if subject.lower() not in line.lower()]
        removed = len(lines) - len(kept)
        _write_if_changed(copy, "".join(kept).encode())
    return f"release {release_id}: {removed} row(s) of {subject.lower()} deleted from {copy.name}\n".encode()


def dataroom_demo(
    base: str,
    w3: Web3,
    deployment: Deployment,
    accounts: list[LocalAccount],
    data_dir: str | Path,
    summary: SeedSummary,
    *,
    follow: Callable[[Callable[[], bool]], None],
    settle: Callable[[Callable[[], bool], str], None],
    cfg=None,
) -> list[str]:
    """The data room, as a researcher uses it (the stack must be running at `base`): sign in with the
    researcher's devnet key (EIP-4361), download an open dataset (checked against its registered
    hash), receive the consent-filtered release of its access (made, logged and served by the data
    room; a delivery is recorded) and one private answer with its interval and the budget left; then
    a citizen of the release revokes, the data room's loop opens the deletion obligation (`follow`),
    the researcher deletes and confirms, and the citizen's "who used my data" shows it confirmed
    (`settle(predicate, what)` waits for the index). Idempotent: a second run signs in and downloads
    again, shows the kept private answer, and sends nothing. Returns what happened."""
    import httpx

    from ..dataroom.client import sign_in

    data_dir = Path(data_dir)
    researcher = accounts[RESEARCHER]
    mine = researcher_dir(data_dir)
    mine.mkdir(parents=True, exist_ok=True)
    said: list[str] = []
    with httpx.Client(base_url=base, timeout=60) as api:

        def ok(answer: httpx.Response) -> Any:
            if answer.status_code >= 400:
                raise CityLedgerError(f"{answer.request.method} {answer.request.url.path}: {answer.text[:300]}")
            return answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer

        session = sign_in(api, researcher)
        said.append(f"researcher signed in to the data room with its wallet (EIP-4361) as {session['address']}")

        open_id = summary.datasets[catalog.PUBLIC[0].key]
        registered = ok(api.get(f"/api/datasets/{open_id}"))["content_hash"]
        got = ok(api.get(f"/api/datasets/{open_id}/download"))
        if "0x" + hashlib.sha256(got.content).hexdigest() != registered:
            raise CityLedgerError(f"dataset {open_id} downloaded, but its bytes are not the registered ones")
        _write_if_changed(mine / f"dataset-{open_id}.csv", got.content)
        said.append(f"researcher downloaded open dataset {open_id} ({len(got.content)} bytes, SHA-256 = registered)")

        made = ok(api.get("/api/releases", params={"grantee": researcher.address}))["items"]
        made = [r for r in made if r["access_id"] == summary.access_id]
        if made:
            release_id = made[-1]["release_id"]
            said.append(f"already released: release {release_id}")
        else:
            rel = ok(api.post(f"/api/access/{summary.access_id}/releases", json={}))
            release_id = rel["release_id"]
            served = ok(api.get(rel["link"]["url"]))
            _write_if_changed(mine / f"release-{release_id}.csv", served.content)
            said.append(
                f"release {release_id}: {rel['rows_out']} of {rel['rows_in']} rows, {rel['subject_count']} consenting "
                f"subjects, k = {rel['k_anonymity']}, logged by the data room's operator and served to the researcher "
                "(delivery recorded)"
            )
        said.append(_private_answer(api, ok, w3, deployment, summary.access_id, mine, cfg))
    said += after_release(w3, deployment, accounts, data_dir, release_id, follow=follow, cfg=cfg)
    citizen = accounts[REVOKING_CITIZEN].address.lower()

    def confirmed() -> bool:
        used = httpx.get(f"{base}/api/citizens/{citizen}/used", timeout=10).json().get("items", [])
        row = next((u for u in used if u["release_id"] == release_id), None)
        return bool(row and row["deletion"] and row["deletion"]["status"].startswith("confirmed"))

    settle(confirmed, f"citizen {citizen}'s who-used-my-data to show the deletion confirmed")
    said.append(f'citizen {citizen}\'s "who used my data": release {release_id}, deletion requested and confirmed')
    return said
