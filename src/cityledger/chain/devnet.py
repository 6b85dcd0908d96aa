"""The local devnet: anvil (npm @foundry-rs/anvil) on 127.0.0.1.

`Anvil` runs one anvil process (tests: on a free port, always stopped). The `cityledger devnet`
commands run it detached, with a pid file, a log and a state file under <data dir>/devnet/, so the
chain survives restarts (anvil's --state: loaded on start, dumped on exit and every 30 s)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..config import Config, Network, config
from ..errors import CityLedgerError

HOST = "127.0.0.1"
# anvil's documented test mnemonic: public, for the devnet only (docs/NETWORKS.md).
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
STATE_INTERVAL = 30  # seconds between state dumps, so a killed devnet loses little


class DevnetError(CityLedgerError):
    pass


def anvil_binary(cfg: Config | None = None) -> Path:
    """The anvil to run (CITYLEDGER_ANVIL overrides), or a DevnetError saying how to install it.

    node_modules/.bin/anvil is a Node wrapper that spawns the platform's native binary; the
    native binary is run directly when present, so stopping (or killing) the process we started
    really stops anvil and no Node process sits in between."""
    cfg = cfg or config()
    if os.environ.get("CITYLEDGER_ANVIL"):
        path = Path(os.environ["CITYLEDGER_ANVIL"])
    else:
        path = cfg.root / "node_modules" / ".bin" / "anvil"
        native = sorted((cfg.root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
        native = [p for p in native if os.access(p, os.X_OK)]
        if path.is_file() and native:
            return native[0]
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise DevnetError(f"anvil not found at {path}: run `make install` (or `npm install`) in {cfg.root}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def rpc(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    """One JSON-RPC call without web3 (used for probing): the result, or raises OSError/ValueError."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        data = json.loads(resp.read())
    if "error" in data:
        raise ValueError(data["error"].get("message", str(data["error"])))
    return data["result"]


def probe(url: str, timeout: float = 1.0) -> dict | None:
    """{'client', 'chain_id', 'block'} if a JSON-RPC node answers at url, else None."""
    try:
        return {
            "client": str(rpc(url, "web3_clientVersion", timeout=timeout)),
            "chain_id": int(rpc(url, "eth_chainId", timeout=timeout), 16),
            "block": int(rpc(url, "eth_blockNumber", timeout=timeout), 16),
        }
    except (OSError, ValueError, KeyError, urllib.error.URLError):
        return None


class Anvil:
    """One anvil process. Context manager: started on enter, stopped (state dumped) on exit."""

    client = "anvil"  # the node's name in messages (Hardhat says its own)

    def __init__(
        self,
        port: int | None = None,
        chain_id: int = 31337,
        state_path: Path | str | None = None,
        block_time: int = 0,
        mnemonic: str = DEFAULT_MNEMONIC,
        accounts: int = 10,
        log_path: Path | str | None = None,
        detached: bool = False,
        cfg: Config | None = None,
        startup_timeout: float = 30.0,
        load_state: Path | str | None = None,
        dump_state: Path | str | None = None,
        preexec_fn=None,
    ):
        self.port = port
        self.chain_id = chain_id
        self.state_path = Path(state_path) if state_path else None
        self.block_time = block_time
        self.mnemonic = mnemonic
        self.accounts = accounts
        self.log_path = Path(log_path) if log_path else None
        self.detached = detached
        self.cfg = cfg
        self.startup_timeout = startup_timeout
        # A saved chain to start from (read only), and where to save this one on stop (with the
        # states of its past blocks, so a chain started from it can still trace and call at them).
        self.load_state = Path(load_state) if load_state else None
        self.dump_state = Path(dump_state) if dump_state else None
        self.preexec_fn = preexec_fn  # run in the child before anvil (e.g. to die with its parent)
        self.process: subprocess.Popen | None = None

    @property
    def rpc_url(self) -> str:
        if self.port is None:
            raise DevnetError(f"{self.client} has no port yet: start it first")
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        cmd = [
            str(anvil_binary(self.cfg)),
            "--host", HOST,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", self.mnemonic,
            "--accounts", str(self.accounts),
            # Past its in-memory window anvil writes every block's state to ~/.foundry/anvil/tmp and
            # never removes it (tens of GB after a 1M-event benchmark filled this disk). Keep the
            # last 512 blocks' states in memory (traces, reorgs, calls at recent blocks) and none on disk.
            "--prune-history", "512",
        ]  # fmt: skip
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        if self.state_path:
            cmd += ["--state", str(self.state_path), "--state-interval", str(STATE_INTERVAL)]
        if self.load_state:
            cmd += ["--load-state", str(self.load_state)]
        if self.dump_state:
            cmd += ["--dump-state", str(self.dump_state), "--preserve-historical-states"]
        return cmd

    def start(self) -> Anvil:
        if self.process is not None:
            return self
        chosen = self.port is not None
        for _attempt in range(1 if chosen else 3):
            if not chosen:
                self.port = free_port()
            elif port_in_use(self.port):
                raise DevnetError(port_taken_message(self.port))
            if self._spawn():
                return self
        raise DevnetError(f"{self.client} did not start: {self._log_tail()}")

    def _spawn(self) -> bool:
        if self.state_path:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log_path, "ab")
        else:
            out = subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=self.detached,  # a detached devnet outlives the CLI and its Ctrl-C
                preexec_fn=self.preexec_fn,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False  # exited: e.g. the free port was taken meanwhile
            info = probe(self.rpc_url, timeout=0.5)
            if info is not None and info["chain_id"] == self.chain_id:
                return True
            time.sleep(0.05)
        self.stop()
        raise DevnetError(f"{self.client} did not answer on {self.rpc_url} within {self.startup_timeout:.0f}s")

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.is_file():
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return lines[-1] if lines else "no output"
        return "no output (no log file)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (anvil dumps its state), then SIGKILL if it does not exit in time."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- the detached devnet of `cityledger devnet start|stop|status` -------------------------------


