"""Deploy the contracts in the order of docs/CONTRACTS.md and write deployments/<chain id>.json.

A deployment is current when every contract in the record still has code at its address, was
built from the same sources (source hash) and with the same constructor arguments; deploying
again then does nothing unless forced.

The admin: CityRoles makes its deployer the admin and, when another admin is named, only starts
a two-step transfer that the named admin completes with `accept_ownership()` from its own
account (a mistyped address can then take nothing). On a devnet the deployer is the admin."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ..config import Config, Network, config
from ..errors import CityLedgerError
from .artifacts import Artifact, compile_all, compiler_version
from .deployments import Deployment, contract, deployment_path, load_deployment, save_deployment
from .tx import transact

# A release's consent snapshot may be at most this many blocks old: a day of 12-second blocks.
# Chains with faster blocks want more (an L2 at 2 s: 43,200 for a day).
DEFAULT_MAX_SNAPSHOT_AGE = 7200

# Constructor arguments that are deployment parameters (deploy_all's keyword arguments), not
# addresses of contracts deployed before.
PARAMETERS = ("admin", "max_snapshot_age")

# (name, constructor arguments): a parameter, or the address of a contract deployed before
# (docs/CONTRACTS.md, "Deployment order").
DEPLOY_ORDER: list[tuple[str, tuple[str, ...]]] = [
    ("CityRoles", ("admin",)),
    ("DatasetRegistry", ("CityRoles",)),
    ("ConsentRegistry", ("CityRoles", "DatasetRegistry")),
    ("AccessRegistry", ("CityRoles", "DatasetRegistry", "max_snapshot_age")),
    ("RightsRegistry", ("CityRoles", "DatasetRegistry")),
    ("DeletionRegistry", ("AccessRegistry", "ConsentRegistry")),
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
        missing = [a for a in args if a not in PARAMETERS and a not in artifacts]
        if missing:
            raise CityLedgerError(f"{name} needs {', '.join(missing)}, which is not in contracts/")
        plan.append((name, args))
    return plan


def constructor_args(arg_names: tuple[str, ...], params: dict, deployed: dict[str, dict]) -> list:
    """A contract's constructor arguments: parameters by name, the others deployed addresses."""
    return [params[a] if a in PARAMETERS else deployed[a]["address"] for a in arg_names]


def is_current(
    w3: Web3,
    record: Deployment,
    artifacts: dict[str, Artifact],
    plan: list[tuple[str, tuple[str, ...]]],
    params: dict,
) -> bool:
    """The record names exactly these contracts, each built from today's sources with today's
    constructor arguments and with code on chain."""
    if sorted(record.contracts) != sorted(name for name, _ in plan):
        return False
    for name, arg_names in plan:
        entry = record.contracts[name]
        if entry.get("source_hash") != artifacts[name].source_hash:
            return False
        if entry.get("constructor_args") != constructor_args(arg_names, params, record.contracts):
            return False
        if len(w3.eth.get_code(Web3.to_checksum_address(entry["address"]))) == 0:
            return False
    return True


def admin_handover(w3: Web3, deployment: Deployment, cfg: Config | None = None) -> str | None:
    """What the named admin still has to do, or None once it is the admin (read from the chain).
    None too for a CityRoles without a two-step transfer (the pipeline tests' placeholder)."""
    roles = contract(w3, deployment, "CityRoles", cfg)
    if not any(item.get("name") == "pending_owner" for item in roles.abi):
        return None
    pending = roles.functions.pending_owner().call()
    if int(pending, 16) == 0:
        return None
    return (
        f"the admin {pending} must call accept_ownership() on CityRoles at {deployment.address('CityRoles')} "
        f"from its own account to take over; until then {roles.functions.owner().call()} is the admin"
    )


def deploy_all(
    w3: Web3,
    deployer: LocalAccount,
    network: Network | str | None,
    cfg: Config | None = None,
    force: bool = False,
    progress: Callable[[str, str], None] | None = None,
    admin: str | None = None,
    max_snapshot_age: int = DEFAULT_MAX_SNAPSHOT_AGE,
) -> Deployment:
    """Deploy (or find current) every contract; write and return the deployment record.

    `admin` (default: the deployer) is the city data office's address; another address than the
    deployer's must accept the role (see the module docstring). `max_snapshot_age` is
    AccessRegistry's bound on a release's consent snapshot, in blocks.
    `progress(name, text)` is told each contract's address as it is deployed, and for CityRoles
    what the named admin must still do."""
    cfg = cfg or config()
    if admin is not None and not Web3.is_address(admin):
        raise CityLedgerError(f"admin {admin!r} is not an address")
    if not isinstance(max_snapshot_age, int) or max_snapshot_age <= 0:
        raise CityLedgerError(f"max_snapshot_age must be a positive number of blocks, not {max_snapshot_age!r}")
    params = {
        "admin": Web3.to_checksum_address(admin) if admin else deployer.address,
        "max_snapshot_age": max_snapshot_age,
    }
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
    if not force and deployment_path(chain_id, cfg).is_file():
        try:
            record = load_deployment(chain_id, cfg)
        except CityLedgerError:
            record = None  # unreadable: deploy afresh and replace it
        if record is not None and is_current(w3, record, artifacts, plan, params):
            record.reused = True
            return record

    deployed: dict[str, dict] = {}
    for name, arg_names in plan:
        art = artifacts[name]
        args = constructor_args(arg_names, params, deployed)
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
            text = receipt["contractAddress"]
            if name == "CityRoles" and params["admin"] != deployer.address:
                text += (
                    f" (admin {params['admin']} must call accept_ownership() on it from its own account; "
                    f"until then the deployer {deployer.address} is the admin)"
                )
            progress(name, text)
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
