"""Fixtures for the titanoboa contract tests: a fresh CityLedger system per test."""

from __future__ import annotations

import boa
import pytest
from contracts_kit import deploy_system


@pytest.fixture
def system():
    # Each test runs in its own anchored EVM state (and clock), then it is thrown away.
    with boa.env.anchor():
        yield deploy_system()
