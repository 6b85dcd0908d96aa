"""connect(): verified chain id, fast failure on a silent or absent RPC."""

import socket

import pytest

from cityledger.chain.connection import connect, node_rpc
from cityledger.config import Network
from cityledger.errors import NetworkError


def test_connect_checks_chain_id(anvil):
    w3 = connect(Network("devnet", anvil.rpc_url, 31337, True))
    assert w3.eth.chain_id == 31337 and w3.cityledger_network.name == "devnet"
    with pytest.raises(NetworkError, match="is chain id 31337, the config says 5; refusing"):
        connect(Network("other", anvil.rpc_url, 5, False))


def test_node_rpc_error_is_the_nodes_message(anvil):
    # An error answer has no "result": it fails naming the method and the node's message.
    w3 = connect(Network("devnet", anvil.rpc_url, 31337, True))
    assert node_rpc(w3, "evm_snapshot") == "0x0"
    with pytest.raises(NetworkError, match=r"^eth_getBalance failed: BlockOutOfRangeError: block height is 0 but"):
        node_rpc(w3, "eth_getBalance", ["0x" + "00" * 20, hex(99)])
    with pytest.raises(NetworkError, match=r"^cityledger_nothing failed: Method not found$"):
        node_rpc(w3, "cityledger_nothing")


def test_silent_rpc_times_out():
    # A port that accepts connections but never answers: the timeout applies once, no retries.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(NetworkError, match="no answer from .*timed out"):
            connect(Network("x", url, 1, False), timeout=0.5)


def test_unknown_network_name():
    from cityledger.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown network 'atlantis'"):
        connect("atlantis")
