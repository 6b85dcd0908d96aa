"""The testing plugin's anvil fixture runs a real node that answers JSON-RPC."""

from cityledger.chain.devnet import probe
from cityledger.testing import chain_client

CLIENT_VERSIONS = {"anvil": "anvil", "hardhat": "HardhatNetwork"}  # in web3_clientVersion


def test_anvil_fixture_answers(anvil):
    info = probe(anvil.rpc_url)
    assert info is not None and info["chain_id"] == 31337 and CLIENT_VERSIONS[chain_client()] in info["client"]


def test_hardhat_fixture_answers(hardhat):
    info = probe(hardhat.rpc_url)
    assert info is not None and info["chain_id"] == 31337 and "HardhatNetwork/2.29.1" in info["client"]
