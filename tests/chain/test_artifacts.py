"""compile_all: artifacts, change detection over modules, errors (no chain needed)."""

import json

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from cityledger.chain.artifacts import CompileError, compile_all, load_artifact
from cityledger.errors import CityLedgerError

from .helpers import make_project


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "proj")


def test_compile_writes_artifacts(project):
    arts = compile_all(project)
    assert set(arts) == {"CityRoles", "DatasetRegistry", "ConsentRegistry"}  # modules/ is not compiled
    data = json.loads((project.build_dir / "CityRoles.json").read_text())
    for key in ("abi", "bytecode", "deployed_bytecode_size", "compiler_version", "source_hash", "method_identifiers"):
        assert key in data
    art = load_artifact("CityRoles", project)
    assert art.compiler_version == "0.4.3"
    assert art.bytecode.startswith("0x") and art.deployed_bytecode_size > 0
    selector = keccak(text="grant_role(address,uint256,uint8)")[:4]
    assert art.method_identifiers["grant_role(address,uint256,uint8)"] == "0x" + selector.hex()
    deps = {d["path"] for d in art.dependencies}
    assert "contracts/modules/admin.vy" in deps and any(p.endswith("snekmate/auth/ownable.vy") for p in deps)


def test_recompiles_only_what_changed(project):
    first = compile_all(project)
    seen = []
    compile_all(project, progress=lambda name, state: seen.append((name, state)))
    assert {state for _, state in seen} == {"cached"}

    # Editing a module recompiles the contract importing it, and nothing else.
    module = project.contracts_dir / "modules" / "admin.vy"
    module.write_text(module.read_text() + "\n# edited\n")
    seen.clear()
    second = compile_all(project, progress=lambda name, state: seen.append((name, state)))
    assert ("CityRoles", "compiled") in seen and ("DatasetRegistry", "cached") in seen
    assert second["CityRoles"].source_hash != first["CityRoles"].source_hash
    assert second["DatasetRegistry"].source_hash == first["DatasetRegistry"].source_hash

    seen.clear()
    compile_all(project, force=True, progress=lambda name, state: seen.append((name, state)))
    assert sorted(n for n, s in seen if s == "compiled") == ["CityRoles", "ConsentRegistry", "DatasetRegistry"]


def test_compile_error_names_the_file_and_keeps_old_artifact(project):
    compile_all(project)
    before = (project.build_dir / "DatasetRegistry.json").read_text()
    src = project.contracts_dir / "DatasetRegistry.vy"
    src.write_text(src.read_text().replace("self.count += n", "self.count += nope"))
    with pytest.raises(CompileError, match="DatasetRegistry.vy"):
        compile_all(project)
    assert (project.build_dir / "DatasetRegistry.json").read_text() == before


def test_load_artifact_missing(project):
    with pytest.raises(CityLedgerError, match="cityledger compile"):
        load_artifact("Nope", project)


def test_artifact_runs_in_titanoboa(project):
    # The artifact alone (ABI + init code, no source) is enough to deploy and call in-process.
    art = compile_all(project)["DatasetRegistry"]
    roles = boa.env.generate_address()
    factory = boa.loads_abi(json.dumps(art.abi), name="DatasetRegistry")
    ctor = encode(["address"], [roles])
    address, _ = boa.env.deploy_code(bytecode=bytes.fromhex(art.bytecode[2:]) + ctor)
    registry = factory.at(address)
    assert registry.roles() == roles
    assert registry.bump(3) == 3
    with boa.reverts("placeholder: n is zero"):
        registry.bump(0)
