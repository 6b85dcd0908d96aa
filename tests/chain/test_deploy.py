"""deploy_all against a real anvil: record, no-op re-deploy, --force, change detection, refusals."""

import dataclasses
import json

import pytest
from web3 import Web3

from cityledger.chain.accounts import devnet_accounts
from cityledger.chain.deploy import DEFAULT_MAX_SNAPSHOT_AGE, admin_handover, deploy_all
from cityledger.chain.deployments import contract, load_deployment
from cityledger.chain.devnet import Anvil
from cityledger.chain.tx import transact
from cityledger.config import Network, load_config
from cityledger.errors import CityLedgerError
from cityledger.testing import devnet_network

from .helpers import REAL_ROOT, devnet_of, make_project


@pytest.fixture
def setup(anvil, tmp_path):
    cfg = make_project(tmp_path / "proj", anvil.rpc_url)
    net = devnet_of(cfg)
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    return w3, devnet_accounts(net)[0], net, cfg


def test_deploy_writes_record(setup):
    w3, deployer, net, cfg = setup
    dep = deploy_all(w3, deployer, net, cfg)
    assert not dep.reused
    record = json.loads((cfg.deployments_dir / "31337.json").read_text())
    assert list(record["contracts"]) == ["CityRoles", "DatasetRegistry", "ConsentRegistry"]
    assert record["deployer"] == deployer.address and record["chain_id"] == 31337 and record["network"] == "devnet"
    assert record["compiler_version"] == "0.4.3" and record["timestamp"]
    assert "git_commit" in record
    roles = record["contracts"]["CityRoles"]
    assert roles["block"] == record["start_block"] == 1
    assert w3.eth.get_transaction_receipt(roles["tx_hash"])["contractAddress"] == roles["address"]
    # constructor arguments wired per docs/CONTRACTS.md
    consent = contract(w3, load_deployment(31337, cfg), "ConsentRegistry", cfg)
    assert consent.functions.roles().call() == roles["address"]
    assert consent.functions.datasets().call() == record["contracts"]["DatasetRegistry"]["address"]
    assert contract(w3, dep, "CityRoles", cfg).functions.owner().call() == deployer.address
    assert not list(cfg.deployments_dir.glob("*.tmp"))  # written atomically, no leftovers


def test_redeploy_is_noop_unless_forced(setup):
    w3, deployer, net, cfg = setup
    first = deploy_all(w3, deployer, net, cfg)
    block = w3.eth.block_number
    again = deploy_all(w3, deployer, net, cfg)
    assert again.reused and again.contracts == first.contracts
    assert w3.eth.block_number == block  # no transaction sent
    forced = deploy_all(w3, deployer, net, cfg, force=True)
    assert not forced.reused
    assert forced.contracts["CityRoles"]["address"] != first.contracts["CityRoles"]["address"]
    assert load_deployment("devnet", cfg).contracts == forced.contracts


def test_source_change_redeploys(setup):
    w3, deployer, net, cfg = setup
    first = deploy_all(w3, deployer, net, cfg)
    src = cfg.contracts_dir / "ConsentRegistry.vy"
    src.write_text(src.read_text() + "\n# changed\n")
    second = deploy_all(w3, deployer, net, cfg)
    assert not second.reused
    assert second.contracts["ConsentRegistry"]["source_hash"] != first.contracts["ConsentRegistry"]["source_hash"]


def test_record_of_a_fresh_chain_is_not_current(setup):
    # Same chain id, but the node was reset: no code at the recorded addresses, so deploy again.
    w3, deployer, net, cfg = setup
    first = deploy_all(w3, deployer, net, cfg)
    with Anvil(cfg=load_config(REAL_ROOT)) as fresh:
        w3_fresh = Web3(Web3.HTTPProvider(fresh.rpc_url))
        second = deploy_all(w3_fresh, deployer, net, cfg)
        assert not second.reused
        assert len(w3_fresh.eth.get_code(second.contracts["CityRoles"]["address"])) > 0
        assert w3_fresh.eth.block_number == len(first.contracts)  # all deployed again on the fresh node


