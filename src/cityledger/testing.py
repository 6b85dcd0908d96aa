"""pytest plugin (tests/conftest.py loads it): real anvil devnets for tests.

Fixtures
- `anvil`: a fresh anvil on a free port for one test (an `Anvil`; `.rpc_url`, `.port`).
- `anvil_session`: one anvil shared by the session (tests must not depend on its state).
- `devnet`: a realistic chain: the contracts of contracts/ compiled and deployed, the devnet roles
  granted (1 agency publisher, 2 business publisher, 3 auditor, 4 researcher) and the record in a
  deployments folder of the test's own. The chain is deployed once per session and saved (anvil's
  state with the states of its past blocks); every test gets its own anvil started from that save,
  with its own deployments and data folders, so nothing a test does (blocks, pending transactions,
  snapshots, files) reaches another, whatever the order. While the test runs, the environment points
  `config()` and the CLI at it (CITYLEDGER_RPC_URL, CITYLEDGER_DEPLOYMENTS_DIR, CITYLEDGER_DATA_DIR,
  CITYLEDGER_NETWORK=devnet), so CliRunner and subprocesses use it too.
- `devnet_session`: the same chain on one anvil for the session (for module/session fixtures).
- `hardhat`: a fresh Hardhat node on a free port for one test (a `Hardhat`: Anvil's interface).
- `cli`: runs `cityledger ARGS` in-process through the real entry point:
  `code, out, err = cli("deploy", "--network", "devnet")` (err with its line wrapping undone).

`wait_for(predicate, timeout, what)` polls until a condition holds, for tests and benchmarks;
`mine(w3, n)` mines n blocks on either client.

Why not one session chain reverted (evm_snapshot/evm_revert) after each test: anvil keeps the
states of past blocks in a window of the last 512 it stored (--prune-history 512), reverted blocks
included, and stores the head's state again each time a block is mined on it. On a chain reverted
after every test the deployed head is stored once per test; when the window drops its oldest copy,
the state goes although newer copies were stored, and a later test that traces (or calls at) its
first block fails with "Resource not found", depending on what ran before.

Every anvil is stopped at the end, also when a test fails.

A second client: with CITYLEDGER_TEST_NETWORK=hardhat (a network entry of cityledger.toml whose
`client` is "hardhat"), the chain fixtures above start Hardhat nodes instead of anvils, so the same
tests run on both (docs/NETWORKS.md "A second client: Hardhat"). Hardhat keeps no state file: each
`devnet` test gets a fresh node with the contracts deployed again (the addresses are the same: same
deployer, same nonces). Tests that use an anvil-only RPC carry `@pytest.mark.anvil_only("why")` and
are skipped there. Unset, nothing changes: anvil, as always.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from .chain.accounts import DEFAULT_MNEMONIC, devnet_accounts
from .chain.connection import node_rpc
from .chain.deploy import deploy_all
from .chain.deployments import Deployment, contract
from .chain.devnet import Anvil
from .chain.hardhat import Hardhat
from .chain.roles import seed_devnet_roles
from .config import Config, Network, load_config
from .config import config as cached_config

CHAIN_ID = 31337
ANVIL_FIXTURES = {"anvil", "anvil_session", "devnet", "devnet_session", "devnet_image", "hardhat"}
CLIENTS = {"anvil": Anvil, "hardhat": Hardhat}


def chain_client() -> str:
    """The EVM client the chain fixtures start: "anvil", or the `client` of the cityledger.toml network
    that CITYLEDGER_TEST_NETWORK names (a usage error if it is unknown, or its client is)."""
    name = os.environ.get("CITYLEDGER_TEST_NETWORK")
    if not name:
        return "anvil"
    networks = load_config().networks
    if name not in networks:
        raise pytest.UsageError(f"CITYLEDGER_TEST_NETWORK={name}: no [networks.{name}] in cityledger.toml")
    client = str(networks[name].get("client", "anvil"))
    if client not in CLIENTS:
        raise pytest.UsageError(f"[networks.{name}] client = {client!r}: one of {', '.join(CLIENTS)}")
    return client


def mine(w3: Web3, blocks: int = 1) -> None:
    """Mine `blocks` empty blocks on a devnet node of either client (anvil_mine, hardhat_mine: the
    same parameters); an error answer raises (a raw make_request would ignore it)."""
    method = "hardhat_mine" if "HardhatNetwork" in w3.client_version else "anvil_mine"
    node_rpc(w3, method, [hex(blocks)])


def start_node(cfg: Config | None = None, **kwargs: object) -> Anvil:
    """A node of the test client (not yet started) with the devnet's chain id and mnemonic."""
    return CLIENTS[chain_client()](chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=cfg or load_config(), **kwargs)


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
        return node_rpc(self.w3, "evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        if not node_rpc(self.w3, "evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert({snapshot_id}) found no such snapshot")


def stored_metadata(doc: dict | None = None) -> tuple[bytes, str]:
    """A metadata document put in the configured metadata store (the devnet fixture's data folder):
    (its hash, its cityledger:// URI), to register a dataset whose document a release can read."""
    from .config import load_config
    from .datasets.store import MetadataStore, default_uri

    # load_config, not the cached config(): the environment as the calling test has set it now.
    document = doc if doc is not None else {"@type": "dcat:Dataset", "dct:title": "test data"}
    digest, _ = MetadataStore(cfg=load_config()).put(document)
    return digest, default_uri(digest)


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 20.0,
    what: str = "the condition",
    interval: float = 0.05,
    errors: tuple[type[BaseException], ...] = (),
):
    """Poll until `predicate()` returns a truthy value, and return it. "Not yet" is a falsy value
    (None included: a status that holds null) or one of `errors` (e.g. a server still starting);
    after `timeout` seconds, an AssertionError naming `what` and the last value or error."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except errors as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


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


@dataclasses.dataclass(frozen=True)
class DevnetImage:
    """A deployed devnet saved to disk: anvil's state file and the folder of its record and data."""

    state: Path | None  # None: a client without state files (Hardhat): each start deploys again
    folder: Path
    chain: DevnetChain  # the chain as built (its anvil is stopped): deployment, accounts, config

    def start(self, folder: Path) -> tuple[Anvil, DevnetChain]:
        """A new anvil on a free port from the saved state, with copies of the folders under `folder`."""
        if self.state is None:
            node = start_node(self.chain.cfg).start()
            try:
                return node, build_devnet(node, folder, self.chain.cfg)
            except BaseException:
                node.stop()
                raise
        shutil.copytree(self.folder, folder, dirs_exist_ok=True)
        cfg = dataclasses.replace(self.chain.cfg, deployments_dir=folder / "deployments", data_dir=folder / "data")
        node = Anvil(chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=cfg, load_state=self.state).start()
        deployment = self.chain.deployment
        if deployment.path is not None:
            deployment = dataclasses.replace(deployment, path=cfg.deployments_dir / deployment.path.name)
        chain = DevnetChain(
            w3=Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 30})),
            deployment=deployment,
            accounts=self.chain.accounts,
            cfg=cfg,
            network=devnet_network(node),
            anvil=node,
        )
        return node, chain


