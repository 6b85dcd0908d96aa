"""Fixtures of the reliability suite: a devnet of its own (reorgs and restarts must not touch the
session devnet other tests share), and a fault proxy."""

from __future__ import annotations

import pytest

from cityledger.chain.accounts import DEFAULT_MNEMONIC
from cityledger.chain.devnet import Anvil
from cityledger.config import load_config
from cityledger.faults import FaultProxy
from cityledger.indexer.scratch import PG_URL, StoreFactory, pg_available
from cityledger.testing import CHAIN_ID, build_devnet


@pytest.fixture
def own_devnet(tmp_path):
    """A deployed devnet on a fresh anvil for this test only (with a state file, so it can restart)."""
    node = Anvil(
        chain_id=CHAIN_ID, mnemonic=DEFAULT_MNEMONIC, cfg=load_config(), state_path=tmp_path / "anvil-state.json"
    )
    node.start()
    try:
        yield build_devnet(node, tmp_path / "devnet")
    finally:
        node.stop()


@pytest.fixture
def fault_proxy(own_devnet):
    with FaultProxy(own_devnet.rpc_url, hold=2.5) as proxy:
        yield proxy


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request, tmp_path):
    """Empty store URLs, on SQLite and on PostgreSQL (skipped if none): tests/indexer/conftest.py's."""
    if request.param == "postgresql" and not pg_available():
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()
