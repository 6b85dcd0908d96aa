"""Fixtures for the titanoboa contract tests: a CityLedger system in a fresh state per test."""

from __future__ import annotations

import boa
import pytest
from contracts_kit import deploy_system


@pytest.fixture(scope="session")
def deployed():
    # Deployed once (six contracts and four roles take ~0.3 s); thrown away at the end.
    with boa.env.anchor():
        yield deploy_system()


@pytest.fixture
def system(deployed):
    # Each test runs in its own anchor over the deployed state: every change it makes to the
    # EVM (storage, balances, nonces, code, block number and clock) is undone after it.
    with boa.env.anchor():
        yield deployed
