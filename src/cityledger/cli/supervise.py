"""The supervisor of `cityledger up`: children that die with it, a stack file that names them, and
the stale stack of an `up` that was killed, found and stopped before a new one starts.

Linux: each child asks the kernel for SIGTERM when `up` dies (prctl PR_SET_PDEATHSIG), so a
SIGKILLed `up` (a crash, the OOM killer) takes its indexer, API and devnet with it; anvil writes its
state on that SIGTERM as on any other. The stack file (<data dir>/up.json) names each process with
its start time, so a pid the kernel has since given to another program is never signalled."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ..chain.devnet import HOST, port_in_use
from ..errors import CityLedgerError

PR_SET_PDEATHSIG = 1  # linux/prctl.h
QUICK_EXIT = 10.0  # a child that exits sooner than this after its start is failing, not just ending
MAX_BACKOFF = 30.0


def _prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A Popen preexec_fn: the child gets SIGTERM when this process dies (None where there is no prctl)."""
    if _PRCTL is None:
        return None
    parent, sigterm = os.getpid(), int(signal.SIGTERM)

    def preexec() -> None:
        _PRCTL(PR_SET_PDEATHSIG, sigterm)
        if os.getppid() != parent:  # the parent died before the request: nobody would send it
            os.kill(os.getpid(), sigterm)

    return preexec


def started_at(pid: int) -> int | None:
    """When the process started (clock ticks since boot, /proc/PID/stat field 22); None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(") ", 1)[1].split()  # after the command name, which may hold spaces
    return None if fields[0] in ("Z", "X") else int(fields[19])


def alive(entry: dict) -> bool:
    """Is the process of a stack-file entry ({"pid", "started"}) still that process?"""
    return entry.get("started") is not None and started_at(entry["pid"]) == entry["started"]


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the group: children are started as group leaders (start_new_session)
        return
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def terminate(entry: dict, timeout: float = 10.0) -> None:
    """SIGTERM to the process of a stack-file entry and its group, then SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal(entry["pid"], sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive(entry):
            time.sleep(0.05)
        if not alive(entry):
            return


class StackFile:
    """<data dir>/up.json: the `up` process, its children and whether it started the devnet."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "up.json"

    def read(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def write(self, children: dict[str, subprocess.Popen], devnet: dict | None, api: str) -> None:
        entry = lambda pid: {"pid": pid, "started": started_at(pid)}  # noqa: E731
        doc = {
            "up": entry(os.getpid()),
            "children": {name: entry(proc.pid) for name, proc in children.items()},
            "devnet": devnet,
            "api": api,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        tmp.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def clear_stale_stack(stack: StackFile) -> tuple[list[str], bool]:
    """Stop what a killed `up` left running; returns (what was done, in words) and whether the
    devnet it had started is still running (then adopted: the new `up` stops it on exit).

    An `up` that is still running is an error: two stacks would share the port, store and devnet."""
    doc = stack.read()
    if doc is None:
        return [], False
    if alive(doc.get("up") or {}):
        raise CityLedgerError(
            f"CityLedger is already running here (`cityledger up`, pid {doc['up']['pid']}, API {doc.get('api')}): "
            "stop it first (Ctrl-C in its terminal, or kill -TERM it)"
        )
    said = []
    for name, entry in (doc.get("children") or {}).items():
        if alive(entry):
            terminate(entry)
            said.append(f"stopped the {name} (pid {entry['pid']}) left running by a killed `up`")
    devnet = doc.get("devnet")
    adopted = bool(devnet and alive(devnet))
    if adopted:
        said.append(f"adopted the devnet (pid {devnet['pid']}) a killed `up` started: it stops with this one")
    stack.remove()
    return said, adopted


class Children:
    """The indexer and the API of `up`: started to die with it, restarted with backoff when they
    exit, and a clear error (not a restart loop) when the API's port is taken by another program."""

    def __init__(self, logs: Path, api_port: int, on_change: Callable[[], None]):
        self.logs = logs
        self.api_port = api_port
        self.on_change = on_change  # rewrite the stack file
        self.procs: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}
        self.backoff: dict[str, float] = {}
        self.due: dict[str, float] = {}  # name -> when to restart it

    def spawn(self, name: str, args: list[str]) -> None:
        if name == "api" and port_in_use(self.api_port):
            raise CityLedgerError(port_taken(self.api_port))
        with (self.logs / f"{name}.log").open("a") as fh:  # the child keeps its own copy of the handle
            self.procs[name] = subprocess.Popen(
                args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent()
            )
        self.started[name] = time.monotonic()
        self.on_change()

    def check(self, say: Callable[[str], None]) -> None:
        """Restart the children that exited: at once after a long run, later after each quick exit."""
        now = time.monotonic()
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                continue
            if name not in self.due:
                ran = now - self.started[name]
                wait = 0.0 if ran >= QUICK_EXIT else min(max(1.0, 2 * self.backoff.get(name, 0.5)), MAX_BACKOFF)
                self.backoff[name] = wait
                self.due[name] = now + wait
                say(
                    f"{name} exited ({proc.returncode}) after {ran:.0f}s; restarting"
                    + (f" in {wait:.0f}s" if wait else "")
                    + f" (log: {self.logs / (name + '.log')})"
                )
            if now >= self.due[name]:
                del self.due[name]
                self.spawn(name, proc.args)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                _signal(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def port_taken(port: int) -> str:
    return (
        f"port {port} on {HOST} is taken by another program, not by this `up`: stop it, "
        f"or give the API another port (CITYLEDGER_API_PORT)"
    )
