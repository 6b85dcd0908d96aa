"""transact(): EIP-1559 transactions from a local account, revert reasons, sequential nonces."""

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from cityledger.chain.accounts import devnet_accounts
from cityledger.chain.artifacts import compile_all
from cityledger.chain.tx import TransactionFailed, revert_reason, transact
from cityledger.errors import CityLedgerError

from .helpers import devnet_of, make_project


@pytest.fixture(scope="module")
def registry(anvil_session, tmp_path_factory):
    """The placeholder DatasetRegistry (bump(n) reverts on 0) deployed on the session anvil."""
    cfg = make_project(tmp_path_factory.mktemp("tx"), anvil_session.rpc_url)
    art = compile_all(cfg)["DatasetRegistry"]
    w3 = Web3(Web3.HTTPProvider(anvil_session.rpc_url))
    accounts = devnet_accounts(devnet_of(cfg))
    receipt = transact(
        w3, accounts[0], w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(accounts[0].address)
    )
    return w3, accounts, w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)


def test_success_is_eip1559(registry):
    w3, accounts, reg = registry
    receipt = transact(w3, accounts[5], reg.functions.bump(2))
    assert receipt["status"] == 1
    assert w3.eth.get_transaction(receipt["transactionHash"])["type"] == 2


def test_revert_reason_from_estimate(registry):
    w3, accounts, reg = registry
    before = w3.eth.block_number
    with pytest.raises(TransactionFailed) as err:
        transact(w3, accounts[5], reg.functions.bump(0))
    assert err.value.reason == "placeholder: n is zero"
    assert isinstance(err.value, CityLedgerError)
    assert w3.eth.block_number == before  # refused before sending: nothing mined


def test_revert_reason_of_mined_transaction(registry):
    # With gas given there is no estimate: the transaction is mined, reverts, and is replayed.
    w3, accounts, reg = registry
    with pytest.raises(TransactionFailed) as err:
        transact(w3, accounts[5], reg.functions.bump(0), gas=200_000)
    assert err.value.reason == "placeholder: n is zero"
    assert err.value.receipt["status"] == 0
    assert "bump reverted: placeholder: n is zero" in str(err.value)


def test_sequential_nonces(registry):
    w3, accounts, reg = registry
    start = reg.functions.count().call()
    nonce = w3.eth.get_transaction_count(accounts[6].address)
    for _ in range(5):
        transact(w3, accounts[6], reg.functions.bump(1))
    assert reg.functions.count().call() == start + 5
    assert w3.eth.get_transaction_count(accounts[6].address) == nonce + 5


def test_node_refusal_is_a_transaction_failure(registry):
    # An account without ether: the node refuses the transaction; one clear error.
    w3, _, reg = registry
    from eth_account import Account

    poor = Account.create()
    with pytest.raises(TransactionFailed):
        transact(w3, poor, reg.functions.bump(1), gas=100_000)


def _error_data(reason: str) -> str:
    from eth_abi import encode

    return "0x08c379a0" + encode(["string"], [reason]).hex()


def test_revert_reason_in_each_clients_words():
    # anvil/geth, and Hardhat's two shapes: the estimate's message, the replayed call's -32603 with
    # the revert data one level down (web3 leaves it undecoded).
    hardhat = "Error: VM Exception while processing transaction: reverted with reason string 'p: n is zero'"
    assert revert_reason(ContractLogicError("execution reverted: p: n is zero")) == "p: n is zero"
    assert revert_reason(ContractLogicError("execution reverted")) == "reverted without a reason"
    assert revert_reason(ContractLogicError(hardhat)) == "p: n is zero"
    assert revert_reason(ContractLogicError(f"execution reverted: {hardhat}")) == "p: n is zero"
    replayed = Web3RPCError(str({"code": -32603, "message": hardhat}))
    replayed.rpc_response = {"error": {"code": -32603, "message": hardhat, "data": {"data": _error_data("p: zero")}}}
    assert revert_reason(replayed) == "p: zero"
