"""Configuration: the defaults are the shipped cityledger.toml (one source), a project's file and the
environment override them, and a broken file is one clear error."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cityledger.config import defaults, load_config
from cityledger.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_the_defaults_are_the_project_file():
    assert defaults() == tomllib.loads((ROOT / "cityledger.toml").read_text())


def test_a_folder_without_a_file_gets_the_documented_defaults(tmp_path, monkeypatch):
    for var in ("CITYLEDGER_DATA_DIR", "CITYLEDGER_DB_URL", "CITYLEDGER_API_HOST", "CITYLEDGER_API_PORT"):
        monkeypatch.delenv(var, raising=False)
    documented = tomllib.loads((ROOT / "cityledger.toml").read_text())
    cfg = load_config(tmp_path)
    assert cfg.data_dir == tmp_path / documented["paths"]["data_dir"]
    assert (cfg.api_host, cfg.api_port) == (documented["api"]["host"], documented["api"]["port"])
    assert cfg.confirmations == documented["store"]["confirmations"]
    assert cfg.networks == documented["networks"]


def test_a_project_file_overrides_one_key_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYLEDGER_API_PORT", raising=False)
    (tmp_path / "cityledger.toml").write_text("[api]\nport = 9100\n")
    cfg = load_config(tmp_path)
    assert cfg.api_port == 9100 and cfg.api_host == defaults()["api"]["host"]


def test_a_broken_project_file_is_one_clear_error(tmp_path):
    (tmp_path / "cityledger.toml").write_text("[api\nport = 1\n")
    with pytest.raises(ConfigError, match="cityledger.toml: not valid TOML"):
        load_config(tmp_path)
