"""CLI commands of the chain layer: compile, devnet start|stop|status, deploy, networks, accounts,
run, console, gas (a Brownie-like workflow for Vyper 0.4 + anvil + web3.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..config import config
from ..errors import CityLedgerError

out = Console(highlight=False, soft_wrap=True)  # one message, one line (tables still fit the width)

NetworkOpt = Annotated[
    str | None, typer.Option("--network", "-n", help="A network of cityledger.toml (default: devnet)")
]


def prompt_password(text: str) -> str:
    """The keystore password from the terminal; a clear error, not a hang, when there is none."""
    if not sys.stdin.isatty():
        raise CityLedgerError("the keystore needs a password: set CITYLEDGER_KEYSTORE_PASSWORD (no terminal to ask)")
    return typer.prompt(text, hide_input=True)


def compile_cmd(force: Annotated[bool, typer.Option("--force", "-f", help="Recompile everything")] = False) -> None:
    """Compile contracts/*.vy (Vyper 0.4.3) into build/contracts/; only what changed."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from ..chain.artifacts import compile_all, contract_sources

    cfg = config()
    sources = contract_sources(cfg)
    if not sources:
        raise CityLedgerError(f"no contracts in {cfg.contracts_dir}")
    states: dict[str, str] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        console=out, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("compiling", total=len(sources))

        def report(name: str, state: str) -> None:
            states[name] = state
            if state == "compiling":
                progress.update(task, description=f"compiling {name}")
            else:
                progress.advance(task)

        artifacts = compile_all(cfg, force=force, progress=report)
    table = Table(title=f"build artifacts in {cfg.build_dir}", title_justify="left")
    for col in ("contract", "", "runtime bytes", "source hash", "compiler"):
        table.add_column(col)
    for name, art in artifacts.items():
        table.add_row(name, states[name], str(art.deployed_bytecode_size), art.source_hash[:12], art.compiler_version)
    out.print(table)
    compiled = sum(1 for s in states.values() if s == "compiled")
    out.print(f"{compiled} compiled, {len(states) - compiled} unchanged")


def deploy_cmd(
    network: NetworkOpt = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Deploy again even if the deployment is current")
    ] = False,
    roles: Annotated[bool, typer.Option(help="On a devnet, grant the devnet roles to accounts 1-4")] = True,
    admin: Annotated[
        str | None,
        typer.Option(
            "--admin",
            help="The city data office's address (default: the deployer); another address takes over by calling "
            "accept_ownership() from its own account",
        ),
    ] = None,
    max_snapshot_age: Annotated[
        int | None,
        typer.Option(
            "--max-snapshot-age",
            help="How many blocks old a release's consent snapshot may be (default: a day of 12-second blocks, "
            "7200; an L2 at 2 s wants 43200)",
        ),
    ] = None,
) -> None:
    """Deploy the contracts and write deployments/<chain id>.json (a no-op if current, unless --force)."""
    from ..chain.accounts import deployer_account, devnet_accounts, key_source
    from ..chain.connection import connect
    from ..chain.deploy import DEFAULT_MAX_SNAPSHOT_AGE, admin_handover, deploy_all
    from ..query.errors import BadInput
    from ..query.validate import address

    cfg = config()
    net = cfg.network(network)
    if admin is not None:  # a typo fails before any key is asked for or the node contacted
        try:
            admin = address(admin, "--admin")
        except BadInput as exc:
            raise CityLedgerError(str(exc)) from None
    w3 = connect(net, timeout=5)
    deployer = deployer_account(net, prompt=prompt_password)
    deployment = deploy_all(
        w3,
        deployer,
        net,
        cfg,
        force=force,
        progress=lambda name, addr: out.print(f"  deployed {name} at {addr}"),
        admin=admin,
        max_snapshot_age=DEFAULT_MAX_SNAPSHOT_AGE if max_snapshot_age is None else max_snapshot_age,
    )
    if deployment.reused:
        out.print(
            f"deployment on chain {deployment.chain_id} is current ({deployment.path}): nothing to do "
            "(--force deploys again)"
        )
    else:
        out.print(f"deployment record: {deployment.path}")
    handover = admin_handover(w3, deployment, cfg)
    if handover:
        out.print(f"[yellow]admin handover pending:[/] {handover}")
    if net.devnet and roles:
        from ..chain.roles import seed_devnet_roles

        accounts = devnet_accounts(net)
        if deployer.address != accounts[0].address:
            # The roles are granted by devnet account 0; the key the user set administers instead.
            out.print(f"devnet roles not granted: the contracts' admin is {deployer.address} ({key_source()})")
            return
        granted = seed_devnet_roles(w3, deployment, accounts, cfg)
        if granted:
            out.print(f"granted {granted} devnet roles (see `cityledger accounts`)")


def devnet_start(network: NetworkOpt = None) -> None:
    """Start anvil in the background (state kept in the data dir across restarts)."""
    from ..chain import devnet

    cfg = config()
    status = devnet.devnet_start(cfg.network(network), cfg)
    if status["already_running"]:
        out.print(f"devnet already running (pid {status['pid']}) at {status['rpc_url']}, block {status['block']}")
        return
    out.print(
        f"devnet started: {status['rpc_url']} chain id {status['chain_id']} block {status['block']} "
        f"(pid {status['pid']}, state {status['state_file']}, log {status['log_file']})"
    )


def devnet_stop() -> None:
    """Stop the background anvil (it writes its state file on the way out)."""
    from ..chain import devnet

    cfg = config()
    pid = devnet.devnet_stop(cfg)
    if pid is None:
        out.print("devnet is not running")
    else:
        out.print(f"devnet stopped (pid {pid}); state kept in {devnet.devnet_files(cfg).state}")


def devnet_status(network: NetworkOpt = None) -> None:
    """Whether the devnet runs: pid, RPC URL, block number, chain id, state file."""
    from ..chain import devnet

    cfg = config()
    s = devnet.devnet_status(cfg.network(network), cfg)
    table = Table(show_header=False, box=None)
    state = "running" if s["running"] else "stopped"
    if not s["running"] and s["answering"]:
        state = "stopped (but another node answers at the RPC URL)"
    rows = [
        ("devnet", state),
        ("pid", s["pid"]),
        ("rpc url", s["rpc_url"]),
        ("chain id", s["chain_id"]),
        ("block", s["block"]),
        ("client", s["client"]),
        (
            "state file",
            f"{s['state_file']} ({s['state_bytes']} bytes)" if s["state_bytes"] else f"{s['state_file']} (none yet)",
        ),
        ("log", s["log_file"]),
    ]
    for key, value in rows:
        table.add_row(key, "-" if value is None else str(value))
    out.print(table)


def networks_cmd() -> None:
    """The configured networks and their deployment records."""
    cfg = config()
    table = Table()
    for col in ("network", "chain id"):
        table.add_column(col)
    table.add_column("rpc url", no_wrap=True)
    for col in ("kind", "deployment"):
        table.add_column(col)
    for name in sorted(cfg.networks):
        net = cfg.network(name)
        record = cfg.deployments_dir / f"{net.chain_id}.json"
        table.add_row(
            name, str(net.chain_id), net.rpc_url, "devnet (anvil)" if net.devnet else "key from keystore/env",
            str(record.relative_to(cfg.root)) if record.is_file() and record.is_relative_to(cfg.root)
            else (str(record) if record.is_file() else "-"),
        )  # fmt: skip
    out.print(table)


def accounts_cmd(network: NetworkOpt = None) -> None:
    """The devnet accounts, their intended roles, and (if deployed) roles and balances on chain."""
    from ..chain.accounts import devnet_accounts, role_of_index
    from ..chain.connection import connect
    from ..chain.deployments import contract, load_deployment
    from ..codes import EVER_SHIFT, KIND_SHIFT, PUBLISHER_KINDS, ROLES

    cfg = config()
    net = cfg.network(network)
    accounts = devnet_accounts(net)
    w3 = roles = None
    try:
        w3 = connect(net, timeout=2)
        roles = contract(w3, load_deployment(net.chain_id, cfg), "CityRoles", cfg)
    except CityLedgerError:
        pass  # offline or not deployed: show what is known
    kinds = {v: k for k, v in PUBLISHER_KINDS.items()}
    table = Table(title=f'{net.name} accounts (mnemonic: "{net.mnemonic}")', title_justify="left")
    table.add_column("#")
    table.add_column("address", no_wrap=True, min_width=42)
    for col in ("devnet role", "on chain", "balance (ETH)"):
        table.add_column(col)
    for i, acct in enumerate(accounts):
        on_chain, balance = "-", "-"
        if w3 is not None:
            balance = f"{w3.from_wei(w3.eth.get_balance(acct.address), 'ether'):.4f}"
        if roles is not None:
            bits = roles.functions.roles_of(acct.address).call()
            names = [n for n, bit in ROLES.items() if bits & bit]
            kind = (bits >> KIND_SHIFT) & 0xFF  # bits 16-23 are the roles ever held (codes.EVER_SHIFT)
            if kind:
                names = [f"{n} ({kinds.get(kind, kind)})" if n == "publisher" else n for n in names]
            former = [n for n, bit in ROLES.items() if (bits >> EVER_SHIFT) & bit and not bits & bit]
            names += [f"former {n}" for n in former]
            if i == 0 and roles.functions.owner().call() == acct.address:
                names.insert(0, "admin")
            on_chain = ", ".join(names) or "-"
        table.add_row(str(i), acct.address, role_of_index(i), on_chain, balance)
    out.print(table)


def script_namespace(network: str | None) -> dict:
    """What `cityledger run` and `cityledger console` give a script: w3, deployment, accounts, contracts."""
    from ..chain.accounts import configured_key, deployer_account, devnet_accounts
    from ..chain.connection import connect
    from ..chain.deployments import contracts, load_deployment
    from ..chain.tx import transact

    cfg = config()
    net = cfg.network(network)
    w3 = connect(net, timeout=5)
    try:
        deployment = load_deployment(net.chain_id, cfg)
        deployed = contracts(w3, deployment, cfg)
    except CityLedgerError:
        deployment, deployed = None, {}
    key = configured_key(prompt=prompt_password)  # a key the user set signs, on every network
    if key is not None:
        accounts = [key]
    elif net.devnet:
        accounts = devnet_accounts(net)
    else:
        accounts = [deployer_account(net)]  # no key: says which to set
    return {
        "w3": w3,
        "network": net,
        "cfg": cfg,
        "deployment": deployment,
        "accounts": accounts,
        "contracts": deployed,
        "transact": transact,
    }


def run_cmd(
    script: Annotated[Path, typer.Argument(help="A Python file; it may define main()")],
    network: NetworkOpt = None,
) -> None:
    """Run a script with w3, deployment, accounts, contracts, transact and network injected."""
    import runpy

    if not script.is_file():
        raise CityLedgerError(f"no script at {script}")
    namespace = script_namespace(network)
    sys.argv = [str(script)]
    result = runpy.run_path(str(script), init_globals=namespace, run_name="__cityledger_run__")
    if callable(result.get("main")):
        result["main"]()


def console_cmd(network: NetworkOpt = None) -> None:
    """An interactive Python console with w3, deployment, accounts, contracts and transact."""
    import code

    namespace = script_namespace(network)
    names = ", ".join(sorted(namespace))
    code.interact(banner=f"CityLedger console on {namespace['network'].name}: {names}", local=namespace, exitmsg="")


def gas_cmd(quick: Annotated[bool, typer.Option("--quick", help="Fewer runs")] = False) -> None:
    """Gas report of the contracts' functions (bench/gas.py, written with the contracts)."""
    cfg = config()
    script = cfg.root / "bench" / "gas.py"
    if not script.is_file():
        raise CityLedgerError(f"no gas report yet: {script} does not exist")
    rc = subprocess.call([sys.executable, str(script), *(["--quick"] if quick else [])], cwd=cfg.root)
    if rc:
        raise typer.Exit(rc)


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_cmd)
    devnet = typer.Typer(help="The local anvil devnet: start, stop, status.", no_args_is_help=True)
    devnet.command("start")(devnet_start)
    devnet.command("stop")(devnet_stop)
    devnet.command("status")(devnet_status)
    app.add_typer(devnet, name="devnet")
    app.command("deploy")(deploy_cmd)
    app.command("networks")(networks_cmd)
    app.command("accounts")(accounts_cmd)
    app.command("run")(run_cmd)
    app.command("console")(console_cmd)
    app.command("gas")(gas_cmd)
