"""Every contract fits the EIP-170 runtime code-size limit, and every external function has NatSpec."""

import re

import pytest
from contracts_kit import CONTRACTS, NAMES, deployer

EIP170 = 24_576


@pytest.mark.parametrize("name", NAMES)
def test_runtime_size_under_eip170(name):
    runtime = deployer(name).compiler_data.bytecode_runtime
    assert 0 < len(runtime) < EIP170, f"{name}: {len(runtime)} bytes"


@pytest.mark.parametrize("path", sorted(CONTRACTS.glob("*.vy")), ids=lambda p: p.name)
def test_external_functions_have_natspec(path):
    src = path.read_text()
    for m in re.finditer(r"@external\n(?:@\w+\n)*def (\w+)\(.*?\)[^:]*:\n(\s*)(\S+)", src, re.S):
        assert m.group(3).startswith('"""'), f"{path.name}: {m.group(1)} has no NatSpec"