def test_wrong_chain_id_refused_and_nothing_written(setup):
    w3, deployer, net, cfg = setup
    wrong = Network("devnet", net.rpc_url, 999, True, net.mnemonic)
    with pytest.raises(CityLedgerError, match="chain id"):
        deploy_all(w3, deployer, wrong, cfg)
    assert not cfg.deployments_dir.exists() or not list(cfg.deployments_dir.iterdir())


def test_load_deployment_missing(tmp_path):
    cfg = make_project(tmp_path / "empty")
    with pytest.raises(CityLedgerError, match="cityledger deploy"):
        load_deployment(31337, cfg)
    with pytest.raises(CityLedgerError, match="unknown network"):
        load_deployment("nope", cfg)


def test_bad_parameters_refused(setup):
    w3, deployer, net, cfg = setup
    with pytest.raises(CityLedgerError, match="not an address"):
        deploy_all(w3, deployer, net, cfg, admin="0xcity")
    for age in (0, -5, "7200"):
        with pytest.raises(CityLedgerError, match="max_snapshot_age"):
            deploy_all(w3, deployer, net, cfg, max_snapshot_age=age)
    assert w3.eth.block_number == 0


@pytest.fixture
def real(anvil, tmp_path):
    """The real contracts of contracts/, deployed into a temporary deployments folder."""
    cfg = dataclasses.replace(
        load_config(REAL_ROOT), deployments_dir=tmp_path / "deployments", data_dir=tmp_path / "data"
    )
    net = devnet_network(anvil)
    return Web3(Web3.HTTPProvider(anvil.rpc_url)), devnet_accounts(net), net, cfg


def test_real_deployment_wires_every_constructor(real):
    w3, accounts, net, cfg = real
    dep = deploy_all(w3, accounts[0], net, cfg)
    assert list(dep.contracts) == [
        "CityRoles",
        "DatasetRegistry",
        "ConsentRegistry",
        "AccessRegistry",
        "RightsRegistry",
        "DeletionRegistry",
    ]
    deletion = contract(w3, dep, "DeletionRegistry", cfg).functions
    assert (deletion.access().call(), deletion.consent().call()) == (
        dep.address("AccessRegistry"),
        dep.address("ConsentRegistry"),
    )
    access = contract(w3, dep, "AccessRegistry", cfg).functions
    assert access.max_snapshot_age().call() == DEFAULT_MAX_SNAPSHOT_AGE
    assert access.datasets().call() == dep.address("DatasetRegistry")
    assert dep.contracts["AccessRegistry"]["constructor_args"][2] == DEFAULT_MAX_SNAPSHOT_AGE
    roles = contract(w3, dep, "CityRoles", cfg).functions
    assert roles.owner().call() == accounts[0].address  # devnet: the deployer is the admin
    assert admin_handover(w3, dep, cfg) is None
    # Another parameter is another deployment.
    again = deploy_all(w3, accounts[0], net, cfg, max_snapshot_age=43_200)
    assert not again.reused
    assert contract(w3, again, "AccessRegistry", cfg).functions.max_snapshot_age().call() == 43_200
    assert deploy_all(w3, accounts[0], net, cfg, max_snapshot_age=43_200).reused


def test_named_admin_must_accept(real):
    """A real network's admin is named at deployment and takes over in a second step, so a
    mistyped address can take nothing."""
    w3, accounts, net, cfg = real
    deployer, admin = accounts[0], accounts[9]
    said = {}
    dep = deploy_all(w3, deployer, net, cfg, admin=admin.address.lower(), progress=said.__setitem__)
    assert "accept_ownership()" in said["CityRoles"] and admin.address in said["CityRoles"]
    assert dep.contracts["CityRoles"]["constructor_args"] == [admin.address]
    roles = contract(w3, dep, "CityRoles", cfg).functions
    assert roles.owner().call() == deployer.address
    assert roles.pending_owner().call() == admin.address
    todo = admin_handover(w3, dep, cfg)
    assert todo and admin.address in todo and dep.address("CityRoles") in todo
    assert deploy_all(w3, deployer, net, cfg, admin=admin.address).reused
    transact(w3, admin, roles.accept_ownership())
    assert roles.owner().call() == admin.address
    assert admin_handover(w3, dep, cfg) is None
