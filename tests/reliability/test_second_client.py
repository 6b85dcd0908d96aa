"""The second EVM client (issue 22): the demo end to end on Hardhat's node, selected by its network
entry ([networks.hardhat] of cityledger.toml): compile, deploy, roles, the demo's datasets, consents,
access and rights requests, the index catch-up and the consent-filtered release, as `cityledger up`
prepares them on anvil. The whole chain suite on Hardhat: CITYLEDGER_TEST_NETWORK=hardhat (scripts/test.sh).
"""

from __future__ import annotations

import json

from cityledger.chain.accounts import devnet_accounts
from cityledger.cli.up_cmds import _prepare
from cityledger.config import config as cached_config
from cityledger.config import load_config
from cityledger.demo.catalog import SIGNING_SUBJECTS


class Quiet:
    def update(self, _text: str) -> None:
        pass


def test_the_demo_end_to_end_on_hardhat(hardhat, tmp_path, monkeypatch, cli):
    for key, value in {
        "CITYLEDGER_NETWORK": "hardhat",
        "CITYLEDGER_RPC_URL": hardhat.rpc_url,
        "CITYLEDGER_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "CITYLEDGER_DATA_DIR": str(tmp_path / "data"),
        "CITYLEDGER_DB_URL": f"sqlite:///{tmp_path / 'index.db'}",
        "CITYLEDGER_METADATA_DIR": str(tmp_path / "data" / "metadata"),
    }.items():
        monkeypatch.setenv(key, value)
    cached_config.cache_clear()
    cfg = load_config()
    net = cfg.network()
    assert net.name == "hardhat" and net.devnet and net.rpc_url == hardhat.rpc_url
    deployment, summary = _prepare(net, cfg, devnet_accounts(net)[0], True, Quiet(), tmp_path / "setup.log")
    assert deployment.chain_id == 31337 and len(deployment.contracts) >= 5
    # The release, as `make run`'s data room makes it once the API is up: here by the publisher's
    # release operator from the CLI (as tests/datasets/test_demo_seed.py does on anvil).
    citizen_file = cfg.data_dir / "demo" / "citizen-mobility-synthetic.csv"
    args = ["release", summary.access_id, citizen_file, "--purpose", "ScientificResearch", "--json"]
    code, _, err = cli(*args, "--operator", summary.operator)
    assert code == 0, err
    code, _, err = cli("index", "--once", "--quiet")
    assert code == 0, err

    # What the indexer made of Hardhat's chain: the demo's rows, and the release that used them.
    code, out, err = cli("datasets", "--json")
    assert code == 0, err
    assert len(json.loads(out)["items"]) == 6
    code, out, err = cli("releases", "--json")
    assert code == 0, err
    (release,) = json.loads(out)["items"]
    # Citizens 6-8 and the demo's signing subjects consent, 9 revoked (as on anvil: test_demo_seed.py).
    assert release["subject_count"] == 3 + SIGNING_SUBJECTS and release["purpose_name"] == "ScientificResearch"
    assert release["block_number"] > release["snapshot_block"]
    code, out, err = cli("status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["chain_id"] == 31337, status
