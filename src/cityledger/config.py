"""Project configuration: `cityledger.toml` at the project root, overridden by environment variables.

The project root is CITYLEDGER_ROOT if set, else the nearest folder upwards from the current
directory that holds a `cityledger.toml`, else the current directory. The defaults are the
cityledger.toml shipped with the package (`src/cityledger/cityledger.toml` links to the project's).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    """The shipped cityledger.toml: package data (in a checkout, a link to the project's own file), so
    the defaults and the documented file are one source."""
    shipped = resources.files("cityledger").joinpath("cityledger.toml")
    try:
        return tomllib.loads(shipped.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the shipped defaults {shipped} cannot be read ({exc})") from None


@dataclass(frozen=True)
class Network:
    name: str
    rpc_url: str
    chain_id: int
    devnet: bool = False
    mnemonic: str | None = None
    accounts: int = 10
    block_time: int = 0

    @property
    def port(self) -> int:
        from urllib.parse import urlparse

        return urlparse(self.rpc_url).port or 8545


@dataclass(frozen=True)
class ApiLimits:
    """The API's bounds on hostile input ([api] of cityledger.toml; docs/API.md "Limits")."""

    max_body_bytes: int
    max_json_depth: int
    max_json_items: int
    body_timeout: float
    header_timeout: float
    max_connections: int
    recursion_limit: int

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ApiLimits:
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = table.get(f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"[api] {f.name} must be a positive number, got {value!r}")
            values[f.name] = float(value) if f.type == "float" else int(value)
        return cls(**values)


@dataclass(frozen=True)
class DataroomSettings:
    """The data room's settings ([dataroom] of cityledger.toml; docs/DATAROOM.md)."""

    public_url: str = ""  # the origin users reach the API at (SIWE domain and URI); "" = http://{api host}:{port}
    file_store: str = "local"  # "local" (<data_dir>/files) or "s3://bucket/prefix"
    max_upload_bytes: int = 4 * 1024**3
    session_ttl: int = 3600
    nonce_ttl: int = 600
    link_ttl: int = 300

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> DataroomSettings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in table:
                continue
            value = table[f.name]
            if f.type == "str":
                if not isinstance(value, str):
                    raise ConfigError(f"[dataroom] {f.name} must be a string, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"[dataroom] {f.name} must be a positive integer, got {value!r}")
            values[f.name] = value
        for f, env in (("public_url", "CITYLEDGER_PUBLIC_URL"), ("file_store", "CITYLEDGER_FILE_STORE")):
            if os.environ.get(env):
                values[f] = os.environ[env]
        values["public_url"] = values.get("public_url", "").rstrip("/")
        if values["public_url"] and not values["public_url"].startswith(("http://", "https://")):
            raise ConfigError(f"[dataroom] public_url must be an http(s) origin, got {values['public_url']!r}")
        return cls(**values)


@dataclass(frozen=True)
class Config:
    root: Path
    data_dir: Path
    build_dir: Path
    deployments_dir: Path
    contracts_dir: Path
    db_url: str
    confirmations: int
    api_host: str
    api_port: int
    api_limits: ApiLimits
    networks: dict[str, dict] = field(default_factory=dict)
    dataroom: DataroomSettings = field(default_factory=DataroomSettings)

    @property
    def public_url(self) -> str:
        """The origin users reach the API at: [dataroom] public_url, else the API's own host and port."""
        return self.dataroom.public_url or f"http://{self.api_host}:{self.api_port}"

    def network(self, name: str | None = None) -> Network:
        """The named network (default: CITYLEDGER_NETWORK or devnet), with env overrides applied."""
        name = name or os.environ.get("CITYLEDGER_NETWORK") or "devnet"
        if name not in self.networks:
            known = ", ".join(sorted(self.networks))
            raise ConfigError(f"unknown network '{name}' (configured: {known}); add it to cityledger.toml")
        raw = dict(self.networks[name])
        if os.environ.get("CITYLEDGER_RPC_URL"):
            raw["rpc_url"] = os.environ["CITYLEDGER_RPC_URL"]
        if os.environ.get("CITYLEDGER_CHAIN_ID"):
            raw["chain_id"] = int(os.environ["CITYLEDGER_CHAIN_ID"])
        try:
            return Network(
                name=name,
                rpc_url=str(raw["rpc_url"]),
                chain_id=int(raw["chain_id"]),
                devnet=bool(raw.get("devnet", False)),
                mnemonic=raw.get("mnemonic"),
                accounts=int(raw.get("accounts", 10)),
                block_time=int(raw.get("block_time", 0)),
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"network '{name}' needs rpc_url and a numeric chain_id ({exc})") from None


def find_root(start: Path | None = None) -> Path:
    if os.environ.get("CITYLEDGER_ROOT"):
        return Path(os.environ["CITYLEDGER_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "cityledger.toml").is_file():
            return folder
    return here


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(root: Path | None = None) -> Config:
    root = root or find_root()
    path = root / "cityledger.toml"
    project: dict[str, Any] = {}
    if path.is_file():
        try:
            project = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    raw = _merge(defaults(), project)

    def at_root(p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else root / q

    data_dir = at_root(os.environ.get("CITYLEDGER_DATA_DIR") or raw["paths"]["data_dir"])
    db_url = os.environ.get("CITYLEDGER_DB_URL") or raw["store"]["url"]
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        # A relative SQLite path is relative to the project root, not the cwd.
        rel = db_url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            if rel.startswith(".cityledger/") and os.environ.get("CITYLEDGER_DATA_DIR"):
                rel = str(data_dir / rel.removeprefix(".cityledger/"))
            db_url = "sqlite:///" + str(at_root(rel))
    return Config(
        root=root,
        data_dir=data_dir,
        build_dir=at_root(os.environ.get("CITYLEDGER_BUILD_DIR") or raw["paths"]["build_dir"]),
        deployments_dir=at_root(os.environ.get("CITYLEDGER_DEPLOYMENTS_DIR") or raw["paths"]["deployments_dir"]),
        contracts_dir=at_root("contracts"),
        db_url=db_url,
        confirmations=int(os.environ.get("CITYLEDGER_CONFIRMATIONS") or raw["store"]["confirmations"]),
        api_host=os.environ.get("CITYLEDGER_API_HOST") or raw["api"]["host"],
        api_port=int(os.environ.get("CITYLEDGER_API_PORT") or raw["api"]["port"]),
        api_limits=ApiLimits.from_table(raw["api"]),
        networks=raw.get("networks", {}),
        dataroom=DataroomSettings.from_table(raw.get("dataroom", {})),
    )


@lru_cache(maxsize=1)
def config() -> Config:
    """The configuration of this process (cached; tests build their own with load_config)."""
    return load_config()