@dataclass(frozen=True)
class DevnetFiles:
    folder: Path

    @property
    def pid(self) -> Path:
        return self.folder / "anvil.pid"

    @property
    def log(self) -> Path:
        return self.folder / "anvil.log"

    @property
    def state(self) -> Path:
        return self.folder / "state.json"

    @property
    def info(self) -> Path:
        return self.folder / "anvil.json"


def devnet_files(cfg: Config | None = None) -> DevnetFiles:
    return DevnetFiles((cfg or config()).data_dir / "devnet")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) still answers kill(0): check /proc where available.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _is_anvil(pid: int) -> bool:
    try:
        return b"anvil" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)


def running_pid(cfg: Config | None = None) -> int | None:
    """The pid of our detached anvil if it is alive (a stale pid file is removed)."""
    files = devnet_files(cfg)
    try:
        pid = int(files.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    if _pid_alive(pid) and _is_anvil(pid):
        return pid
    files.pid.unlink(missing_ok=True)
    return None


def port_taken_message(port: int) -> str:
    info = probe(f"http://{HOST}:{port}")
    what = f"a node ({info['client']}, chain id {info['chain_id']})" if info else "another program"
    return (
        f"port {port} on {HOST} is taken by {what} that `cityledger devnet` did not start: stop it, "
        "or point the devnet elsewhere (CITYLEDGER_RPC_URL=http://127.0.0.1:<port>)"
    )


def devnet_start(network: Network, cfg: Config | None = None, preexec_fn=None) -> dict:
    """Start the detached devnet for `network`; returns its status. Already running: says so.

    `preexec_fn` runs in anvil's process before it starts (`up` asks for a signal when it dies)."""
    cfg = cfg or config()
    if not network.devnet:
        raise DevnetError(f"network '{network.name}' is not a devnet")
    pid = running_pid(cfg)
    if pid is not None:
        status = devnet_status(network, cfg)
        status["already_running"] = True
        return status
    files = devnet_files(cfg)
    anvil = Anvil(
        port=network.port,
        chain_id=network.chain_id,
        state_path=files.state,
        block_time=network.block_time,
        mnemonic=network.mnemonic or DEFAULT_MNEMONIC,
        accounts=network.accounts,
        log_path=files.log,
        detached=True,
        cfg=cfg,
        preexec_fn=preexec_fn,
    )
    anvil_binary(cfg)  # a missing anvil is reported before the port
    anvil.start()
    files.pid.write_text(f"{anvil.pid}\n")
    files.info.write_text(json.dumps({"pid": anvil.pid, "rpc_url": anvil.rpc_url, "chain_id": anvil.chain_id}) + "\n")
    anvil.process = None  # detached: the Popen object must not stop it when garbage-collected
    status = devnet_status(network, cfg)
    status["already_running"] = False
    return status


def devnet_stop(cfg: Config | None = None, timeout: float = 15.0) -> int | None:
    """Stop the detached devnet (its state is dumped on exit). Returns the pid stopped, or None."""
    files = devnet_files(cfg)
    pid = running_pid(cfg)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid):
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    files.pid.unlink(missing_ok=True)
    files.info.unlink(missing_ok=True)
    return pid


def devnet_status(network: Network, cfg: Config | None = None) -> dict:
    """pid, rpc url, whether it answers, block number, chain id, state file (and its size)."""
    files = devnet_files(cfg)
    pid = running_pid(cfg)
    url = network.rpc_url
    if pid is not None and files.info.is_file():
        try:
            url = json.loads(files.info.read_text())["rpc_url"]
        except (OSError, ValueError, KeyError):
            pass
    info = probe(url)
    return {
        "running": pid is not None,
        "pid": pid,
        "rpc_url": url,
        "answering": info is not None,
        "block": info["block"] if info else None,
        "chain_id": info["chain_id"] if info else None,
        "client": info["client"] if info else None,
        "state_file": str(files.state),
        "state_bytes": files.state.stat().st_size if files.state.is_file() else None,
        "log_file": str(files.log),
    }
