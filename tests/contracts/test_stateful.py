"""Stateful fuzzing of the contracts against Python models (hypothesis).

Quick mode (default): a few hundred steps. Long mode (`pytest -m long`): at least 10,000 steps
per machine, for the reliability suite."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from stateful_machines import STEPS, ConsentMachine, GovernanceMachine

MACHINES = {"consent": ConsentMachine, "governance": GovernanceMachine}
# Quick-mode steps per machine (the governance machine is cheaper per step: no signing).
QUICK = {"consent": 200, "governance": 400}


def run_steps(machine, at_least: int, examples: int, steps: int) -> int:
    """Run `machine` until at least `at_least` rule steps executed; returns the count."""
    before = STEPS["count"]
    # No shrinking: one EVM step costs milliseconds and shrinking a long run would take minutes;
    # the failing run's steps are printed as they were.
    cfg = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    while STEPS["count"] - before < at_least:
        run_state_machine_as_test(machine, settings=cfg)
    return STEPS["count"] - before


@pytest.mark.parametrize("name", MACHINES)
def test_stateful_quick(name):
    done = run_steps(MACHINES[name], at_least=QUICK[name], examples=8, steps=40)
    assert done >= QUICK[name]


@pytest.mark.long
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name", MACHINES)
def test_stateful_long(name, record_property):
    done = run_steps(MACHINES[name], at_least=10_000, examples=100, steps=60)
    record_property("steps", done)
    print(f"{name}: {done} stateful steps")
    assert done >= 10_000
