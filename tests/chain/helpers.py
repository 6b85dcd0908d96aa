"""Test helpers of the chain tests: a throw-away project with the placeholder contracts."""

from __future__ import annotations

import shutil
from pathlib import Path

from cityledger.chain.devnet import anvil_binary
from cityledger.config import Config, Network, load_config

PLACEHOLDER = Path(__file__).parent / "placeholder"
REAL_ROOT = Path(__file__).resolve().parents[2]
ANVIL = anvil_binary(load_config(REAL_ROOT))  # the native binary, as the CLI runs it
MNEMONIC = "test test test test test test test test test test test junk"


def make_project(root: Path, rpc_url: str = "http://127.0.0.1:1", extra_networks: str = "") -> Config:
    """A project at `root`: cityledger.toml (devnet at rpc_url, plus extra_networks) and placeholder contracts."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PLACEHOLDER, root / "contracts", dirs_exist_ok=True)
    (root / "cityledger.toml").write_text(
        f"""
[networks.devnet]
rpc_url = "{rpc_url}"
chain_id = 31337
devnet = true
mnemonic = "{MNEMONIC}"
accounts = 10
{extra_networks}
"""
    )
    return load_config(root)


def devnet_of(cfg: Config) -> Network:
    return cfg.network("devnet")
