"""The publisher's privacy declaration: the `cl:privacy` object of a personal dataset's DCAT JSON-LD
metadata (docs/PRIVACY.md, "The declaration").

It says which column holds the subject (the unit of privacy), how many rows one subject may have,
each usable column with its type (categorical with its category set, integer or numeric with bounds),
which columns are quasi-identifiers and how they may be generalised, the k of k-anonymity, and who the
rows describe (the sampled population and coverage). Everything in it is public: it is part of the
registered metadata, whose hash is on chain. The canonical metadata form admits no floats, so numbers
are integers or decimal strings ("0.5"), and the parser refuses floats as the metadata code does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from .errors import DeclarationError, QueryRefused

KEY = "cl:privacy"
TYPE = "cl:PrivacyDeclaration"
VERSION = 1
CATEGORICAL, INTEGER, NUMERIC = "categorical", "integer", "numeric"
TYPES = (CATEGORICAL, INTEGER, NUMERIC)
DEFAULT_K = 5
MAX_K = 1000
MAX_CONTRIBUTIONS = 1000
MAX_PROFILE_EPSILON = 10  # as a query's epsilon
MAX_CATEGORIES = 10_000
MAX_CANDIDATES = 10_001  # quantile candidates per column (the search is linear in them)
DEFAULT_STEPS = 1000  # default quantile resolution: the bounds cut in this many steps
MAX_LEVELS = 8
MAX_LATTICE = 10_000  # combinations of quasi-identifier levels the k-anonymity search may try
MAX_TEXT = 1000
EVERYTHING = "*"

_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,12})?$")


def parse_decimal(value: object, where: str, error: type[Exception] = DeclarationError) -> Decimal:
    """An integer or a decimal string ("-1.25") as an exact Decimal; floats, NaN, infinities, exponents
    and anything else are refused (floats have no canonical text; the metadata admits none)."""
    if isinstance(value, bool):
        raise error(f"{where} must be a number written as an integer or a decimal string, not {value!r}")
    if isinstance(value, int):
        if abs(value) >= 10**18:
            raise error(f"{where} is out of range ({value})")
        return Decimal(value)
    if isinstance(value, float):
        raise error(f'{where} is a float ({value!r}); write it as a decimal string, e.g. "{value}"')
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        return Decimal(value.strip())
    raise error(f'{where} must be an integer or a decimal string such as "0.5", not {value!r}')


def decimal_text(value: Decimal) -> str:
    """A Decimal in plain notation without trailing zeros ("0.5", "14", "-3.25"): the canonical text."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _number_json(value: Decimal, integer: bool) -> int | str:
    return int(value) if integer else decimal_text(value)


@dataclass(frozen=True)
class Level:
    """One generalisation level of a quasi-identifier (level 1 is the first above the raw values)."""

    label: str
    width: Decimal | None = None  # integer/numeric columns: bands of this width, aligned on 0
    groups: Mapping[str, str] | None = None  # categorical columns: raw category -> group label
    everything: bool = False  # "*": every value becomes "*"

    def to_jsonld(self, integer: bool) -> object:
        if self.everything:
            return EVERYTHING
        if self.width is not None:
            return {"cl:label": self.label, "cl:width": _number_json(self.width, integer)}
        members: dict[str, list[str]] = {}
        for raw, group in (self.groups or {}).items():
            members.setdefault(group, []).append(raw)
        return {
            "cl:label": self.label,
            "cl:groups": [{"cl:label": g, "cl:members": m} for g, m in members.items()],
        }


