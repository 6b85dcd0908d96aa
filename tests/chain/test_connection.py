"""connect(): verified chain id, fast failure on a silent or absent RPC."""

import socket

import pytest

from cityledger.chain.connection import connect
from cityledger.config import Network
from cityledger.errors import NetworkError


def test_connect_checks_chain_id(anvil):
    w3 = connect(Network("devnet", anvil.rpc_url, 31337, True))
    assert w3.eth.chain_id == 31337 and w3.cityledger_network.name == "devnet"
    with pytest.raises(NetworkError, match="is chain id 31337, the config says 5; refusing"):
        connect(Network("other", anvil.rpc_url, 5, False))


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
