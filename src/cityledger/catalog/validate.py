"""DCAT-AP 3 conformance of a graph, by the SHACL shapes in shapes/ (pyshacl).

mandatory.ttl and ranges.ttl: violations (the graph is not DCAT-AP); recommended.ttl: warnings
(valid, but less useful to a harvester). `conforms` means no violation."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

SHAPES_DIR = Path(__file__).parent / "shapes"
SHAPE_FILES = ("mandatory.ttl", "ranges.ttl", "recommended.ttl")
SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class Finding:
    severity: str  # "violation" | "warning"
    focus: str  # the node the finding is about
    path: str | None  # the property
    message: str

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.severity}: {self.focus}{where}: {self.message}"


@dataclass(frozen=True)
class Conformance:
    violations: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.violations

    def about(self, node: str) -> Conformance:
        """Only the findings whose focus node is `node` or one of its own nodes (`node#...`)."""
        mine = [f for f in self.violations + self.warnings if f.focus == node or f.focus.startswith(node + "#")]
        return Conformance([f for f in mine if f.severity == "violation"], [f for f in mine if f.severity == "warning"])


@cache
def shapes() -> Graph:
    g = Graph()
    for name in SHAPE_FILES:
        g.parse(SHAPES_DIR / name, format="turtle")
    return g


def validate(graph: Graph) -> Conformance:
    """The SHACL findings of `graph` against CityLedger's DCAT-AP 3 shapes."""
    _, report, _ = shacl_validate(graph, shacl_graph=shapes(), inference="none", allow_warnings=True, advanced=False)
    found: dict[str, list[Finding]] = {"violation": [], "warning": []}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        kind = "violation" if severity == SH.Violation else "warning"
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        found[kind].append(
            Finding(
                severity=kind,
                focus=str(report.value(result, SH.focusNode)),
                path=graph.namespace_manager.normalizeUri(path) if path is not None else None,
                message=str(message) if message is not None else "constraint not met",
            )
        )
    for items in found.values():
        items.sort(key=lambda f: (f.focus, f.path or "", f.message))
    return Conformance(found["violation"], found["warning"])