@dataclass(frozen=True)
class Column:
    """A usable column: its type, its declared categories or bounds, and its generalisations."""

    name: str
    type: str
    categories: tuple[str, ...] = ()
    lower: Decimal | None = None
    upper: Decimal | None = None
    resolution: Decimal | None = None
    quasi_identifier: bool = False
    hierarchy: tuple[Level, ...] = ()
    description: str | None = None

    @property
    def numeric(self) -> bool:
        return self.type in (INTEGER, NUMERIC)

    @property
    def bounded(self) -> bool:
        return self.lower is not None and self.upper is not None

    def candidates(self) -> list[int] | list[float]:
        """The values a DP quantile chooses among: every `resolution` step between the bounds."""
        assert self.lower is not None and self.upper is not None
        step = self.resolution or _default_resolution(self.type, self.lower, self.upper)
        count = int((self.upper - self.lower) / step) + 1
        values = [self.lower + i * step for i in range(count)]
        if self.type == INTEGER:
            return [int(v) for v in values]
        return [float(v) for v in values]

    def generalise(self, value: str, level: int) -> str:
        """`value` at hierarchy `level` (0: as it is). A value the level cannot place (not a declared
        category, not a number) becomes "*": generalising never keeps an unplaceable raw value."""
        if level == 0:
            return value
        lv = self.hierarchy[level - 1]
        if lv.everything:
            return EVERYTHING
        if lv.groups is not None:
            return lv.groups.get(value, EVERYTHING)
        assert lv.width is not None
        try:
            x = Decimal(value.strip())
        except InvalidOperation:
            return EVERYTHING
        if not x.is_finite():
            return EVERYTHING
        start = (x / lv.width).to_integral_value(rounding=ROUND_FLOOR) * lv.width
        if self.type == INTEGER:
            return f"{decimal_text(start)}-{decimal_text(start + lv.width - 1)}"
        return f"[{decimal_text(start)}, {decimal_text(start + lv.width)})"

    def level_label(self, level: int) -> str:
        return "as published" if level == 0 else self.hierarchy[level - 1].label

    def to_jsonld(self) -> dict:
        integer = self.type == INTEGER
        out: dict = {"cl:name": self.name, "cl:type": self.type}
        if self.description:
            out["cl:description"] = self.description
        if self.type == CATEGORICAL:
            out["cl:categories"] = list(self.categories)
        if self.lower is not None and self.upper is not None:
            out["cl:lower"] = _number_json(self.lower, integer)
            out["cl:upper"] = _number_json(self.upper, integer)
        if self.resolution is not None:
            out["cl:resolution"] = _number_json(self.resolution, integer)
        if self.quasi_identifier:
            out["cl:quasiIdentifier"] = True
        if self.hierarchy:
            out["cl:hierarchy"] = [lv.to_jsonld(integer) for lv in self.hierarchy]
        return out


def _default_resolution(kind: str, lower: Decimal, upper: Decimal) -> Decimal:
    step = (upper - lower) / DEFAULT_STEPS
    if kind == INTEGER:
        return max(Decimal(1), step.to_integral_value(rounding=ROUND_FLOOR))
    return step


@dataclass(frozen=True)
class PrivacyDeclaration:
    """A parsed, valid `cl:privacy` object (see parse_declaration)."""

    subject_column: str
    columns: Mapping[str, Column]
    sampled_population: str
    k: int = DEFAULT_K
    contributions: int = 1
    suppression_limit: Decimal = Decimal(0)
    # The epsilon spent once per dataset version on the noisy population profile that representativeness
    # reports compare the consented rows with; None: the publisher allows no report.
    profile_epsilon: Decimal | None = None

    @property
    def quasi_identifiers(self) -> list[Column]:
        return [c for c in self.columns.values() if c.quasi_identifier]

    @property
    def categorical(self) -> list[Column]:
        return [c for c in self.columns.values() if c.type == CATEGORICAL]

    def column(self, name: object, role: str) -> Column:
        """The declared column `name`, or a QueryRefused naming what is declared (`role` says what the
        query wanted to do with it, e.g. "group by")."""
        if name == self.subject_column:
            raise QueryRefused(f"the subject column '{name}' cannot be used to {role}: it identifies people")
        if not isinstance(name, str) or name not in self.columns:
            declared = ", ".join(self.columns)
            raise QueryRefused(f"column {name!r} is not declared for private queries (declared: {declared})")
        return self.columns[name]

    def to_jsonld(self) -> dict:
        """The declaration as the `cl:privacy` JSON object (integers and decimal strings only)."""
        out: dict = {
            "@type": TYPE,
            "cl:version": VERSION,
            "cl:subjectColumn": self.subject_column,
            "cl:contributionsPerSubject": self.contributions,
            "cl:k": self.k,
            "cl:sampledPopulation": self.sampled_population,
            "cl:columns": [c.to_jsonld() for c in self.columns.values()],
        }
        if self.suppression_limit:
            out["cl:suppressionLimit"] = decimal_text(self.suppression_limit)
        if self.profile_epsilon is not None:
            out["cl:profileEpsilon"] = decimal_text(self.profile_epsilon)
        return out


