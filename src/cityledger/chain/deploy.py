"""Deploy the contracts in the order of docs/CONTRACTS.md and write deployments/<chain id>.json.

A deployment is current when every contract in the record still has code at its address and
was built from the same sources (source hash); deploying again then does nothing unless forced."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ..config import Config, Network, config
from ..errors import CityLedgerError
from .artifacts import Artifact, compile_all, compiler_version
from .deployments import Deployment, deployment_path, load_deployment, save_deployment
from .tx import transact

# (name, constructor arguments): "deployer" is the deploying account, other names are the
# addresses of contracts deployed before (docs/CONTRACTS.md, "Deployment order").
DEPLOY_ORDER: list[tuple[str, tuple[str, ...]]] = [
    ("CityRoles", ("deployer",)),
    ("DatasetRegistry", ("CityRoles",)),
    ("ConsentRegistry", ("CityRoles", "DatasetRegistry")),
    ("AccessRegistry", ("CityRoles", "DatasetRegistry")),
    ("RightsRegistry", ("CityRoles", "DatasetRegistry")),
]


def git_commit(cfg: Config) -> str | None:
    """HEAD of the project's repository, with '-dirty' when tracked files have changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cfg.root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cfg.root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def planned(artifacts: dict[str, Artifact]) -> list[tuple[str, tuple[str, ...]]]:
    """The contracts of DEPLOY_ORDER that are compiled, in order; each needs its predecessors."""
    plan = []
    for name, args in DEPLOY_ORDER:
        if name not in artifacts:
            continue
        missing = [a for a in args if a != "deployer" and a not in artifacts]
        if missing:
            raise CityLedgerError(f"{name} needs {', '.join(missing)}, which is not in contracts/")
        plan.append((name, args))
    return plan


def is_current(w3: Web3, record: Deployment, artifacts: dict[str, Artifact], names: list[str]) -> bool:
    """The record names exactly these contracts, each built from today's sources and with code on chain."""
    if sorted(record.contracts) != sorted(names):
        return False
    for name in names:
        entry = record.contracts[name]
        if entry.get("source_hash") != artifacts[name].source_hash:
            return False
        if len(w3.eth.get_code(Web3.to_checksum_address(entry["address"]))) == 0:
            return False
    return True


def deploy_all(
    w3: Web3,
    deployer: LocalAccount,
    network: Network | str | None,
    cfg: Config | None = None,
    force: bool = False,
    progress: Callable[[str, str], None] | None = None,
) -> Deployment:
    """Deploy (or find current) every contract; write and return the deployment record.

    `progress(name, text)` is told each contract's address as it is deployed."""
    cfg = cfg or config()
    net = network if isinstance(network, Network) else cfg.network(network)
    chain_id = w3.eth.chain_id
    if chain_id != net.chain_id:
        raise CityLedgerError(f"network '{net.name}' is chain id {net.chain_id} but the RPC says {chain_id}; refusing")
    artifacts = compile_all(cfg)
    plan = planned(artifacts)
    if not plan:
        raise CityLedgerError(
            f"nothing to deploy: none of {', '.join(n for n, _ in DEPLOY_ORDER)} in {cfg.contracts_dir}"
        )
    names = [name for name, _ in plan]
    if not force and deployment_path(chain_id, cfg).is_file():
        try:
            record = load_deployment(chain_id, cfg)
        except CityLedgerError:
            record = None  # unreadable: deploy afresh and replace it
        if record is not None and is_current(w3, record, artifacts, names):
            record.reused = True
            return record

    deployed: dict[str, dict] = {}
    for name, arg_names in plan:
        art = artifacts[name]
        args = [deployer.address if a == "deployer" else deployed[a]["address"] for a in arg_names]
        ctor_inputs = next((item.get("inputs", []) for item in art.abi if item.get("type") == "constructor"), [])
        if len(ctor_inputs) != len(args):
            raise CityLedgerError(
                f"{name}'s constructor takes {len(ctor_inputs)} arguments, docs/CONTRACTS.md says {len(args)} "
                f"({', '.join(arg_names)})"
            )
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = transact(w3, deployer, factory.constructor(*args))
        deployed[name] = {
            "address": receipt["contractAddress"],
            "tx_hash": receipt["transactionHash"].to_0x_hex(),
            "block": receipt["blockNumber"],
            "artifact": f"{name}.json",
            "source_hash": art.source_hash,
            "constructor_args": args,
        }
        if progress:
            progress(name, receipt["contractAddress"])
    record = Deployment(
        chain_id=chain_id,
        network=net.name,
        contracts=deployed,
        deployer=deployer.address,
        start_block=min(entry["block"] for entry in deployed.values()),
        git_commit=git_commit(cfg),
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        compiler_version=compiler_version(),
    )
    save_deployment(record, cfg)
    return record
