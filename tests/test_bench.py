"""The benchmarks' waits: "not yet" (a status that holds null, a server still starting) is waited
out, a child that exited is named as the reason, and a section that fails says why in
BENCHMARKS.md (bench/run.py's "This section failed" line)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from cityledger.testing import wait_for

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Statuses:
    """A stand-in for the API client: /api/status answers these in turn."""

    def __init__(self, *last_indexed):
        self.answers = [{"last_indexed_block": n, "head_block": 5} for n in last_indexed]

    def get(self, path, **_):
        assert path == "/api/status"
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return type("Response", (), {"json": lambda _self: answer})()


def test_the_lag_wait_waits_while_the_status_holds_null():
    # Was: .get("last_indexed_block", -1) >= head raised TypeError before the indexer's first commit.
    lag = load("lag")
    client = Statuses(None, 3, 5)
    assert lag.caught_up(client, 5) is None  # null: not yet
    assert lag.caught_up(client, 5) is None  # behind: not yet
    assert lag.caught_up(client, 5)["last_indexed_block"] == 5
    client = Statuses(None, None, 7)
    assert wait_for(lambda: lag.caught_up(client, 5), 5, "the index", interval=0.01)["last_indexed_block"] == 7


def test_a_child_that_exited_is_the_reason_a_wait_gives(tmp_path):
    lag = load("lag")
    with (tmp_path / "indexer.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-c", "print('store is locked'); raise SystemExit(3)"], stdout=log)
    proc.wait()
    with pytest.raises(RuntimeError, match=r"the indexer exited \(3\) while waiting for block 9: store is locked"):
        lag.check_running({"indexer": proc}, tmp_path, "block 9")


def test_a_failing_section_says_why_in_the_report(tmp_path, monkeypatch):
    run = load("run")
    monkeypatch.setattr(run, "RESULTS", tmp_path)

    class Area:
        @staticmethod
        def run(quick):
            wait_for(lambda: None, 0.05, "the indexer to catch up on 10 events", interval=0.01)

    monkeypatch.setattr(run, "load_area", lambda area: Area)
    result = run.run_area("lag", quick=True)
    report = run.render([result], "make bench-quick")
    assert "| FAILED |" in report
    assert (
        "This section failed: `AssertionError: timed out after 0.05s waiting for the indexer to catch up on "
        "10 events (last: None)`"
    ) in report


def test_the_raw_baseline_makes_a_table_for_every_event_kind():
    # Was: "near "index": syntax error": SignedGrantSkipped has an argument named like an SQL keyword,
    # and the whole indexer section of `make bench` failed on it.
    import sqlite3

    sys.path.insert(0, str(BENCH))
    try:
        baseline = load("baseline_raw")
    finally:
        sys.path.remove(str(BENCH))
    from cityledger.chain.artifacts import compile_all

    compile_all()  # the baseline reads the ABIs from build/contracts: a fresh clone has none until compiled
    events = baseline.load_events()
    con = sqlite3.connect(":memory:")
    baseline.create_tables(con, events)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {name for name, *_ in events.values()} and "SignedGrantSkipped" in tables
    # Every event the indexer decodes has its table (DeletionRegistry's were missing: a KeyError).
    from cityledger.indexer.events import DECODERS

    assert set(DECODERS) <= set(events)