def save_devnet_image(folder: Path, cfg: Config | None = None) -> DevnetImage:
    """Deploy a devnet once (build_devnet) and save it under `folder` for DevnetImage.start."""
    if chain_client() != "anvil":  # no state file to save: the deployment is built again on each start
        with start_node(cfg) as node:
            return DevnetImage(state=None, folder=folder / "image", chain=build_devnet(node, folder / "image", cfg))
    state = folder / "anvil-state.json"
    with Anvil(chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=cfg or load_config(), dump_state=state) as node:
        chain = build_devnet(node, folder / "image", cfg)
    # anvil writes the state when it stops
    if not state.is_file():
        raise RuntimeError(f"anvil saved no state to {state}")
    return DevnetImage(state=state, folder=folder / "image", chain=chain)


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    """A fresh anvil on a free port for this test (the test client's node: see the module's doc)."""
    with start_node() as node:
        yield node


@pytest.fixture(scope="session")
def anvil_session() -> Iterator[Anvil]:
    """One anvil for the session."""
    with start_node() as node:
        yield node


@pytest.fixture
def hardhat() -> Iterator[Hardhat]:
    """A fresh Hardhat node on a free port for this test, whatever the test client."""
    node = Hardhat(chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=load_config())
    with node:
        yield node


@pytest.fixture(scope="session")
def devnet_image(tmp_path_factory) -> DevnetImage:
    """The deployed, role-seeded devnet, built once per session and saved."""
    return save_devnet_image(tmp_path_factory.mktemp("devnet-image"))


@pytest.fixture(scope="session")
def devnet_session(devnet_image, tmp_path_factory) -> Iterator[DevnetChain]:
    """The deployed devnet on one anvil shared by the session (started from the saved image)."""
    node, chain = devnet_image.start(tmp_path_factory.mktemp("devnet"))
    with node:
        yield chain


@pytest.fixture
def devnet(devnet_image, tmp_path, monkeypatch) -> Iterator[DevnetChain]:
    """The deployed devnet on an anvil of this test's own (from the saved image); env points at it."""
    node, chain = devnet_image.start(tmp_path / "devnet")
    for key, value in chain.env.items():
        monkeypatch.setenv(key, value)
    cached_config.cache_clear()  # the environment changed since _fresh_config cleared it
    with node:
        yield chain


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    """Every test reads the configuration its own environment gives: a config() cached by an earlier
    test (another data folder, another chain) must not answer for this one."""
    cached_config.cache_clear()
    yield
    cached_config.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Every test starts with the root logger a fresh process has: a command run in-process (`index`
    installs its key=value handler at INFO) or a test of the log format must not leak its handler
    and level into later tests (alembic's INFO lines would then fill their stderr)."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


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
    client = chain_client()
    for item in items:
        if ANVIL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.anvil)
        only = item.get_closest_marker("anvil_only")
        if only is not None and client != "anvil":
            item.add_marker(pytest.mark.skip(reason=f"anvil only: {only.args[0] if only.args else 'anvil RPCs'}"))
