"""The second EVM client: Hardhat's node (npm `hardhat`, pinned in package.json) on 127.0.0.1.

`Hardhat` runs one `hardhat node` as `Anvil` runs one anvil (the same interface: tests use either
through the `[networks.hardhat]` entry, docs/NETWORKS.md "A second client: Hardhat"). The node's
chain id, mnemonic and account count come from the environment that hardhat.config.cjs reads, since
`hardhat node` takes them from its config only. No compiler is downloaded (CityLedger deploys its
own Vyper bytecode) and the telemetry prompt is off, so the node runs offline and unattended."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..config import Config, config
from .devnet import DEFAULT_MNEMONIC, HOST, Anvil, DevnetError


def hardhat_binary(cfg: Config | None = None) -> Path:
    """node_modules/.bin/hardhat (a Node script: the process started is node itself), or a DevnetError."""
    cfg = cfg or config()
    path = cfg.root / "node_modules" / ".bin" / "hardhat"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise DevnetError(f"hardhat not found at {path}: run `npm install` in {cfg.root}")
    return path


class Hardhat(Anvil):
    """One `hardhat node` process; started on enter, stopped on exit. It keeps no state file: a chain
    lives as long as its node (load_state, dump_state and state_path are refused)."""

    client = "hardhat"

    def __init__(
        self,
        port: int | None = None,
        chain_id: int = 31337,
        mnemonic: str = DEFAULT_MNEMONIC,
        accounts: int = 10,
        cfg: Config | None = None,
        startup_timeout: float = 60.0,  # node loads hardhat's modules first: seconds, not milliseconds
        log_path: Path | str | None = None,
        preexec_fn=None,
    ):
        super().__init__(
            port=port,
            chain_id=chain_id,
            mnemonic=mnemonic,
            accounts=accounts,
            cfg=cfg,
            startup_timeout=startup_timeout,
            log_path=log_path,
            preexec_fn=preexec_fn,
        )

    def command(self) -> list[str]:
        cfg = self.cfg or config()
        env = shutil.which("env") or "/usr/bin/env"
        # env(1) execs hardhat in its own place: the pid we hold is the node's, and stopping it stops it.
        # In the project folder: Hardhat refuses to run from elsewhere (HH12, "non-local installation").
        return [
            env,
            "-C", str(cfg.root),
            "HARDHAT_DISABLE_TELEMETRY_PROMPT=true",
            f"CITYLEDGER_HARDHAT_CHAIN_ID={self.chain_id}",
            f"CITYLEDGER_HARDHAT_MNEMONIC={self.mnemonic}",
            f"CITYLEDGER_HARDHAT_ACCOUNTS={self.accounts}",
            str(hardhat_binary(cfg)),
            "--config", str(cfg.root / "hardhat.config.cjs"),
            "node",
            "--hostname", HOST,
            "--port", str(self.port),
        ]  # fmt: skip
