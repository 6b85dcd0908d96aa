"""Small declarations and tables for the privacy tests."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

from cityledger.demo import catalog
from cityledger.privacy import parse_declaration

CITIZENS = ["0x" + f"{i:040x}" for i in range(6, 10)]


def demo_doc() -> dict:
    """A fresh copy of the demo citizen dataset's cl:privacy object."""
    assert catalog.CITIZEN.privacy is not None
    return copy.deepcopy(catalog.CITIZEN.privacy)


def demo_declaration():
    return parse_declaration(demo_doc())


def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "citizen-mobility-synthetic.csv"
    path.write_bytes(catalog.citizen_bytes(CITIZENS))
    return path


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def declaration(columns: list[dict], **extra) -> dict:
    """A cl:privacy object with a `subject` column and the given columns."""
    return {
        "cl:subjectColumn": "subject",
        "cl:sampledPopulation": "test rows",
        "cl:columns": columns,
        **extra,
    }


def address(i: int) -> str:
    return "0x" + f"{i:040x}"
