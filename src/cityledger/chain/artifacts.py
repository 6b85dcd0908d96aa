"""Compile contracts/*.vy with the pinned Vyper into build/contracts/<Name>.json.

One artifact per top-level contract (contracts/modules/ holds imported modules only). The
artifact's source hash covers the contract and every file it imports, so editing a module
recompiles the contracts that use it; unchanged contracts are not recompiled.
"""

from __future__ import annotations

import hashlib
import json
import sysconfig
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import Config, config
from ..errors import CityLedgerError
from .util import write_json_atomic

ARTIFACT_FORMAT = 1


class CompileError(CityLedgerError):
    """A contract does not compile: the message names the file and the compiler's complaint."""


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list
    bytecode: str  # 0x-prefixed init code
    deployed_bytecode_size: int
    compiler_version: str
    source_hash: str  # sha256 over the contract and every file it imports
    method_identifiers: dict[str, str]
    source_path: str
    dependencies: list[dict] = field(default_factory=list)  # [{"path", "sha256"}] of imported files
    format: int = ARTIFACT_FORMAT

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Artifact:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def compiler_version() -> str:
    import vyper

    return vyper.__version__


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _combined_hash(source_sha: str, deps: list[dict]) -> str:
    h = hashlib.sha256(source_sha.encode())
    for dep in sorted(deps, key=lambda d: d["path"]):
        h.update(f"\0{dep['path']}\0{dep['sha256']}".encode())
    return h.hexdigest()


def contract_sources(cfg: Config | None = None) -> list[Path]:
    """Every top-level contract: contracts/*.vy (files in subfolders are modules)."""
    cfg = cfg or config()
    if not cfg.contracts_dir.is_dir():
        return []
    return sorted(p for p in cfg.contracts_dir.glob("*.vy") if p.is_file())


def artifact_path(name: str, cfg: Config | None = None) -> Path:
    return (cfg or config()).build_dir / f"{name}.json"


def _search_paths(cfg: Config) -> list[Path]:
    # Later entries win in Vyper's lookup: the contracts folder before site-packages (snekmate).
    paths = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    return [*sorted(p for p in paths if p.is_dir()), cfg.contracts_dir]


def _display(path: Path, cfg: Config) -> str:
    try:
        return str(path.resolve().relative_to(cfg.root.resolve()))
    except ValueError:
        return str(path.resolve())


def is_current(source: Path, cfg: Config | None = None) -> bool:
    """True if build/contracts holds an artifact of this exact source, its imports and compiler."""
    cfg = cfg or config()
    path = artifact_path(source.stem, cfg)
    try:
        data = json.loads(path.read_text())
        art = Artifact.from_json(data)
    except (OSError, ValueError, TypeError):
        return False
    if art.format != ARTIFACT_FORMAT or art.compiler_version != compiler_version():
        return False
    deps = []
    for dep in art.dependencies:
        dep_path = Path(dep["path"])
        if not dep_path.is_absolute():
            dep_path = cfg.root / dep_path
        if not dep_path.is_file():
            return False
        deps.append({"path": dep["path"], "sha256": _sha256_file(dep_path)})
    return _combined_hash(_sha256_file(source), deps) == art.source_hash


def compile_contract(source: Path, cfg: Config | None = None) -> Artifact:
    """Compile one contract (no caching) and write its artifact."""
    cfg = cfg or config()
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.phases import CompilerData
    from vyper.compiler.settings import Settings
    from vyper.exceptions import VyperException

    bundle = FilesystemInputBundle(_search_paths(cfg))
    try:
        file_input = bundle.load_file(source.resolve())
        data = CompilerData(file_input, bundle, settings=Settings())
        out = _outputs(data)
        deps = []
        for compiler_input in data.resolved_imports.compiler_inputs:
            if compiler_input.from_builtin:
                continue  # part of the compiler: covered by the compiler version
            resolved = Path(compiler_input.resolved_path)
            deps.append({"path": _display(resolved, cfg), "sha256": _sha256_file(resolved)})
    except VyperException as exc:
        first = str(exc).strip().splitlines()
        raise CompileError(f"{_display(source, cfg)}: {type(exc).__name__}: {' '.join(first[:1])}") from None
    art = Artifact(
        name=source.stem,
        abi=out["abi"],
        bytecode=out["bytecode"],
        deployed_bytecode_size=(len(out["bytecode_runtime"]) - 2) // 2,
        compiler_version=compiler_version(),
        source_hash=_combined_hash(_sha256_file(source), deps),
        method_identifiers=out["method_identifiers"],
        source_path=_display(source, cfg),
        dependencies=sorted(deps, key=lambda d: d["path"]),
    )
    write_json_atomic(artifact_path(art.name, cfg), art.to_json())
    return art


def _outputs(data) -> dict:
    from vyper.compiler import outputs_from_compiler_data

    return outputs_from_compiler_data(data, ("abi", "bytecode", "bytecode_runtime", "method_identifiers"))


def compile_all(
    cfg: Config | None = None,
    force: bool = False,
    progress: Callable[[str, str], None] | None = None,
) -> dict[str, Artifact]:
    """Compile every changed contract (all of them with force); return every artifact by name.

    `progress(name, state)` is told "cached", "compiling" and "compiled" per contract."""
    cfg = cfg or config()
    result: dict[str, Artifact] = {}
    for source in contract_sources(cfg):
        if not force and is_current(source, cfg):
            result[source.stem] = load_artifact(source.stem, cfg)
            if progress:
                progress(source.stem, "cached")
            continue
        if progress:
            progress(source.stem, "compiling")
        result[source.stem] = compile_contract(source, cfg)
        if progress:
            progress(source.stem, "compiled")
    return result


def load_artifact(name: str, cfg: Config | None = None) -> Artifact:
    """The artifact of contract `name` from build/contracts (CityLedgerError if not compiled)."""
    path = artifact_path(name, cfg)
    try:
        return Artifact.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise CityLedgerError(f"no artifact for {name} at {path}: run `cityledger compile`") from None
    except (ValueError, TypeError) as exc:
        raise CityLedgerError(f"{path} is not a valid artifact ({exc}): run `cityledger compile --force`") from None