# ---------------------------------------------------------------- parsing


def _get(obj: Mapping, key: str, where: str, kind: type | tuple[type, ...], *, required: bool = True):
    value = obj.get(key)
    if value is None:
        if required:
            raise DeclarationError(f"{where}: {key} is required")
        return None
    if isinstance(value, bool) and kind is not bool:
        raise DeclarationError(f"{where}: {key} must be {_kind_name(kind)}, not {value!r}")
    if not isinstance(value, kind):
        raise DeclarationError(f"{where}: {key} must be {_kind_name(kind)}, not {type(value).__name__}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "an integer", bool: "true or false", list: "a list", dict: "an object"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _text(obj: Mapping, key: str, where: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = _get(obj, key, where, str, required=required)
    if value is None:
        return None
    if not value.strip():
        raise DeclarationError(f"{where}: {key} must not be empty")
    if len(value) > limit:
        raise DeclarationError(f"{where}: {key} is longer than {limit} characters")
    return value


def _int(obj: Mapping, key: str, where: str, default: int, low: int, high: int) -> int:
    value = _get(obj, key, where, int, required=False)
    if value is None:
        return default
    if not low <= value <= high:
        raise DeclarationError(f"{where}: {key} must be between {low} and {high}, not {value}")
    return value


def _categorical_level(raw: Mapping, where: str, categories: tuple[str, ...]) -> Level:
    groups_doc = _get(raw, "cl:groups", where, list)
    mapping: dict[str, str] = {}
    for i, g in enumerate(groups_doc):
        gw = f"{where}, group {i + 1}"
        if not isinstance(g, Mapping):
            raise DeclarationError(f"{gw}: must be an object with cl:label and cl:members")
        label = _text(g, "cl:label", gw, limit=200)
        assert label is not None
        for member in _get(g, "cl:members", gw, list):
            if member not in categories:
                raise DeclarationError(f"{gw}: {member!r} is not a declared category of the column")
            if member in mapping:
                raise DeclarationError(f"{gw}: category {member!r} is in two groups")
            mapping[member] = label
    missing = [c for c in categories if c not in mapping]
    if missing:
        raise DeclarationError(f"{where}: categories in no group: {', '.join(missing[:10])}")
    return Level(label=_text(raw, "cl:label", where, required=False, limit=200) or "groups", groups=mapping)


def _band_level(raw: Mapping, where: str, kind: str) -> Level:
    width = parse_decimal(raw.get("cl:width"), f"{where}: cl:width")
    if width <= 0 or (kind == INTEGER and width != width.to_integral_value()):
        raise DeclarationError(f"{where}: cl:width must be a positive {'integer' if kind == INTEGER else 'number'}")
    label = _text(raw, "cl:label", where, required=False, limit=200) or f"bands of {decimal_text(width)}"
    return Level(label=label, width=width)


def _hierarchy(doc: list, where: str, col: Column) -> tuple[Level, ...]:
    if len(doc) > MAX_LEVELS:
        raise DeclarationError(f"{where}: at most {MAX_LEVELS} levels")
    levels: list[Level] = []
    for i, raw in enumerate(doc):
        lw = f"{where} level {i + 1}"
        if levels and levels[-1].everything:
            raise DeclarationError(f'{lw}: nothing can follow "*" (it is already the most general level)')
        if raw == EVERYTHING:
            levels.append(Level(label="suppressed (*)", everything=True))
            continue
        if not isinstance(raw, Mapping):
            raise DeclarationError(f'{lw}: must be "*" or an object (cl:groups or cl:width)')
        if col.type == CATEGORICAL:
            level = _categorical_level(raw, lw, col.categories)
            prev = levels[-1].groups if levels else None
            if prev is not None:  # coarser than the level below: each lower group inside one group
                above: dict[str, str] = {}
                for cat, low in prev.items():
                    if above.setdefault(low, level.groups[cat]) != level.groups[cat]:  # type: ignore[index]
                        raise DeclarationError(f"{lw}: group '{low}' of level {i} is split between two groups")
        else:
            level = _band_level(raw, lw, col.type)
            if levels and levels[-1].width is not None:
                assert level.width is not None
                ratio = level.width / levels[-1].width
                if ratio <= 1 or ratio != ratio.to_integral_value():
                    raise DeclarationError(f"{lw}: cl:width must be a whole multiple (> 1) of the level below's")
        levels.append(level)
    return tuple(levels)


def _column(raw: object, where: str) -> Column:
    if not isinstance(raw, Mapping):
        raise DeclarationError(f"{where}: must be an object")
    name = _text(raw, "cl:name", where, limit=200)
    assert name is not None
    where = f"column '{name}'"
    kind = _get(raw, "cl:type", where, str)
    if kind not in TYPES:
        raise DeclarationError(f"{where}: cl:type must be one of {', '.join(TYPES)}, not {kind!r}")
    categories: tuple[str, ...] = ()
    lower = upper = resolution = None
    if kind == CATEGORICAL:
        cats = _get(raw, "cl:categories", where, list)
        if not cats:
            raise DeclarationError(f"{where}: a categorical column needs its cl:categories (the full set)")
        if len(cats) > MAX_CATEGORIES:
            raise DeclarationError(f"{where}: at most {MAX_CATEGORIES} categories")
        for c in cats:
            if not isinstance(c, str) or not c or len(c) > 200:
                raise DeclarationError(f"{where}: categories are non-empty texts (at most 200 characters), not {c!r}")
        if len(set(cats)) != len(cats):
            raise DeclarationError(f"{where}: cl:categories has duplicates")
        categories = tuple(cats)
        for key in ("cl:lower", "cl:upper", "cl:resolution"):
            if key in raw:
                raise DeclarationError(f"{where}: {key} applies to integer and numeric columns only")
    else:
        if "cl:categories" in raw:
            raise DeclarationError(f"{where}: cl:categories applies to categorical columns only")
        if ("cl:lower" in raw) != ("cl:upper" in raw):
            raise DeclarationError(f"{where}: declare both cl:lower and cl:upper, or neither (unbounded)")
        if "cl:lower" in raw:
            lower = parse_decimal(raw["cl:lower"], f"{where}: cl:lower")
            upper = parse_decimal(raw["cl:upper"], f"{where}: cl:upper")
            if not lower < upper:
                raise DeclarationError(f"{where}: cl:lower ({lower}) must be below cl:upper ({upper})")
            if kind == INTEGER and (lower != int(lower) or upper != int(upper)):
                raise DeclarationError(f"{where}: an integer column's bounds must be integers")
        if "cl:resolution" in raw:
            if lower is None or upper is None:
                raise DeclarationError(f"{where}: cl:resolution needs cl:lower and cl:upper")
            resolution = parse_decimal(raw["cl:resolution"], f"{where}: cl:resolution")
            if resolution <= 0 or (kind == INTEGER and resolution != int(resolution)):
                raise DeclarationError(f"{where}: cl:resolution must be a positive {kind} step")
            if (upper - lower) / resolution + 1 > MAX_CANDIDATES:
                raise DeclarationError(f"{where}: cl:resolution gives more than {MAX_CANDIDATES} quantile candidates")
    qi = _get(raw, "cl:quasiIdentifier", where, bool, required=False) or False
    col = Column(
        name=name,
        type=kind,
        categories=categories,
        lower=lower,
        upper=upper,
        resolution=resolution,
        quasi_identifier=qi,
        description=_text(raw, "cl:description", where, required=False),
    )
    hierarchy = _get(raw, "cl:hierarchy", where, list, required=False)
    if hierarchy:
        if not qi:
            raise DeclarationError(f"{where}: cl:hierarchy is for quasi-identifiers (set cl:quasiIdentifier true)")
        col = replace(col, hierarchy=_hierarchy(hierarchy, f"{where}: cl:hierarchy", col))
    unknown = set(raw) - {
        "cl:name",
        "cl:type",
        "cl:categories",
        "cl:lower",
        "cl:upper",
        "cl:resolution",
        "cl:quasiIdentifier",
        "cl:hierarchy",
        "cl:description",
        "@type",
    }
    if unknown:
        raise DeclarationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return col


def lattice_size(columns: Iterable[Column]) -> int:
    """Combinations of hierarchy levels over the quasi-identifiers (the k-anonymity search space)."""
    return math.prod(len(c.hierarchy) + 1 for c in columns if c.quasi_identifier)


def parse_declaration(doc: Mapping) -> PrivacyDeclaration:
    """The declaration in `doc`: either the `cl:privacy` object itself or a whole metadata document
    holding one. A DeclarationError names the first problem (field and reason)."""
    if not isinstance(doc, Mapping):
        raise DeclarationError("a privacy declaration must be a JSON object")
    if KEY in doc:
        doc = doc[KEY]
        if not isinstance(doc, Mapping):
            raise DeclarationError(f"{KEY} must be a JSON object")
    elif "cl:columns" not in doc:
        raise DeclarationError(f"the metadata has no {KEY} declaration: private queries and k-anonymity need one")
    where = KEY
    if doc.get("@type", TYPE) != TYPE:
        raise DeclarationError(f"{where}: @type must be {TYPE}")
    version = _get(doc, "cl:version", where, int, required=False)
    if version not in (None, VERSION):
        raise DeclarationError(f"{where}: cl:version {version} is not supported (this engine reads {VERSION})")
    subject = _text(doc, "cl:subjectColumn", where, limit=200)
    assert subject is not None
    population = _text(doc, "cl:sampledPopulation", where)
    assert population is not None
    raw_columns = _get(doc, "cl:columns", where, list)
    if not raw_columns:
        raise DeclarationError(f"{where}: cl:columns must declare at least one column")
    columns: dict[str, Column] = {}
    for i, raw in enumerate(raw_columns):
        col = _column(raw, f"{where}: cl:columns[{i}]")
        if col.name == subject:
            raise DeclarationError(f"column '{col.name}' is the subject column: it cannot be declared as usable")
        if col.name in columns:
            raise DeclarationError(f"column '{col.name}' is declared twice")
        columns[col.name] = col
    nodes = lattice_size(columns.values())
    if nodes > MAX_LATTICE:
        raise DeclarationError(
            f"{where}: the quasi-identifiers' hierarchies combine into {nodes} generalisations; at most {MAX_LATTICE}"
        )
    limit_raw = doc.get("cl:suppressionLimit")
    limit = Decimal(0) if limit_raw is None else parse_decimal(limit_raw, f"{where}: cl:suppressionLimit")
    if not Decimal(0) <= limit <= Decimal("0.5"):
        raise DeclarationError(f"{where}: cl:suppressionLimit is a share of rows between 0 and 0.5, not {limit}")
    profile_raw = doc.get("cl:profileEpsilon")
    profile = None if profile_raw is None else parse_decimal(profile_raw, f"{where}: cl:profileEpsilon")
    if profile is not None and not (0 < profile <= MAX_PROFILE_EPSILON and profile == round(profile, 6)):
        raise DeclarationError(
            f"{where}: cl:profileEpsilon is the epsilon of the population profile, above 0 and at most "
            f"{MAX_PROFILE_EPSILON}, in whole micro-epsilon, not {profile}"
        )
    unknown = set(doc) - {
        "@type",
        "cl:version",
        "cl:profileEpsilon",
        "cl:subjectColumn",
        "cl:sampledPopulation",
        "cl:columns",
        "cl:k",
        "cl:contributionsPerSubject",
        "cl:suppressionLimit",
    }
    if unknown:
        raise DeclarationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return PrivacyDeclaration(
        subject_column=subject,
        columns=columns,
        sampled_population=population,
        k=_int(doc, "cl:k", where, DEFAULT_K, 2, MAX_K),
        contributions=_int(doc, "cl:contributionsPerSubject", where, 1, 1, MAX_CONTRIBUTIONS),
        suppression_limit=limit,
        profile_epsilon=profile,
    )
