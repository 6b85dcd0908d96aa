"""Structured log lines: key=value (logfmt) by default, one JSON object per line with `--log-json`.

A log call names what happened in its message and puts the facts in fields:

    log.warning("reorg", extra=fields(from_block=81, ancestor=77, rows={"consents_replayed": 3}))

gives `time=2026-12-02T10:00:00.123Z level=warning logger=cityledger.indexer msg=reorg from_block=81
ancestor=77 rows="{'consents_replayed': 3}"`, or with `--log-json`
`{"time": "...", "level": "warning", "logger": "cityledger.indexer", "msg": "reorg", "from_block": 81, ...}`.
Records of other libraries (no fields) get the same time/level/logger/msg keys.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable
from typing import IO, Any

_BARE = re.compile(r"^[^\s=\"]+$")  # a logfmt value that needs no quotes


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """The `extra=` of a log call carrying these key=value fields."""
    return {"fields": values}


def _common(record: logging.LogRecord) -> dict[str, Any]:
    when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
    return {
        "time": when.replace("+00:00", "Z"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    values = getattr(record, "fields", None)
    return values if isinstance(values, dict) else {}


class KeyValueFormatter(logging.Formatter):
    """`key=value` pairs on one line; values with spaces, quotes or `=` are JSON-quoted."""

    def format(self, record: logging.LogRecord) -> str:
        items = _common(record) | _record_fields(record)
        if record.exc_info:
            items["error"] = self.formatException(record.exc_info)
        return " ".join(f"{k}={_logfmt(v)}" for k, v in items.items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line (values JSON can not hold are written as their str())."""

    def format(self, record: logging.LogRecord) -> str:
        items = _common(record) | _record_fields(record)
        if record.exc_info:
            items["error"] = self.formatException(record.exc_info)
        return json.dumps(items, default=str)


def _logfmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if _BARE.match(text) else json.dumps(text)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure() installs: writes to `stream`, or else to whatever sys.stderr is when
    a record comes (a test runner swaps it and closes the old one)."""

    def __init__(self, stream: IO[str] | None):
        super().__init__(stream)
        self.fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self.fixed or sys.stderr
        super().emit(record)


def configure(json_lines: bool = False, level: int = logging.INFO, stream: IO[str] | None = None) -> Callable[[], None]:
    """Send every log record to `stream` (default stderr) as key=value, or JSON lines. Replaces the
    handler an earlier call installed and leaves other handlers alone; returns the undo (a command
    run in-process, e.g. by a test, must not leave its handler and level behind)."""
    handler = _Handler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else KeyValueFormatter())
    root, ours = logging.getLogger(), logging.getLogger("cityledger")
    before = root.handlers[:], root.level, ours.level
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _Handler)] + [handler]
    # `level` for CityLedger's own records; other libraries' (alembic's "Context impl ...") from WARNING.
    root.setLevel(max(level, logging.WARNING))
    ours.setLevel(level)

    def undo() -> None:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
        ours.setLevel(before[2])

    return undo
