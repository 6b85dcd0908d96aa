"""A Web3 connection to a configured network, checked before use.

connect() fails fast (short timeout) with a one-line NetworkError when the RPC is down or
answers for another chain, so nothing is signed or written against the wrong network."""

from __future__ import annotations

from web3 import HTTPProvider, Web3

from ..config import Network, config
from ..errors import NetworkError


def resolve_network(network: Network | str | None) -> Network:
    if isinstance(network, Network):
        return network
    return config().network(network)


def connect(network: Network | str | None = None, timeout: float = 10) -> Web3:
    """A Web3 for the network (default: CITYLEDGER_NETWORK or devnet) whose chain id is verified."""
    net = resolve_network(network)
    # No automatic retries: a silent RPC must fail within `timeout`, not after several back-offs.
    w3 = Web3(HTTPProvider(net.rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))
    if not net.devnet:
        # Public testnets and consortium chains may be proof-of-authority (long extraData).
        from web3.middleware import ExtraDataToPOAMiddleware

        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:  # connection refused, timeout, DNS, HTTP error, bad JSON
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if len(reason) > 160:
            reason = reason[:157] + "..."
        hint = " (start it with `cityledger devnet start`)" if net.devnet else ""
        raise NetworkError(f"network '{net.name}': no answer from {net.rpc_url}{hint}: {reason}") from None
    if chain_id != net.chain_id:
        raise NetworkError(
            f"network '{net.name}': {net.rpc_url} is chain id {chain_id}, the config says {net.chain_id}; refusing"
        )
    w3.cityledger_network = net  # which configured network this connection is for
    return w3


def node_rpc(w3: Web3, method: str, params: list | None = None):
    """A JSON-RPC method web3 has no wrapper for (evm_*, anvil_*, debug_*): its result, or a
    NetworkError with the node's own message (an error answer has no 'result' to index)."""
    answer = w3.provider.make_request(method, list(params or []))
    if "error" in answer or "result" not in answer:
        error = answer.get("error")
        message = error.get("message", error) if isinstance(error, dict) else error or answer
        raise NetworkError(f"{method} failed: {message}")
    return answer["result"]
