"""CLI command: up — the whole stack in one command (what `make run` runs).

devnet (anvil, state kept) -> compile -> deploy (no-op when current) -> devnet roles and demo data
(idempotent) -> index catch-up -> indexer (follow), HTTP API + web page and the data room's deletion
loop as child processes -> the data room's demo (a researcher signs in, downloads, receives a
release; a citizen revokes, the loop opens the obligation, the researcher confirms) until Ctrl-C.
The children are separate processes so that
one crashing is visible in its log and is restarted, and the indexer does not share a GIL with the API.
They die with `up`, also when it is killed (cli/supervise.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import CityLedgerError
from .chain_cmds import prompt_password
from .supervise import Children, StackFile, clear_stale_stack, die_with_parent, port_taken, started_at

out = Console(highlight=False)


def cli_command(*args: str) -> list[str]:
    """The `cityledger` command of this interpreter (works from a venv without activating it)."""
    return [sys.executable, "-m", "cityledger", *args]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _run_step(args: list[str], what: str, log: Path) -> str:
    """Run one of our own commands to completion; its output goes to the log; failure is an error."""
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=fh, text=True)
        fh.write(proc.stdout)
    if proc.returncode != 0:
        raise CityLedgerError(f"{what} failed (exit {proc.returncode}); see {log}")
    return proc.stdout


def store_matches(db_url: str, deployment) -> bool:
    """Does the store index exactly this deployment? (An empty or missing store does: nothing to reset.)"""
    from sqlalchemy import select

    from ..indexer.models import Checkpoint
    from ..indexer.store import make_engine, migrate
    from ..indexer.sync import CONTRACT_COLUMNS, deployment_mismatch

    migrate(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Checkpoint)).mappings().first()
    finally:
        engine.dispose()
    addresses = {name: deployment.contracts[name]["address"] for name in CONTRACT_COLUMNS}
    return row is None or deployment_mismatch(dict(row), deployment.chain_id, addresses) is None


def _devnet(net, cfg, keep_devnet: bool, adopted: bool) -> dict | None:
    """Start (or reuse) the devnet; returns its stack-file entry when this `up` owns it (stops it on exit)."""
    from ..chain.devnet import devnet_start

    # A devnet kept past `up` must outlive it; one `up` owns dies with it (SIGTERM: anvil writes its state).
    st = devnet_start(net, cfg, preexec_fn=None if keep_devnet else die_with_parent())
    owned = (adopted or not st.get("already_running")) and not keep_devnet
    word = "adopted" if adopted else ("already running" if st.get("already_running") else "started")
    out.print(f"[green]✓[/] devnet {word} at {st['rpc_url']} (chain id {st['chain_id']}, block {st['block']})")
    return {"pid": st["pid"], "started": started_at(st["pid"])} if owned else None


def _prepare(net, cfg, deployer, demo: bool, status, setup_log: Path):
    """Compile, deploy (a no-op when current), the demo data, the index catch-up and the demo release."""
    from ..chain.accounts import devnet_accounts
    from ..chain.artifacts import compile_all
    from ..chain.connection import connect
    from ..chain.deploy import deploy_all
    from ..chain.roles import seed_devnet_roles

    status.update("compiling contracts")
    arts = compile_all(cfg)
    out.print(f"[green]✓[/] {len(arts)} contracts compiled (vyper)")
    status.update("deploying")
    w3 = connect(net)
    deployment = deploy_all(w3, deployer, net, cfg)
    out.print(f"[green]✓[/] contracts {'already deployed' if deployment.reused else 'deployed'} ({deployment.path})")
    summary = None
    if net.devnet and demo:
        from ..demo.seed import seed_demo

        accounts = devnet_accounts(net)
        seed_devnet_roles(w3, deployment, accounts, cfg)
        status.update("publishing the sample datasets and demo activity")
        summary = seed_demo(w3, deployment, accounts, cfg.data_dir, cfg=cfg, log=lambda text: status.update(text))
        out.print(
            f"[green]✓[/] sample data: {len(summary.datasets)} datasets published "
            f"(vega-datasets + a synthetic pseudonymous citizen dataset), organisation profiles, consents, access "
            f"with a privacy budget, a release operator, rights requests"
        )
    status.update("indexing (catch-up)")
    # A store of another deployment (other addresses or chain) is started afresh.
    fresh = [] if store_matches(cfg.db_url, deployment) else ["--reset"]
    _run_step(cli_command("index", "--once", "--quiet", "--network", net.name, *fresh), "index catch-up", setup_log)
    out.print("[green]✓[/] index caught up")
    return deployment, summary


def wait_until(predicate, what: str, timeout: float = 90.0) -> None:
    """Poll `predicate` (the running stack catching up) until it holds; a clear error after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise CityLedgerError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.5)


def demo_dataroom(net, cfg, deployment, summary, base: str, status) -> None:
    """The data room's demo once the stack runs (demo/seed.py `dataroom_demo`): the deletion loop and
    the indexer are the running children, so the demo waits for them."""
    from ..chain.accounts import devnet_accounts
    from ..chain.connection import connect
    from ..demo.seed import dataroom_demo

    status.update("the data room: sign-in, download, release, revocation, deletion")
    lines = dataroom_demo(
        base,
        connect(net),
        deployment,
        devnet_accounts(net),
        cfg.data_dir,
        summary,
        follow=lambda opened: wait_until(opened, "the data room's deletion loop (logs/obligations.log)"),
        settle=wait_until,
        cfg=cfg,
    )
    for line in lines:
        out.print(f"[green]✓[/] {line}")


