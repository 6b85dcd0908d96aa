"""EIP-712 readability (issue 20): the probe that bench/gas.py measures checks exactly what a
wallet signs, for today's Grant type and for one with human-readable strings, so the gas
difference it reports is the cost of those strings and nothing else."""

import functools
from pathlib import Path

import boa
import pytest
from contracts_kit import ANY_RESEARCHER, DAY, SCOPE_DOMAIN, account, purpose, sign_typed, word

from cityledger.signing import GRANT_TYPES

READABLE_TYPES = {
    "Grant": GRANT_TYPES["Grant"][:2]
    + [{"name": "purposeLabel", "type": "string"}]
    + GRANT_TYPES["Grant"][2:4]
    + [{"name": "datasetTitle", "type": "string"}]
    + GRANT_TYPES["Grant"][4:]
}
LABEL = "Scientific research"
TITLE = "Synthetic weekly mobility of city residents, 2021-2024"


@functools.cache
def probe_deployer():
    return boa.load_partial(str(Path(__file__).with_name("ReadableGrantProbe.vy")))


@pytest.fixture
def probe():
    with boa.env.anchor():
        yield probe_deployer().deploy()


def _message(citizen, readable):
    now = boa.env.timestamp
    msg = {
        "citizen": citizen,
        "purpose": purpose(),
        "scopeKind": SCOPE_DOMAIN,
        "scopeId": word(7),
        "grantee": ANY_RESEARCHER,
        "expiry": now + 365 * DAY,
        "nonce": 0,
        "deadline": now + DAY,
    }
    if readable:
        msg.update(purposeLabel=LABEL, datasetTitle=TITLE)
    return msg


def test_probe_checks_what_a_wallet_signs(probe):
    c = account("reader")
    chain = boa.env.evm.patch.chain_id
    plain = _message(c.address, False)
    readable = _message(c.address, True)
    plain_sig = sign_typed(c, GRANT_TYPES, plain, chain, probe.address)
    readable_sig = sign_typed(c, READABLE_TYPES, readable, chain, probe.address)
    args = [plain[k] for k in ("citizen", "purpose", "scopeKind", "scopeId", "grantee", "expiry", "nonce", "deadline")]
    probe.check(*args, plain_sig)
    probe.check_readable(*args[:2], LABEL, *args[2:4], TITLE, *args[4:], readable_sig)
    assert probe.checked() == 2
    # Each signature binds its own type: neither passes for the other.
    with boa.reverts("probe: invalid signature"):
        probe.check(*args, readable_sig)
    with boa.reverts("probe: invalid signature"):
        probe.check_readable(*args[:2], LABEL, *args[2:4], TITLE + ".", *args[4:], readable_sig)
