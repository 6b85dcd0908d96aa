"""`cityledger receipt get` and `receipt verify` on a real devnet: a consent granted by the citizen and
revoked by the relayer on the citizen's signature, indexed; its receipt checks against the chain
itself (VALID), and each kind of tampering or omission is named (INVALID, exit 4); a receipt the
consent has outgrown is OUTDATED (exit 5)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.chain.tx import transact
from cityledger.signing import revoke_message
from cityledger.signing import sign as sign_typed

from .test_devnet_flow import index

SCI = codes.purpose_hash("ScientificResearch")
HEALTH = codes.DOMAINS["health"].to_bytes(32, "big")


def test_receipt_get_and_verify_against_the_chain(devnet, cli, tmp_path):
    w3, acc = devnet.w3, devnet.accounts
    citizen, relayer = acc[6], acc[5]
    consent = devnet.contract("ConsentRegistry")
    url = f"sqlite:///{tmp_path / 'index.db'}"
    args = (SCI, codes.SCOPE_DOMAIN, HEALTH, codes.ANY_RESEARCHER)
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    transact(w3, citizen, consent.functions.grant(*args, far))
    key = consent.functions.consent_key(citizen.address, *args).call()
    deadline = w3.eth.get_block("latest")["timestamp"] + 3600
    msg = revoke_message(citizen.address, *args, consent.functions.nonce_of(key).call(), deadline)
    signature = sign_typed(citizen, devnet.network.chain_id, consent.address, msg)
    transact(w3, relayer, consent.functions.revoke_by_sig(citizen.address, *args, deadline, signature))
    w3.provider.make_request("anvil_mine", [3])
    index(devnet, url)
    key_hex = "0x" + key.hex()

    code, out, err = cli("receipt", "get", key_hex, "--db", url)
    assert code == 0, err
    doc = json.loads(out)
    api = TestClient(create_app(devnet.cfg, db_url=url, data_dir=devnet.cfg.data_dir))
    assert api.get(f"/api/consents/{key_hex}/receipt").json() == doc
    assert [(e["change"], e["submittedBy"]) for e in doc["events"]] == [
        ("granted", citizen.address.lower()),
        ("revoked", relayer.address.lower()),
    ]
    path = tmp_path / "receipt.jsonld"

    def verify(receipt: dict) -> tuple[int, str]:
        path.write_text(json.dumps(receipt))
        code, out, _err = cli("receipt", "verify", path, "--json")
        return code, json.loads(out)

    code, answer = verify(doc)
    assert (code, answer["verdict"], answer["key"]) == (0, "VALID", key_hex), answer

    def tampered(path: str, value) -> dict:
        bad = json.loads(json.dumps(doc))
        node = bad
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        node[parts[-1]] = value
        return bad

    other_tx = doc["events"][1]["transactionHash"]
    for path_, value in (
        ("events.1.submittedBy", citizen.address.lower()),  # "I revoked it myself"
        ("events.0.expiry", far + 86400),
        ("events.0.timestamp", doc["events"][0]["timestamp"] - 1),
        ("events.0.transactionHash", other_tx),  # the revocation's transaction, not the grant's
        ("dataSubject.address", acc[7].address.lower()),
        ("processing.purpose.purposeHash", "0x" + codes.purpose_hash("Marketing").hex()),
        ("chain.contract", devnet.contract("AccessRegistry").address.lower()),
        ("chain.chainId", 1),
        ("status", "dpv:ConsentGiven"),
    ):
        code, answer = verify(tampered(path_, value))
        assert (code, answer["verdict"], answer["field"]) == (4, "INVALID", path_), (path_, answer)

    # The receipt as it was issued before the revocation: genuine, but the consent has changed since.
    before = tampered("status", "dpv:ConsentGiven")
    before["events"] = before["events"][:1]
    code, answer = verify(before)
    assert (code, answer["verdict"]) == (5, "OUTDATED"), answer

    # Granted again: a receipt that leaves the revocation out is not the history, whatever it says.
    transact(w3, citizen, consent.functions.grant(*args, far))
    w3.provider.make_request("anvil_mine", [3])
    index(devnet, url)
    code, out, _ = cli("receipt", "get", key_hex, "--db", url)
    again = json.loads(out)
    assert [e["change"] for e in again["events"]] == ["granted", "revoked", "granted"]
    assert verify(again)[0] == 0
    gap = json.loads(json.dumps(again))
    del gap["events"][1]
    gap["events"][1]["change"] = "renewed"
    gap["events"][1]["status"] = "dpv:RenewedConsentGiven"
    code, answer = verify(gap)
    assert (code, answer["field"]) == (4, "events") and "nonce 2" in answer["reason"], answer

    # The citizen cancels the signatures they gave (the relayer never sent one): a change of the
    # history, submitted by the citizen, that leaves the consent in force; the earlier receipt is
    # genuine but outdated (the key's nonce moved on), the new one checks against the chain.
    transact(w3, citizen, consent.functions.cancel_signatures(*args))
    w3.provider.make_request("anvil_mine", [3])
    index(devnet, url)
    history = api.get(f"/api/consents/{key_hex}/history").json()
    assert [(c["change"], c["submitted_by"], c["status"]) for c in history["items"]][-1] == (
        "signatures_cancelled",
        citizen.address.lower(),
        None,
    )
    assert history["state"] == "active"
    assert verify(again)[1]["verdict"] == "OUTDATED"
    code, out, _ = cli("receipt", "get", key_hex, "--db", url)
    cancelled = json.loads(out)
    assert [e["change"] for e in cancelled["events"]] == ["granted", "revoked", "granted", "signatures_cancelled"]
    assert cancelled["status"] == "dpv:ConsentGiven"
    assert verify(cancelled)[0] == 0
    cancelled["events"][3]["submittedBy"] = relayer.address.lower()
    code, answer = verify(cancelled)
    assert (code, answer["field"]) == (4, "events.3.submittedBy"), answer

    # Not JSON: one error line, exit 1.
    path.write_text("not a receipt")
    code, _, err = cli("receipt", "verify", path)
    assert code == 1 and "is not a JSON receipt" in err
