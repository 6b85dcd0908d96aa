"""The `devnet` fixture: real contracts deployed, devnet roles granted, state reverted per test."""

from cityledger.chain.accounts import AGENCY, AUDITOR, BUSINESS, CITIZENS, RESEARCHER
from cityledger.chain.deploy import DEPLOY_ORDER
from cityledger.codes import EVER_SHIFT, KIND_AGENCY, KIND_BUSINESS, ROLE_AUDITOR, ROLE_PUBLISHER, ROLE_RESEARCHER
from cityledger.config import config


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


def test_devnet_state_is_reverted_between_tests(devnet):
    # Each run of this test starts at the deployed head, whatever the previous test mined.
    from cityledger.chain.tx import transact

    start = devnet.w3.eth.block_number
    roles = devnet.contract("CityRoles")
    transact(devnet.w3, devnet.accounts[0], roles.functions.grant_role(devnet.accounts[7].address, ROLE_AUDITOR, 0))
    assert devnet.w3.eth.block_number == start + 1


def test_devnet_reverted_after_previous(devnet):
    roles = devnet.contract("CityRoles")
    assert not roles.functions.has_role(devnet.accounts[7].address, ROLE_AUDITOR).call()


def test_seed_devnet_roles_is_idempotent(devnet):
    from cityledger.chain.roles import seed_devnet_roles

    assert seed_devnet_roles(devnet.w3, devnet.deployment, devnet.accounts, devnet.cfg) == 0


def test_record_has_git_commit(devnet):
    # The fixture deploys from the project checkout, so the record names its commit.
    assert devnet.deployment.git_commit and len(devnet.deployment.git_commit.split("-")[0]) == 40
