"""The testing plugin's anvil fixture runs a real node that answers JSON-RPC."""

from cityledger.chain.devnet import probe


def test_anvil_fixture_answers(anvil):
    info = probe(anvil.rpc_url)
    assert info is not None and info["chain_id"] == 31337 and "anvil" in info["client"]
