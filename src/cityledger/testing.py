"""pytest plugin (tests/conftest.py loads it): real anvil devnets for tests.

Fixtures
- `anvil`: a fresh anvil on a free port for one test (an `Anvil`; `.rpc_url`, `.port`).
- `anvil_session`: one anvil shared by the session (tests must not depend on its state).
- `devnet`: a realistic chain: the contracts of contracts/ compiled and deployed, the devnet roles
  granted (1 agency publisher, 2 business publisher, 3 auditor, 4 researcher) and the record in a
  temporary deployments folder. Shared by the session, but every test starts from the same state
  (an evm_snapshot taken before the test is reverted after it). While the test runs, the
  environment points `config()` and the CLI at it (CITYLEDGER_RPC_URL, CITYLEDGER_DEPLOYMENTS_DIR,
  CITYLEDGER_DATA_DIR, CITYLEDGER_NETWORK=devnet), so CliRunner and subprocesses use it too.
- `devnet_session`: the same chain without the per-test revert (for module/session fixtures).
- `cli`: runs `cityledger ARGS` in-process through the real entry point:
  `code, out, err = cli("deploy", "--network", "devnet")` (err with its line wrapping undone).

Every anvil is stopped at the end, also when a test fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from .chain.accounts import DEFAULT_MNEMONIC, devnet_accounts
from .chain.deploy import deploy_all
from .chain.deployments import Deployment, contract
from .chain.devnet import Anvil
from .chain.roles import seed_devnet_roles
from .config import Config, Network, load_config
from .config import config as cached_config

CHAIN_ID = 31337
ANVIL_FIXTURES = {"anvil", "anvil_session", "devnet", "devnet_session"}


@dataclasses.dataclass
class DevnetChain:
    """A deployed devnet: what the `devnet` fixture yields."""

    w3: Web3
    deployment: Deployment
    accounts: list[LocalAccount]
    cfg: Config
    network: Network
    anvil: Anvil

    @property
    def rpc_url(self) -> str:
        return self.anvil.rpc_url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point config() / the CLI / a subprocess at this chain."""
        return {
            "CITYLEDGER_NETWORK": "devnet",
            "CITYLEDGER_RPC_URL": self.anvil.rpc_url,
            "CITYLEDGER_CHAIN_ID": str(self.network.chain_id),
            "CITYLEDGER_DEPLOYMENTS_DIR": str(self.cfg.deployments_dir),
            "CITYLEDGER_DATA_DIR": str(self.cfg.data_dir),
        }

    def contract(self, name: str):
        """A web3 Contract of the deployment by name (CityRoles, DatasetRegistry, ...)."""
        return contract(self.w3, self.deployment, name, self.cfg)

    @property
    def contracts(self) -> dict:
        return {name: self.contract(name) for name in self.deployment.contracts}

    def snapshot(self) -> str:
        return self.w3.provider.make_request("evm_snapshot", [])["result"]

    def revert(self, snapshot_id: str) -> None:
        result = self.w3.provider.make_request("evm_revert", [snapshot_id])
        if not result.get("result"):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed: {result}")


def devnet_network(anvil: Anvil) -> Network:
    return Network(
        name="devnet", rpc_url=anvil.rpc_url, chain_id=anvil.chain_id, devnet=True, mnemonic=anvil.mnemonic, accounts=10
    )


def build_devnet(anvil: Anvil, folder: Path, cfg: Config | None = None) -> DevnetChain:
    """Compile (only what changed), deploy and seed roles on `anvil`; the record goes under `folder`."""
    base = cfg or load_config()
    cfg = dataclasses.replace(base, deployments_dir=folder / "deployments", data_dir=folder / "data")
    network = devnet_network(anvil)
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 30}))
    accounts = devnet_accounts(network)
    deployment = deploy_all(w3, accounts[0], network, cfg)
    seed_devnet_roles(w3, deployment, accounts, cfg)
    return DevnetChain(w3=w3, deployment=deployment, accounts=accounts, cfg=cfg, network=network, anvil=anvil)


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    """A fresh anvil on a free port for this test."""
    with Anvil(chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=load_config()) as node:
        yield node


@pytest.fixture(scope="session")
def anvil_session() -> Iterator[Anvil]:
    """One anvil for the session."""
    with Anvil(chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=load_config()) as node:
        yield node


@pytest.fixture(scope="session")
def devnet_session(tmp_path_factory) -> Iterator[DevnetChain]:
    """The deployed, role-seeded devnet of the session (its own anvil)."""
    with Anvil(chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=load_config()) as node:
        yield build_devnet(node, tmp_path_factory.mktemp("devnet"))


@pytest.fixture
def devnet(devnet_session: DevnetChain, monkeypatch) -> Iterator[DevnetChain]:
    """The session devnet, reverted to its deployed state after the test; env points at it."""
    snapshot = devnet_session.snapshot()
    for key, value in devnet_session.env.items():
        monkeypatch.setenv(key, value)
    cached_config.cache_clear()
    try:
        yield devnet_session
    finally:
        devnet_session.revert(snapshot)
        cached_config.cache_clear()


@pytest.fixture
def cli(capsys):
    """Run `cityledger ARGS` in-process via cityledger.cli.main: returns (exit code, stdout, stderr)."""
    import sys

    from .cli import main

    def run(*args) -> tuple[int, str, str]:
        argv, sys.argv = sys.argv, ["cityledger", *map(str, args)]
        cached_config.cache_clear()  # the command reads the environment as it is now
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
            cached_config.cache_clear()
        captured = capsys.readouterr()
        # The error console wraps at 80 columns under capture: one error is one line again.
        return code, captured.out, " ".join(captured.err.split())

    return run


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ARG001 (pytest hook signature)
    # Tests that need a real anvil carry the `anvil` marker, so `-m "not anvil"` runs the rest.
    for item in items:
        if ANVIL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.anvil)
