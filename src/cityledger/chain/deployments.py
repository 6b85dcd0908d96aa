"""Deployment records: deployments/<chain id>.json, the addresses every other part reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from web3 import Web3

from ..config import Config, config
from ..errors import CityLedgerError
from .artifacts import load_artifact
from .util import write_json_atomic


@dataclass
class Deployment:
    chain_id: int
    network: str
    contracts: dict[str, dict]  # name -> {"address", "tx_hash", "block", "artifact", "source_hash"}
    deployer: str
    start_block: int
    git_commit: str | None = None
    timestamp: str | None = None
    compiler_version: str | None = None
    path: Path | None = field(default=None, compare=False)  # where it was read from / written to
    reused: bool = field(default=False, compare=False)  # deploy_all found it current and deployed nothing

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]["address"]
        except KeyError:
            raise CityLedgerError(
                f"deployment on chain {self.chain_id} has no {name} (has: {', '.join(self.contracts) or 'nothing'})"
            ) from None

    def to_json(self) -> dict:
        return {
            "chain_id": self.chain_id,
            "network": self.network,
            "deployer": self.deployer,
            "start_block": self.start_block,
            "git_commit": self.git_commit,
            "timestamp": self.timestamp,
            "compiler_version": self.compiler_version,
            "contracts": self.contracts,
        }

    @classmethod
    def from_json(cls, data: dict, path: Path | None = None) -> Deployment:
        return cls(
            chain_id=int(data["chain_id"]),
            network=data.get("network", ""),
            contracts=dict(data["contracts"]),
            deployer=data["deployer"],
            start_block=int(data["start_block"]),
            git_commit=data.get("git_commit"),
            timestamp=data.get("timestamp"),
            compiler_version=data.get("compiler_version"),
            path=path,
        )


def deployment_path(chain_id: int, cfg: Config | None = None) -> Path:
    return (cfg or config()).deployments_dir / f"{int(chain_id)}.json"


def _chain_id(chain_id_or_network, cfg: Config) -> int:
    if isinstance(chain_id_or_network, int):
        return chain_id_or_network
    if hasattr(chain_id_or_network, "chain_id"):
        return int(chain_id_or_network.chain_id)
    if chain_id_or_network is None or not str(chain_id_or_network).isdigit():
        return cfg.network(chain_id_or_network).chain_id
    return int(chain_id_or_network)


def load_deployment(chain_id_or_network: int | str | None = None, cfg: Config | None = None) -> Deployment:
    """The record for a chain id or a configured network name (default network if None)."""
    cfg = cfg or config()
    chain_id = _chain_id(chain_id_or_network, cfg)
    path = deployment_path(chain_id, cfg)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CityLedgerError(f"no deployment for chain {chain_id} ({path}): run `cityledger deploy`") from None
    except ValueError as exc:
        raise CityLedgerError(f"{path} is not valid JSON ({exc})") from None
    try:
        return Deployment.from_json(data, path)
    except (KeyError, TypeError, ValueError) as exc:
        raise CityLedgerError(f"{path} is not a deployment record (missing {exc})") from None


def save_deployment(deployment: Deployment, cfg: Config | None = None) -> Path:
    path = deployment_path(deployment.chain_id, cfg)
    write_json_atomic(path, deployment.to_json())
    deployment.path = path
    return path


def contract(w3: Web3, deployment: Deployment, name: str, cfg: Config | None = None):
    """A web3 Contract for `name` at its deployed address, with the ABI from build/contracts."""
    return w3.eth.contract(address=Web3.to_checksum_address(deployment.address(name)), abi=load_artifact(name, cfg).abi)


def contracts(w3: Web3, deployment: Deployment, cfg: Config | None = None) -> dict:
    """Every deployed contract by name."""
    return {name: contract(w3, deployment, name, cfg) for name in deployment.contracts}
