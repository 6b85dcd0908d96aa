"""A consent's dates and submitters, its history and its receipt (ISO/IEC TS 27560, DPV, JSON-LD),
against the seeded store (conftest.py), and the receipt check: every on-chain fact tampered one by
one is INVALID with its field; a receipt older than the consent's last change is OUTDATED."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import rdflib

from cityledger.query.receipts import (
    ANCHOR_FACTS,
    EVENT_FACTS,
    IDENTITY_FACTS,
    MISSING,
    check_receipt,
    consent_changes,
    fact,
)

from .conftest import C1, C3, C4, P1, addr, ts_of

RELAYER = addr(0x5E1A)
DPV = rdflib.Namespace("https://w3id.org/dpv#")


def test_each_change_names_its_own_submitter(client):
    """C3 granted by their own transaction; the relayer submitted the revocation on C3's signature.
    The answer used to carry only `submitted_by` (the relayer), shown as if it had made the grant."""
    (c3,) = client.get(f"/api/citizens/{C3}/consents").json()["items"]
    assert c3["state"] == "revoked"
    assert (c3["granted_by"], c3["granted_at"], c3["granted_block"]) == (C3, ts_of(12), 12)
    assert (c3["revoked_by"], c3["revoked_at"], c3["revoked_block"]) == (RELAYER, ts_of(20), 20)
    assert c3["valid_until"] > ts_of(40) and c3["expiry"] == 0  # the grant's end survives the revocation
    assert c3["first_granted_at"] == ts_of(12) and c3["granted_tx"] and c3["revoked_tx"]
    (c1,) = client.get(f"/api/citizens/{C1}/consents").json()["items"]
    assert c1["granted_by"] == C1 and c1["revoked_by"] is None and c1["revoked_at"] is None
    # As of a block before the revocation, the same consent is active and unrevoked.
    (then,) = client.get(f"/api/citizens/{C3}/consents", params={"as_of_block": 15}).json()["items"]
    assert then["state"] == "active" and then["granted_by"] == C3 and then["revoked_by"] is None


def test_history_lists_every_change_with_its_submitter(client, seeded):
    h = client.get(f"/api/consents/{seeded.keys[C3]}/history").json()
    assert (h["citizen"], h["purpose_name"], h["scope_kind"], h["state"]) == (
        C3,
        "ScientificResearch",
        "domain",
        "revoked",
    )
    assert [(c["change"], c["submitted_by"], c["by_relayer"], c["block_number"]) for c in h["items"]] == [
        ("granted", C3, False, 12),
        ("revoked", RELAYER, True, 20),
    ]
    assert h["status"] == "dpv:ConsentWithdrawn" and h["total"] == 2 and h["as_of_block"] == 40
    # Expiry is not an event on chain: it is listed at the grant's expiry, without a transaction.
    h4 = client.get(f"/api/consents/{seeded.keys[C4]}/history").json()
    assert [(c["change"], c["at"], c["tx_hash"]) for c in h4["items"]][1] == ("expired", ts_of(29), None)
    assert h4["state"] == "expired" and h4["status"] == "dpv:ConsentExpired"
    page = client.get(f"/api/consents/{seeded.keys[C3]}/history", params={"page_size": 1, "page": 2}).json()
    assert [c["change"] for c in page["items"]] == ["revoked"] and page["total"] == 2


def test_history_and_receipt_refuse_unknown_and_malformed_keys(client):
    for route in ("history", "receipt"):
        r = client.get(f"/api/consents/0x{'ab' * 32}/{route}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
        r = client.get(f"/api/consents/0x12/{route}")
        assert r.status_code == 400 and "key must be 0x followed by 64 hex digits" in r.json()["error"]["message"]


def test_changes_name_renewals_and_expiries_in_order():
    def ev(t, action, expiry=0, nonce=1, by=C1):
        return {"timestamp": t, "block_number": t, "log_index": 0, "tx_hash": f"0x{t:064x}", "action": action,
                "citizen": C1, "expiry": expiry, "nonce": nonce, "submitted_by": by}  # fmt: skip

    events = [
        ev(10, "grant", 100, 1),
        ev(50, "grant", 200, 2, RELAYER),
        ev(300, "grant", 400, 3),
        ev(310, "revoke", 0, 4),
    ]
    changes = consent_changes(events, now=500)
    assert [(c["change"], c["at"]) for c in changes] == [
        ("granted", 10),
        ("renewed", 50),  # still in force at 50: a renewal (dpv:RenewedConsentGiven)
        ("expired", 200),  # lapsed before the next grant
        ("granted", 300),
        ("revoked", 310),
    ]
    assert changes[1]["status"] == "dpv:RenewedConsentGiven" and changes[1]["by_relayer"] is True
    # A grant in force at `now` has not expired; at its expiry exactly it has (block.timestamp < expiry).
    assert [c["change"] for c in consent_changes(events[:1], now=99)] == ["granted"]
    assert [c["change"] for c in consent_changes(events[:1], now=100)] == ["granted", "expired"]


def receipt(client, key) -> dict:
    r = client.get(f"/api/consents/{key}/receipt")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/ld+json"
    assert r.headers["content-disposition"].startswith('attachment; filename="consent-receipt-')
    return r.json()


@pytest.mark.parametrize(
    ("who", "status"), [(C1, DPV.ConsentGiven), (C3, DPV.ConsentWithdrawn), (C4, DPV.ConsentExpired)]
)
def test_receipt_is_json_ld_with_dpv_terms_and_27560_sections(client, seeded, who, status):
    doc = receipt(client, seeded.keys[who])
    g = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    record = rdflib.URIRef(doc["@id"])
    assert (record, rdflib.RDF.type, DPV.ConsentRecord) in g
    assert (record, DPV.hasConsentStatus, status) in g
    assert (record, DPV.hasLegalBasis, DPV.Consent) in g
    assert (record, DPV.hasPurpose, DPV.ScientificResearch if who != C4 else DPV.Marketing) in g
    # The 27560 sections, and the chain the record is tied to.
    assert {"header", "dataSubject", "processing", "parties", "events", "status", "chain"} <= set(doc)
    assert doc["chain"]["consentKey"] == doc["header"]["recordId"] == seeded.keys[who]
    assert doc["chain"]["chainId"] == 31337 and doc["chain"]["contract"] == addr(3)  # the checkpoint's
    assert doc["dataSubject"]["address"] == who  # the pseudonym, nothing else about the person
    # Kantara Consent Receipt v1.1 fields that 27560 covers.
    k = doc["kantara"]
    assert (
        k["version"] == "KI-CR-v1.1.0"
        and k["piiPrincipalId"] == who
        and k["consentReceiptID"] == doc["header"]["receiptId"]
    )
    assert {
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "language",
        "piiControllers",
        "services",
        "sensitive",
    } <= set(k)


def test_receipt_states_the_consent_in_words(client, seeded):
    c1 = receipt(client, seeded.keys[C1])
    assert c1["summary"].startswith(
        "Any accredited researcher may use your data in 'Clinic visits (version 2)' (dataset #2) "
        "for scientific research until "
    )
    assert c1["summary"].endswith("You can revoke at any time, free of charge.")
    assert c1["parties"]["controllers"][0]["address"] == P1  # the dataset's publisher
    # Named from its verified profile; an organisation whose profile document is not here stays an address.
    assert c1["parties"]["controllers"][0]["name"] == "Northbridge City Health Office"
    assert c1["kantara"]["sensitive"] is True and c1["kantara"]["spiCat"] == ["health"]  # a health dataset
    c3 = receipt(client, seeded.keys[C3])
    assert c3["summary"].startswith("You withdrew this consent on ") and "every health dataset" in c3["summary"]
    assert [e["method"] for e in c3["events"]] == [
        "transaction from the citizen's wallet",
        "EIP-712 signature in the citizen's wallet, submitted by the city's relayer",
    ]


def _tampered(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("1" if value[-1] != "1" else "2")
    return "tampered"


def _set(doc: dict, path: str, value) -> None:
    parts = path.split(".")
    node = doc
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[parts[-1]] = value


def test_a_receipt_checks_against_the_truth_and_names_each_tampered_fact(client, seeded):
    truth = receipt(client, seeded.keys[C3])
    assert check_receipt(copy.deepcopy(truth), truth).verdict == "VALID"
    paths = [*IDENTITY_FACTS, *ANCHOR_FACTS, "processing.validUntil", "status"]
    paths += [f"events.{i}.{name}" for i in range(len(truth["events"])) for name in EVENT_FACTS]
    for path in paths:
        original = fact(truth, path)
        assert original is not MISSING, path
        bad = copy.deepcopy(truth)
        _set(bad, path, _tampered(original) if original is not None else 7)
        verdict = check_receipt(bad, truth)
        assert (verdict.verdict, verdict.field) == ("INVALID", path), (path, verdict)
    # A fact left out is INVALID too; so is a change the chain does not have.
    bad = copy.deepcopy(truth)
    del bad["chain"]["consentKey"]
    assert check_receipt(bad, truth).field == "chain.consentKey"
    bad = copy.deepcopy(truth)
    bad["events"].append(copy.deepcopy(bad["events"][0]))
    assert (check_receipt(bad, truth).verdict, check_receipt(bad, truth).field) == ("INVALID", "events.2")


def test_a_receipt_older_than_the_last_change_is_outdated(client, seeded):
    """A receipt issued before the revocation (its first event only) is genuine, but not current."""
    truth = receipt(client, seeded.keys[C3])
    old = copy.deepcopy(truth)
    old["events"] = old["events"][:1]
    old["status"] = "dpv:ConsentGiven"
    verdict = check_receipt(old, truth)
    assert verdict.verdict == "OUTDATED" and "revoked" in verdict.reason
    # ... and one issued before the expiry of C4's consent: the expiry makes it outdated.
    c4 = receipt(client, seeded.keys[C4])
    before = copy.deepcopy(c4)
    before["events"], before["status"] = before["events"][:1], "dpv:ConsentGiven"
    assert check_receipt(before, c4).verdict == "OUTDATED"


def test_the_page_checks_the_same_facts(client):
    """frontend/src/receipt.ts repeats the fact lists (the page checks receipts itself): same lists."""
    source = (Path(__file__).resolve().parents[2] / "frontend/src/receipt.ts").read_text()

    def listed(name: str) -> list[str]:
        block = re.search(rf"const {name}[^=]*= [\[{{](.*?)[\]}}];", source, re.S)
        assert block, name
        return re.findall(r'"([^"]+)"', block.group(1))

    assert listed("IDENTITY_FACTS") == list(IDENTITY_FACTS)
    assert listed("EVENT_FACTS") == list(EVENT_FACTS)
    assert listed("ANCHOR_FACTS") == [x for pair in ANCHOR_FACTS.items() for x in pair]


def test_rights_and_releases_carry_their_times(client):
    (req,) = [r for r in client.get(f"/api/citizens/{C1}/rights").json()["items"] if r["request_id"] == 1]
    assert req["filed_at"] == ts_of(16) and req["answered_at"] is None
    answered = client.get("/api/rights", params={"status": "fulfilled"}).json()["items"][0]
    assert answered["answered_at"] == ts_of(19)
    release = next(r for r in client.get("/api/releases").json()["items"] if r["release_id"] == 1)
    assert release["timestamp"] == ts_of(25)
