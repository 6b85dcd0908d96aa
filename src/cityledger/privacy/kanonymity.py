"""The re-identification guard on row releases: k-anonymity over the declared quasi-identifiers
(docs/PRIVACY.md, "k-anonymity on releases").

A consent-filtered table is k-anonymous when every combination of quasi-identifier values that occurs
(an equivalence class) occurs in at least k rows. When it is not, the quasi-identifiers are generalised
along their declared hierarchies, least generalisation first: every combination of levels is a node of
a lattice, nodes are tried by their total level (the sum over the columns), and the first total level
at which some node reaches k wins; among several, the one that suppresses fewest rows, then the one
with the most equivalence classes (the finest partition: least information lost), then the one that
generalises the earlier-declared columns least. Whole small classes may be suppressed (left out
of the release) only up to the declaration's `cl:suppressionLimit` share of rows (default 0: never).
If no node reaches k, the release is refused.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .declaration import Column, PrivacyDeclaration
from .errors import DeclarationError, KAnonymityRefused

K_ONCHAIN_MAX = 2**16 - 1  # log_release records k as a uint16


@dataclass(frozen=True)
class KAnonymity:
    """The outcome of the guard: the rows to release and what was done to them."""

    k_required: int
    k_achieved: int  # the smallest equivalence class released (0: the dataset declares no quasi-identifier)
    levels: dict[str, int]  # quasi-identifier -> hierarchy level applied (0: as published)
    generalised: dict[str, str]  # quasi-identifier -> the label of its level, for those generalised
    header: list[str]
    rows: list[list[str]]  # the rows to release: quasi-identifiers generalised, suppressed rows left out
    kept: list[int]  # the input index of each released row (for the consent snapshot of the release)
    suppressed: int  # rows left out
    classes: int  # equivalence classes released

    @property
    def k_onchain(self) -> int:
        """k as log_release records it (uint16; 0 when no quasi-identifier is declared)."""
        return min(self.k_achieved, K_ONCHAIN_MAX)

    def to_json(self) -> dict:
        return {
            "k_required": self.k_required,
            "k_achieved": self.k_achieved,
            "levels": self.levels,
            "generalised": self.generalised,
            "suppressed_rows": self.suppressed,
            "classes": self.classes,
            "rows": len(self.rows),
        }


class _Encoded:
    """One quasi-identifier's values as integer codes per hierarchy level (computed once per level)."""

    def __init__(self, col: Column, values: list[str]):
        self.col = col
        self.values = values
        self.cache: dict[int, tuple[np.ndarray, list[str]]] = {}

    def level(self, level: int) -> tuple[np.ndarray, list[str]]:
        if level not in self.cache:
            labels: list[str] = []
            label_code: dict[str, int] = {}
            raw_code: dict[str, int] = {}
            codes = np.empty(len(self.values), dtype=np.int64)
            for i, raw in enumerate(self.values):
                code = raw_code.get(raw)
                if code is None:
                    label = self.col.generalise(raw, level)
                    code = label_code.setdefault(label, len(labels))
                    if code == len(labels):
                        labels.append(label)
                    raw_code[raw] = code
                codes[i] = code
            self.cache[level] = (codes, labels)
        return self.cache[level]


def _classes(encoded: list[_Encoded], node: tuple[int, ...]) -> np.ndarray:
    """Each row's equivalence class number at `node` (re-numbered after each column, so the combined
    key stays below rows x labels and cannot overflow)."""
    key = np.zeros(len(encoded[0].values), dtype=np.int64)
    for enc, level in zip(encoded, node, strict=True):
        codes, labels = enc.level(level)
        _, key = np.unique(key * len(labels) + codes, return_inverse=True)
    return key.reshape(-1)


def _check(header: Sequence[str], rows: Sequence[Sequence[str]], decl: PrivacyDeclaration) -> list[int]:
    if len(set(header)) != len(header):
        raise DeclarationError("the table's header names a column twice")
    missing = [c.name for c in decl.quasi_identifiers if c.name not in header]
    if missing:
        raise DeclarationError(f"quasi-identifier column(s) {', '.join(missing)} not in the table")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise DeclarationError(f"row {i + 1} has {len(row)} fields, the header has {len(header)}")
    return [list(header).index(c.name) for c in decl.quasi_identifiers]


def k_anonymize(
    header: Sequence[str], rows: Sequence[Sequence[str]], declaration: PrivacyDeclaration, *, k: int | None = None
) -> KAnonymity:
    """Make `rows` (already consent-filtered, text values under `header`) k-anonymous over the declared
    quasi-identifiers, generalising least first; a KAnonymityRefused when the declaration's most general
    levels (and its suppression limit) cannot reach k. `k` defaults to the declaration's."""
    k = declaration.k if k is None else k
    if k < 1:
        raise KAnonymityRefused(f"k must be at least 1, not {k}")
    positions = _check(header, rows, declaration)
    qis = declaration.quasi_identifiers
    if not qis:  # nothing declared to single people out by: released as is, k recorded as 0
        return KAnonymity(k, 0, {}, {}, list(header), [list(r) for r in rows], list(range(len(rows))), 0, 0)
    if not rows:
        raise KAnonymityRefused("no rows to release", rows=0, smallest=0)
    encoded = [_Encoded(col, [r[p] for r in rows]) for col, p in zip(qis, positions, strict=True)]
    limit = math.floor(declaration.suppression_limit * len(rows))
    lattice = list(itertools.product(*(range(len(c.hierarchy) + 1) for c in qis)))
    lattice.sort(key=lambda node: (sum(node), node))
    best = None  # (node, rows dropped, classes kept, class of each row, row dropped?)
    for _height, nodes in itertools.groupby(lattice, key=sum):
        for node in nodes:
            cls = _classes(encoded, node)
            sizes = np.bincount(cls)
            small = sizes[cls] < k
            dropped = int(small.sum())
            if dropped > limit or dropped == len(rows):
                continue
            classes = int((sizes >= k).sum())
            # fewest rows dropped, then the finest partition (most classes): the least information lost
            if best is None or (dropped, -classes) < (best[1], -best[2]):
                best = (node, dropped, classes, cls, small)
        if best is not None:
            break
    if best is None:
        top = tuple(len(c.hierarchy) for c in qis)
        smallest = int(np.bincount(_classes(encoded, top)).min())
        raise KAnonymityRefused(
            f"the release cannot be made {k}-anonymous over {', '.join(c.name for c in qis)}: even at the most "
            "general levels the declaration allows"
            + (" and with the rows it allows to suppress," if limit else ",")
            + f" some group has fewer than {k} rows",
            rows=len(rows),
            smallest=smallest,
        )
    node, dropped, _, cls, small = best
    kept = [i for i in range(len(rows)) if not small[i]]
    out_rows = []
    for i in kept:
        row = list(rows[i])
        for enc, p, level in zip(encoded, positions, node, strict=True):
            if level:
                codes, labels = enc.level(level)
                row[p] = labels[codes[i]]
        out_rows.append(row)
    sizes = np.bincount(cls[~small])
    sizes = sizes[sizes > 0]
    return KAnonymity(
        k_required=k,
        k_achieved=int(sizes.min()),
        levels={c.name: lv for c, lv in zip(qis, node, strict=True)},
        generalised={c.name: c.level_label(lv) for c, lv in zip(qis, node, strict=True) if lv},
        header=list(header),
        rows=out_rows,
        kept=kept,
        suppressed=dropped,
        classes=len(sizes),
    )
