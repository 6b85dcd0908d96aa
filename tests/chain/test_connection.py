"""connect(): verified chain id, fast failure on a silent or absent RPC."""

import socket

import pytest

from cityledger.chain.connection import connect, node_rpc
from cityledger.config import Network
from cityledger.errors import NetworkError
from cityledger.testing import chain_client


def test_connect_checks_chain_id(anvil):
    w3 = connect(Network("devnet", anvil.rpc_url, 31337, True))
    assert w3.eth.chain_id == 31337 and w3.cityledger_network.name == "devnet"
    with pytest.raises(NetworkError, match="is chain id 31337, the config says 5; refusing"):
        connect(Network("other", anvil.rpc_url, 5, False))


# Each client's own words (docs/NETWORKS.md "A second client: Hardhat"), and its first snapshot id.
NODE_MESSAGES = {
    "anvil": ("0x0", r"BlockOutOfRangeError: block height is 0 but", r"Method not found$"),
    "hardhat": (
        "0x1",
        r"Received invalid block tag 99\. Latest block number is 0",
        r"Method cityledger_nothing is not",
    ),
}


def test_node_rpc_error_is_the_nodes_message(anvil):
    # An error answer has no "result": it fails naming the method and the node's message.
    first_snapshot, out_of_range, unknown = NODE_MESSAGES[chain_client()]
    w3 = connect(Network("devnet", anvil.rpc_url, 31337, True))
    assert node_rpc(w3, "evm_snapshot") == first_snapshot
    with pytest.raises(NetworkError, match=rf"^eth_getBalance failed: {out_of_range}"):
        node_rpc(w3, "eth_getBalance", ["0x" + "00" * 20, hex(99)])
    with pytest.raises(NetworkError, match=rf"^cityledger_nothing failed: {unknown}"):
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


@pytest.mark.parametrize("client", ["anvil", "hardhat"])
def test_a_node_that_does_not_start_is_named_by_its_client(client, monkeypatch, tmp_path):
    """The start failure named anvil even when it was Hardhat's node that failed."""
    from cityledger.chain.devnet import Anvil, DevnetError
    from cityledger.chain.hardhat import Hardhat

    node = (Anvil if client == "anvil" else Hardhat)(log_path=tmp_path / "node.log")
    (tmp_path / "node.log").write_text("Error HH12: not a local installation\n")
    monkeypatch.setattr(node, "command", lambda: ["false"])  # exits at once: "did not start"
    with pytest.raises(DevnetError, match=rf"^{client} did not start: Error HH12"):
        node.start()
    assert node.process is None