def _operator_ready(net) -> bool:
    """Whether the data room has a release-operator key here (the deletion loop needs one)."""
    from ..dataroom.room import operator_account
    from ..query.errors import Unavailable

    try:
        operator_account(net)
    except Unavailable as exc:
        out.print(f"[yellow]![/] the data room's deletion loop is not started: {exc}")
        return False
    return True


def _running(net, cfg, deployment, base: str, logs: Path, stops_devnet: bool, ready_file: Path | None) -> None:
    """Say where everything is (and write the ready file for scripts)."""
    table = Table(title="CityLedger is running", show_header=False, title_justify="left")
    table.add_row("web page", f"{base}/")
    table.add_row("API (OpenAPI)", f"{base}/docs   {base}/openapi.json")
    table.add_row("chain", f"{net.rpc_url} (chain id {net.chain_id}, network '{net.name}')")
    for name, entry in deployment.contracts.items():
        table.add_row(name, entry["address"])
    table.add_row("store", cfg.db_url)
    table.add_row("data", str(cfg.data_dir))
    table.add_row("logs", str(logs))
    out.print(table)
    if net.devnet:
        out.print(
            "Wallet: add the network above (chain id 31337) and import a devnet citizen key "
            "(`cityledger accounts`, accounts 6-9). CLI: `cityledger datasets`, `cityledger status`."
        )
    out.print("Ctrl-C stops the indexer, the API" + (" and the devnet" if stops_devnet else "") + ".")
    if ready_file:
        contracts = {n: e["address"] for n, e in deployment.contracts.items()}
        ready = {"api": base, "rpc_url": net.rpc_url, "chain_id": net.chain_id, "contracts": contracts}
        ready_file.write_text(json.dumps(ready))


def up_cmd(
    network: Annotated[str | None, typer.Option("--network", "-n", help="A network of cityledger.toml")] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Publish the sample datasets and demo activity (devnet)")
    ] = True,
    keep_devnet: Annotated[bool, typer.Option("--keep-devnet", help="Leave the devnet running on exit")] = False,
    ready_file: Annotated[
        Path | None,
        typer.Option("--ready-file", help="Write the stack's URLs here as JSON once ready (for scripts)"),
    ] = None,
) -> None:
    """Start everything: devnet, contracts, sample data, indexer, API and web page. Ctrl-C stops it.

    The indexer, the API and a devnet `up` started die with it, also when it is killed; a stack left
    by a killed `up` is found from <data dir>/up.json and stopped (its devnet adopted) first."""
    from ..chain.accounts import deployer_account, devnet_accounts, key_source
    from ..chain.devnet import devnet_stop, port_in_use
    from ..config import config

    cfg = config()
    net = cfg.network(network)
    deployer = deployer_account(net, prompt=prompt_password)  # the key the user set, else devnet account 0
    if net.devnet and deployer.address != devnet_accounts(net)[0].address:
        # The devnet stack is deployed and seeded by the mnemonic's accounts: a key the user set is
        # refused here rather than ignored (deploy, publish, ... sign with it on any network).
        raise CityLedgerError(
            f"{key_source()} is set ({deployer.address}), but `cityledger up` on a devnet deploys and seeds the demo "
            "from the devnet's own accounts: unset it, or give --network for the network the key is for"
        )
    logs = cfg.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stack = StackFile(cfg.data_dir)
    said, adopted = clear_stale_stack(stack)
    for line in said:
        out.print(f"[yellow]![/] {line}")
    if port_in_use(cfg.api_port):  # found now, not after the demo is published
        raise CityLedgerError(port_taken(cfg.api_port))
    base = f"http://{cfg.api_host}:{cfg.api_port}"
    devnet: dict | None = None
    children = Children(logs, cfg.api_port, on_change=lambda: stack.write(children.procs, devnet, base))

    def shutdown(*_):
        raise KeyboardInterrupt

    # Both explicitly: a shell starting us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        with out.status("starting...") as status:
            if net.devnet:
                status.update("devnet: starting anvil")
                devnet = _devnet(net, cfg, keep_devnet, adopted)
                stack.write(children.procs, devnet, base)
            deployment, summary = _prepare(net, cfg, deployer, demo, status, logs / "up.log")
            status.update("starting the indexer, the API and the data room's deletion loop")
            children.spawn("indexer", cli_command("index", "--quiet", "--network", net.name))
            serve = ("serve", "--host", cfg.api_host, "--port", str(cfg.api_port), "--network", net.name)
            children.spawn("api", cli_command(*serve))
            if _operator_ready(net):
                children.spawn("obligations", cli_command("dataroom", "serve-obligations", "--network", net.name))
            if not _wait_http(f"{base}/api/status", 60, children.procs["api"]):
                raise CityLedgerError(f"the API did not come up on {base}; see {logs / 'api.log'}")
            if summary is not None and summary.access_id:
                demo_dataroom(net, cfg, deployment, summary, base, status)
        _running(net, cfg, deployment, base, logs, devnet is not None, ready_file)
        while True:
            time.sleep(0.5)
            children.check(lambda text: out.print(f"[yellow]{text}"))
    except KeyboardInterrupt:
        out.print("stopping...")
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short (anvil must dump its state).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop()
        if devnet is not None:
            devnet_stop(cfg)  # anvil dumps its state on exit: the next `up` resumes it
        stack.remove()


def register(app: typer.Typer) -> None:
    app.command("up")(up_cmd)
