"""Every contract fits the EIP-170 runtime code-size limit and is documented like snekmate (issue 16):
NatSpec on every external function, `@license` / `@author` and a storage layout in the header,
a `# @dev` comment on every constant, immutable, event, struct and storage variable."""

import re

import pytest
from contracts_kit import CONTRACTS, NAMES, deployer

SOURCES = sorted([*CONTRACTS.glob("*.vy"), *(CONTRACTS / "modules").glob("*.vy")])
# A top-level declaration: `NAME: type`, `event Name:` or `struct Name:` (not initializes/exports/uses).
DECLARATION = re.compile(r"^(?:event \w+:|struct \w+:|(?!initializes|exports|uses)\w+: )")

EIP170 = 24_576


@pytest.mark.parametrize("name", NAMES)
def test_runtime_size_under_eip170(name):
    runtime = deployer(name).compiler_data.bytecode_runtime
    assert 0 < len(runtime) < EIP170, f"{name}: {len(runtime)} bytes"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_external_functions_have_natspec(path):
    src = path.read_text()
    for m in re.finditer(r"@external\n(?:@\w+\n)*def (\w+)\(.*?\)[^:]*:\n(\s*)(\S+)", src, re.S):
        assert m.group(3).startswith('"""'), f"{path.name}: {m.group(1)} has no NatSpec"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_header_names_license_author_and_storage_layout(path):
    header = path.read_text().split('"""')[1]
    for tag in ("@title", "@license", "@author", "@notice", "Storage layout"):
        assert tag in header, f"{path.name}: no {tag} in the header"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_declaration_has_a_dev_comment(path):
    """A declaration directly below another (no blank line) shares that one's comment: a group
    of codes is documented once."""
    lines = path.read_text().splitlines()
    for n, line in enumerate(lines):
        if not DECLARATION.match(line):
            continue
        above = n - 1
        while above >= 0 and DECLARATION.match(lines[above]):
            above -= 1
        comment = []
        while above >= 0 and lines[above].startswith("#"):
            comment.append(lines[above])
            above -= 1
        assert any(c.startswith("# @dev") for c in comment), f"{path.name}:{n + 1}: {line!r} has no # @dev comment"
