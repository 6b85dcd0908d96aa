"""The chain commands through the real CLI entry point: happy paths and every bad input."""

import json
import os
import socket
import subprocess
import sys

import pytest
from eth_account import Account
from web3 import Web3

from cityledger.chain.devnet import devnet_files, devnet_stop, free_port
from cityledger.config import load_config

from .helpers import ANVIL, REAL_ROOT, make_project

KEY = "0x" + "22" * 32


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throw-away project; `make(rpc_url, extra_networks)` writes its cityledger.toml."""
    for var in [v for v in os.environ if v.startswith("CITYLEDGER_")]:
        monkeypatch.delenv(var)
    root = tmp_path / "proj"
    monkeypatch.setenv("CITYLEDGER_ROOT", str(root))
    monkeypatch.setenv("CITYLEDGER_ANVIL", str(ANVIL))

    def make(rpc_url="http://127.0.0.1:1", extra_networks=""):
        return make_project(root, rpc_url, extra_networks)

    return make


def assert_one_error(code, err, *fragments):
    assert code == 1
    assert "Traceback" not in err
    assert err.count("error:") == 1
    for fragment in fragments:
        assert fragment in err, err


def no_record(cfg):
    return not cfg.deployments_dir.exists() or not list(cfg.deployments_dir.iterdir())


def test_unknown_network(project, cli):
    cfg = project()
    code, _, err = cli("deploy", "--network", "nope")
    assert_one_error(code, err, "unknown network 'nope'")
    assert no_record(cfg)


def test_unreachable_rpc(project, cli):
    cfg = project(f"http://127.0.0.1:{free_port()}")
    code, _, err = cli("deploy")
    assert_one_error(code, err, "no answer from", "cityledger devnet start")
    assert no_record(cfg)


def test_wrong_chain_id(project, cli, anvil):
    cfg = project(anvil.rpc_url, f'[networks.other]\nrpc_url = "{anvil.rpc_url}"\nchain_id = 999\n')
    code, _, err = cli("deploy", "--network", "other")
    assert_one_error(code, err, "is chain id 31337, the config says 999; refusing")
    assert no_record(cfg)


STAGING = '[networks.staging]\nrpc_url = "{url}"\nchain_id = 31337\ndevnet = false\n'


def test_non_devnet_keys(project, cli, anvil, monkeypatch, tmp_path):
    cfg = project(anvil.rpc_url, STAGING.format(url=anvil.rpc_url))
    code, _, err = cli("deploy", "--network", "staging")
    assert_one_error(code, err, "needs a key", "CITYLEDGER_KEYSTORE")

    monkeypatch.setenv("CITYLEDGER_KEYSTORE", str(tmp_path / "absent.json"))
    code, _, err = cli("deploy", "--network", "staging")
    assert_one_error(code, err, "absent.json not found")

    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(KEY, "right", kdf="pbkdf2", iterations=1000)))
    monkeypatch.setenv("CITYLEDGER_KEYSTORE", str(keystore))
    monkeypatch.setenv("CITYLEDGER_KEYSTORE_PASSWORD", "wrong")
    code, _, err = cli("deploy", "--network", "staging")
    assert_one_error(code, err, "wrong password for keystore")
    assert no_record(cfg)

    # the right password deploys from the keystore's account (funded on this test chain)
    address = Account.from_key(KEY).address
    Web3(Web3.HTTPProvider(anvil.rpc_url)).provider.make_request("anvil_setBalance", [address, hex(10**19)])
    monkeypatch.setenv("CITYLEDGER_KEYSTORE_PASSWORD", "right")
    code, out, err = cli("deploy", "--network", "staging")
    assert code == 0, err
    record = json.loads((cfg.deployments_dir / "31337.json").read_text())
    assert record["deployer"] == address and record["network"] == "staging"
    assert "granted" not in out  # devnet roles are for the devnet only

    # publish signs with the same keystore: without a password and a terminal, a clear error (not a prompt)
    monkeypatch.delenv("CITYLEDGER_KEYSTORE_PASSWORD")
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n1,2\n")
    code, _, err = cli(
        "publish",
        str(data),
        "--title",
        "Rows",
        "--domain",
        "environment",
        "--description",
        "Test rows",
        "--license",
        "CC0-1.0",
        "--network",
        "staging",
    )
    assert_one_error(code, err, "the keystore needs a password", "CITYLEDGER_KEYSTORE_PASSWORD")


def test_port_in_use_by_another_program(project, cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = project(f"http://127.0.0.1:{port}")
        code, _, err = cli("devnet", "start")
    assert_one_error(code, err, f"port {port}", "taken by another program")
    assert not devnet_files(cfg).pid.exists()


def test_port_in_use_by_a_foreign_anvil(project, cli, anvil):
    project(anvil.rpc_url)
    code, _, err = cli("devnet", "start")
    assert_one_error(code, err, f"port {anvil.port}", "anvil", "did not start")


def test_anvil_missing(project, cli, monkeypatch, tmp_path):
    project(f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CITYLEDGER_ANVIL", str(tmp_path / "no-anvil"))
    code, _, err = cli("devnet", "start")
    assert_one_error(code, err, "anvil not found", "make install")


def test_compile_networks_accounts_run(project, cli, anvil, tmp_path):
    cfg = project(anvil.rpc_url)
    code, out, _ = cli("compile")
    assert code == 0 and "3 compiled, 0 unchanged" in out
    code, out, _ = cli("compile")
    assert code == 0 and "0 compiled, 3 unchanged" in out
    code, out, _ = cli("compile", "--force")
    assert code == 0 and "3 compiled" in out

    code, out, err = cli("deploy")
    assert code == 0, err
    assert "granted 4 devnet roles" in out
    code, out, _ = cli("deploy")
    assert code == 0 and "is current" in out

    code, out, _ = cli("networks")
    assert code == 0 and "devnet" in out and "31337" in out
    code, out, _ = cli("accounts")
    assert code == 0
    assert "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in out and "admin" in out and "auditor" in out

    script = tmp_path / "hello.py"
    script.write_text(
        "def main():\n"
        "    print('chain', w3.eth.chain_id, sorted(contracts), accounts[0].address == deployment.deployer)\n"
    )
    code, out, err = cli("run", str(script))
    assert code == 0, err
    assert "chain 31337 ['CityRoles', 'ConsentRegistry', 'DatasetRegistry'] True" in out
    code, _, err = cli("run", str(tmp_path / "absent.py"))
    assert_one_error(code, err, "no script at")
    assert cfg.deployments_dir.is_dir()


def test_devnet_lifecycle_keeps_state(project, tmp_path):
    """start / status / deploy / stop / start again: the deployment survives (real subprocesses)."""
    port = free_port()
    cfg = project(f"http://127.0.0.1:{port}")
    env = dict(os.environ)
    bin_ = str(REAL_ROOT / ".venv" / "bin" / "cityledger")

    def run(*args):
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)

    try:
        r = run(bin_, "devnet", "start")
        assert r.returncode == 0, r.stderr
        assert f"devnet started: http://127.0.0.1:{port} chain id 31337" in r.stdout
        r = run(bin_, "devnet", "start")
        assert r.returncode == 0 and "already running" in r.stdout
        r = run(sys.executable, str(REAL_ROOT / "scripts" / "deploy.py"))
        assert r.returncode == 0, r.stderr
        record = json.loads((cfg.deployments_dir / "31337.json").read_text())
        r = run(bin_, "devnet", "status")
        assert r.returncode == 0 and "running" in r.stdout
        head = int(next(line.split()[1] for line in r.stdout.splitlines() if line.strip().startswith("block")))
        assert head >= 3
        r = run(bin_, "devnet", "stop")
        assert r.returncode == 0 and "devnet stopped" in r.stdout
        assert devnet_files(load_config(cfg.root)).state.stat().st_size > 0
        r = run(bin_, "devnet", "status")
        assert "stopped" in r.stdout

        r = run(bin_, "devnet", "start")
        assert r.returncode == 0 and f"block {head}" in r.stdout  # the chain came back
        r = run(bin_, "deploy")
        assert r.returncode == 0 and "is current" in " ".join(r.stdout.split())
        assert json.loads((cfg.deployments_dir / "31337.json").read_text()) == record
    finally:
        devnet_stop(load_config(cfg.root))
    assert not devnet_files(load_config(cfg.root)).pid.exists()


def test_gas_needs_the_benchmark(project, cli):
    cfg = project()
    code, _, err = cli("gas")
    assert_one_error(code, err, "no gas report yet", str(cfg.root / "bench" / "gas.py"))


def test_deploy_names_an_admin_and_the_snapshot_age(cli, anvil, monkeypatch, tmp_path):
    """The real contracts: --admin starts the two-step handover and says what the admin must do;
    --max-snapshot-age reaches AccessRegistry; bad values are refused before anything is sent."""
    for var in [v for v in os.environ if v.startswith("CITYLEDGER_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("CITYLEDGER_ROOT", str(REAL_ROOT))
    monkeypatch.setenv("CITYLEDGER_RPC_URL", anvil.rpc_url)
    monkeypatch.setenv("CITYLEDGER_DEPLOYMENTS_DIR", str(tmp_path / "deployments"))
    monkeypatch.setenv("CITYLEDGER_DATA_DIR", str(tmp_path / "data"))
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    admin = Account.from_key(KEY)

    code, _, err = cli("deploy", "--admin", "0xcity")
    assert_one_error(code, err, "--admin must be a 0x-prefixed 20-byte hex address")
    code, _, err = cli("deploy", "--max-snapshot-age", "0")
    assert code == 2 and "--max-snapshot-age" in err
    assert w3.eth.block_number == 0 and not (tmp_path / "deployments").exists()

    code, out, err = cli("deploy", "--admin", admin.address, "--max-snapshot-age", "43200", "--no-roles")
    assert code == 0, err
    assert "admin handover pending:" in out and f"the admin {admin.address} must call accept_ownership()" in out
    record = json.loads((tmp_path / "deployments" / "31337.json").read_text())
    assert list(record["contracts"])[-1] == "DeletionRegistry"
    assert record["contracts"]["CityRoles"]["constructor_args"] == [admin.address]
    assert record["contracts"]["AccessRegistry"]["constructor_args"][2] == 43200
    # Deploying again with the same parameters is current, and still says the handover is pending.
    code, out, _ = cli("deploy", "--admin", admin.address.lower(), "--max-snapshot-age", "43200", "--no-roles")
    assert code == 0 and "is current" in out and "admin handover pending:" in out
