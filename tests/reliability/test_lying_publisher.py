"""A publisher that lies about whose data it released (issue 15 finding 2), on a real chain.

The contract accepts any root a publisher claims within its bounds; the indexer's audit must catch
the lies it can check and say which it cannot: a release whose published snapshot holds a citizen
who never consented (mismatch), one whose snapshot disagrees with its claimed count (mismatch), one
with no snapshot at all (unverifiable), a private answer whose consent root includes a non-consenting
citizen (mismatch), beside an honest release made by the release service (verified). The audit runs
as `cityledger index --once` wires it, and the flags reach the API and "who used my data"."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient

from cityledger import codes
from cityledger.api.app import create_app
from cityledger.chain.tx import transact
from cityledger.cli import exits
from cityledger.fingerprint.consent_tree import ConsentTree
from cityledger.release.snapshots import write_snapshot
from cityledger.testing import stored_metadata

SCI = codes.purpose_hash("ScientificResearch")


def test_the_indexer_flags_a_publisher_that_lies(own_devnet, cli, tmp_path, monkeypatch):
    chain = own_devnet
    for key, value in chain.env.items():
        monkeypatch.setenv(key, value)
    url = f"sqlite:///{tmp_path / 'index.db'}"
    monkeypatch.setenv("CITYLEDGER_DB_URL", url)
    w3, acc = chain.w3, chain.accounts
    publisher, researcher = acc[1], acc[4]
    c6, c7, c8, c9 = acc[6:10]
    datasets, consent, access = (chain.contract(n) for n in ("DatasetRegistry", "ConsentRegistry", "AccessRegistry"))

    # A personal dataset; citizens 6 and 7 consent to research on it, 8 and 9 never do.
    data = tmp_path / "visits.csv"
    data.write_text("subject,visit\n" + "".join(f"{c.address},{i}\n" for i, c in enumerate((c6, c7, c8, c9))))
    content = hashlib.sha256(data.read_bytes()).digest()
    meta_hash, meta_uri = stored_metadata()
    transact(w3, publisher, datasets.functions.register(content, meta_hash, meta_uri, 1, True, 0))
    far = w3.eth.get_block("latest")["timestamp"] + 365 * 86400
    for c in (c6, c7):
        transact(w3, c, consent.functions.grant(SCI, 1, (1).to_bytes(32, "big"), codes.ANY_RESEARCHER, far))
    transact(w3, researcher, access.functions.request_access(1, SCI, hashlib.sha256(b"terms").digest()))
    transact(w3, publisher, access.functions.grant_access(1, far))
    snapshot = w3.eth.block_number

    def lie(subjects, claimed_count=None, publish=True) -> bytes:
        tree = ConsentTree.build(a.address for a in subjects)
        if publish:
            write_snapshot(chain.cfg.data_dir, tree, {"snapshot_block": snapshot})
        count = len(tree) if claimed_count is None else claimed_count
        release = access.functions.log_release(1, 1, count, tree.root, snapshot, hashlib.sha256(b"x").digest(), 0)
        transact(w3, publisher, release)
        return tree.root

    lie([c6, c8])  # release 1: citizen 8 never consented
    lie([c6, c7], claimed_count=3)  # release 2: a snapshot of two, a claim of three
    lie([c6, c7, c9], publish=False)  # release 3: nothing published to check it by
    # A private answer claiming a consent set with citizen 9 in it.
    transact(w3, publisher, access.functions.set_privacy_budget(1, codes.MICRO_EPSILON))
    wrong = ConsentTree.build([c6.address, c7.address, c9.address])
    query = access.functions.log_query(1, 1, 1000, hashlib.sha256(b"q").digest(), wrong.root, snapshot, 3)
    transact(w3, publisher, query)
    w3.provider.make_request("anvil_mine", [3])
    assert cli("index", "--once", "--quiet")[0] == exits.OK
    # The honest release, by the release service (release 4), then indexed and audited.
    code, _, err = cli("release", "1", data, "--purpose", "ScientificResearch")
    assert code == exits.OK, err
    w3.provider.make_request("anvil_mine", [1])
    assert cli("index", "--once", "--quiet")[0] == exits.OK

    api = TestClient(create_app(chain.cfg, db_url=url, data_dir=chain.cfg.data_dir, rpc_timeout=0.2))
    audits = {r["release_id"]: r["audit"] for r in api.get("/api/releases").json()["items"]}
    assert {k: a["status"] for k, a in audits.items()} == {
        1: "mismatch",
        2: "mismatch",
        3: "unverifiable",
        4: "verified",
    }
    assert audits[1]["lacking_consent"] == 1 and c8.address.lower() in audits[1]["detail"]
    assert "claims 3 subjects; its published snapshot holds 2" in audits[2]["detail"]
    (answer,) = api.get("/api/access/1/queries").json()["items"]
    assert answer["audit"]["status"] == "mismatch" and "gives 2" in answer["audit"]["detail"]
    # The citizen who never consented sees the release that used them, flagged.
    used = api.get(f"/api/citizens/{c8.address}/used").json()["items"]
    assert [(u["release_id"], u["audit"]["status"]) for u in used] == [(1, "mismatch")]
    # And the CLI's releases table says it too.
    code, out, _ = cli("releases", "--audit", "mismatch", "--json")
    assert [r["release_id"] for r in json.loads(out)["items"]] == [2, 1]
