"""What the routes share, kept on `app.state.services`: the settings, the store engine, the node,
the consent snapshots, the metadata loader and the relayer. Built by create_app (nothing connects
until first use); the lifespan starts the relayer's outbox check and closes everything when the
server stops."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from web3 import HTTPProvider, Web3

from ..chain.deployments import contract, load_deployment
from ..config import Config, Network
from ..errors import CityLedgerError
from ..indexer.store import make_engine
from ..query.errors import Unavailable
from ..release.snapshots import SnapshotIndex
from .metadata import MetadataLoader
from .relay_store import RelayStore
from .relayer import Relayer, relayer_account

log = logging.getLogger("cityledger.relayer")


@dataclass(frozen=True)
class ApiSettings:
    cfg: Config
    network: Network
    db_url: str
    data_dir: Path
    frontend_dir: Path
    cors_origins: list[str]
    relay_per_minute: float = 6
    relay_burst: int | None = None
    rpc_timeout: float = 1.0


class Chain:
    """The node as the API sees it: a short-timeout connection made on first use, cached briefly."""

    def __init__(self, network: Network, timeout: float):
        self.network, self.timeout = network, timeout
        self._w3: Web3 | None = None
        self._head: tuple[float, int | None] = (0.0, None)
        self._timestamps: dict[int, int] = {}
        self._lock = threading.Lock()

    def w3(self) -> Web3:
        if self._w3 is None:
            self._w3 = Web3(HTTPProvider(self.network.rpc_url, request_kwargs={"timeout": self.timeout}))
        return self._w3

    def head(self) -> int | None:
        """The node's latest block, or None if it does not answer (re-asked at most once a second)."""
        at, head = self._head
        if time.monotonic() - at < 1.0:
            return head
        try:
            head = self.w3().eth.block_number
        except Exception:
            head = None
        self._head = (time.monotonic(), head)
        return head

    def timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            ts = int(self.w3().eth.get_block(block)["timestamp"])
            with self._lock:
                if len(self._timestamps) > 10_000:
                    self._timestamps.clear()
                self._timestamps[block] = ts
        return self._timestamps[block]


class Services:
    """The app's shared state. The relayer is built on the first relay request (it needs the node
    and a deployment record, which a read-only API may not have)."""

    def __init__(self, settings: ApiSettings, relayer: Relayer | None = None):
        self.settings = settings
        pool = {"pool_size": 20, "max_overflow": 20} if settings.db_url.startswith("sqlite") else {}
        self.engine: Engine = make_engine(settings.db_url, **pool)
        self.chain = Chain(settings.network, settings.rpc_timeout)
        self.snapshots = SnapshotIndex(settings.data_dir)
        self.metadata = MetadataLoader(settings.data_dir, settings.cfg.root)
        self._relayer = relayer
        self._relay_lock = threading.Lock()
        self._stop = threading.Event()
        self._checker: threading.Thread | None = None

    def relayer(self) -> Relayer:
        with self._relay_lock:
            if self._relayer is None:
                self._relayer = self._connect_relayer()
            return self._relayer

    def _connect_relayer(self) -> Relayer:
        net, cfg = self.settings.network, self.settings.cfg
        account = relayer_account(net)
        if account is None:
            raise Unavailable("no relayer account: set CITYLEDGER_RELAYER_KEY (devnet: account 5)")
        # The chain id asked once: web3 checks it before every estimate and send.
        provider = HTTPProvider(
            net.rpc_url, request_kwargs={"timeout": 10}, cache_allowed_requests=True, cacheable_requests={"eth_chainId"}
        )
        w3 = Web3(provider)
        try:
            chain_id = w3.eth.chain_id
        except Exception:
            raise Unavailable(f"the node at {net.rpc_url} does not answer; retry later") from None
        if chain_id != net.chain_id:
            raise Unavailable(f"the node is chain {chain_id}, the config says {net.chain_id}: refusing to relay")
        try:
            dep = load_deployment(net.chain_id, cfg)
        except CityLedgerError as exc:
            raise Unavailable(str(exc)) from None
        s = self.settings
        return Relayer(
            w3,
            contract(w3, dep, "ConsentRegistry", cfg),
            account,
            store=RelayStore(s.db_url, chain_id, account.address),
            settings=cfg.relayer,
            per_minute=s.relay_per_minute,
            burst=s.relay_burst,
        )

    def start(self) -> None:
        """Check the relayer's outbox every [relayer] check_interval seconds while the server runs
        (every worker does; one at a time, so a dead worker's pending transactions are seen to)."""
        if self._checker is None:
            self._checker = threading.Thread(target=self._check_outbox, name="relay-outbox", daemon=True)
            self._checker.start()

    def _check_outbox(self) -> None:
        last_error = ""
        while not self._stop.wait(self.settings.cfg.relayer.check_interval):
            try:
                relayer = self.relayer()
                relayer.check_outbox()
                relayer.prune_limits()
                last_error = ""
            except Exception as exc:  # no relayer key, node or store yet: said once, tried again later
                if str(exc) != last_error:
                    log.info("relayer outbox not checked: %s", str(exc)[:300])
                last_error = str(exc)

    def close(self) -> None:
        """Stop the outbox check and release the store's pooled connections (the server is stopping)."""
        self._stop.set()
        if self._checker is not None:
            self._checker.join(timeout=10)
        if self._relayer is not None and self._relayer.store is not None:
            self._relayer.store.close()
        self.engine.dispose()
