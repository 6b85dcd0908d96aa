"""The `devnet` fixture: real contracts deployed, devnet roles granted, a chain of each test's own."""

import pytest

from cityledger.chain.accounts import AGENCY, AUDITOR, BUSINESS, CITIZENS, RESEARCHER
from cityledger.chain.deploy import DEPLOY_ORDER
from cityledger.codes import EVER_SHIFT, KIND_AGENCY, KIND_BUSINESS, ROLE_AUDITOR, ROLE_PUBLISHER, ROLE_RESEARCHER
from cityledger.config import config

from .helpers import REAL_ROOT


def test_devnet_has_contracts_and_roles(devnet):
    assert list(devnet.deployment.contracts) == [name for name, _ in DEPLOY_ORDER]
    roles = devnet.contract("CityRoles")
    acc = devnet.accounts
    assert roles.functions.owner().call() == acc[0].address
    ever_publisher = ROLE_PUBLISHER << EVER_SHIFT
    assert roles.functions.roles_of(acc[AGENCY].address).call() == ROLE_PUBLISHER | KIND_AGENCY << 8 | ever_publisher
    assert (
        roles.functions.roles_of(acc[BUSINESS].address).call() == ROLE_PUBLISHER | KIND_BUSINESS << 8 | ever_publisher
    )
    assert roles.functions.has_role(acc[AUDITOR].address, ROLE_AUDITOR).call()
    assert roles.functions.has_role(acc[RESEARCHER].address, ROLE_RESEARCHER).call()
    assert all(roles.functions.roles_of(acc[i].address).call() == 0 for i in CITIZENS)
    # config() inside the test sees the fixture's chain
    assert config().network().rpc_url == devnet.rpc_url
    assert config().deployments_dir == devnet.cfg.deployments_dir


# Two tests on the `devnet` fixture in a fixed order, in a pytest of their own: the first changes
# the chain and mines 505 blocks, the second must start from the deployed chain and trace its first
# transaction after 20 more blocks. On a session chain reverted after each test, anvil's 512-state
# window dropped the deployed head's oldest copy during the second test: "Resource not found".
ORDERED = """
from cityledger.chain.connection import node_rpc
from cityledger.chain.tx import transact
from cityledger.codes import ROLE_AUDITOR

PRESTATE_DIFF = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}


def grant_auditor(devnet):
    grant = devnet.contract("CityRoles").functions.grant_role(devnet.accounts[7].address, ROLE_AUDITOR, 0)
    return transact(devnet.w3, devnet.accounts[0], grant)


def test_1_changes_the_chain(devnet):
    grant_auditor(devnet)
    node_rpc(devnet.w3, "anvil_mine", [hex(505)])


def test_2_starts_from_the_deployed_chain(devnet):
    roles = devnet.contract("CityRoles")
    assert not roles.functions.has_role(devnet.accounts[7].address, ROLE_AUDITOR).call()
    receipt = grant_auditor(devnet)
    node_rpc(devnet.w3, "anvil_mine", [hex(20)])
    assert node_rpc(devnet.w3, "debug_traceTransaction", [receipt["transactionHash"].to_0x_hex(), PRESTATE_DIFF])
"""


@pytest.mark.anvil_only("anvil_mine, and anvil's saved-state window that this pins")
def test_a_test_starts_from_the_deployed_chain_whatever_ran_before(pytester, monkeypatch):
    # pytester runs in a folder of its own: the inner pytest uses this checkout's code and project.
    monkeypatch.setenv("CITYLEDGER_ROOT", str(REAL_ROOT))
    monkeypatch.setenv("PYTHONPATH", str(REAL_ROOT / "src"))
    pytester.makeconftest('pytest_plugins = ["cityledger.testing"]')
    pytester.makepyfile(test_ordered=ORDERED)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_seed_devnet_roles_is_idempotent(devnet):
    from cityledger.chain.roles import seed_devnet_roles

    assert seed_devnet_roles(devnet.w3, devnet.deployment, devnet.accounts, devnet.cfg) == 0


def test_record_has_git_commit(devnet):
    # The fixture deploys from the project checkout, so the record names its commit.
    assert devnet.deployment.git_commit and len(devnet.deployment.git_commit.split("-")[0]) == 40
