"""k-anonymity on releases: generalised least first along the declared hierarchies, refused when k
cannot be reached; checked on hand-made and adversarial tables against a brute-force oracle."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityledger.demo import catalog
from cityledger.privacy import DeclarationError, KAnonymityRefused, k_anonymize, parse_declaration

from .helpers import CITIZENS, address, declaration, demo_declaration


def demo_rows(n: int | None = None):
    rows = list(csv.reader(io.StringIO(catalog.citizen_bytes(CITIZENS).decode())))
    return rows[0], rows[1 : (n + 1 if n else None)]


def classes(header, rows, names):
    idx = [header.index(n) for n in names]
    return Counter(tuple(r[i] for i in idx) for r in rows)


def test_demo_release_is_generalised_to_k():
    header, rows = demo_rows()
    result = k_anonymize(header, rows, demo_declaration())
    sizes = classes(header, result.rows, ["home_district", "age"])
    assert min(sizes.values()) == result.k_achieved >= 5 and len(sizes) == result.classes
    assert result.levels == {"home_district": 0, "age": 3} and result.generalised == {"age": "suppressed (*)"}
    assert result.suppressed == 0 and result.kept == list(range(304)) and result.k_onchain == result.k_achieved
    # nothing but the quasi-identifiers changed
    for before, after in zip(rows, result.rows, strict=True):
        assert [v for i, v in enumerate(before) if header[i] != "age"] == [
            v for i, v in enumerate(after) if header[i] != "age"
        ]
    assert result.to_json()["k_achieved"] == result.k_achieved


def test_least_generalisation_first():
    decl = parse_declaration(
        declaration(
            [
                {
                    "cl:name": "zone",
                    "cl:type": "categorical",
                    "cl:categories": ["a1", "a2", "b1", "b2"],
                    "cl:quasiIdentifier": True,
                    "cl:hierarchy": [
                        {
                            "cl:label": "area",
                            "cl:groups": [
                                {"cl:label": "A", "cl:members": ["a1", "a2"]},
                                {"cl:label": "B", "cl:members": ["b1", "b2"]},
                            ],
                        },
                        "*",
                    ],
                },
                {
                    "cl:name": "age",
                    "cl:type": "integer",
                    "cl:quasiIdentifier": True,
                    "cl:hierarchy": [{"cl:width": 10}, "*"],
                },
            ],
            **{"cl:k": 2},
        )
    )
    header = ["subject", "zone", "age"]
    # already 2-anonymous: nothing generalised
    rows = [[address(i), "a1", "30"] for i in range(2)] + [[address(i), "b2", "41"] for i in range(2, 4)]
    result = k_anonymize(header, rows, decl)
    assert result.levels == {"zone": 0, "age": 0} and result.generalised == {} and result.k_achieved == 2
    # ages differ within a decade: one level of age is enough (zone kept)
    rows = [[address(1), "a1", "31"], [address(2), "a1", "35"], [address(3), "b1", "40"], [address(4), "b1", "49"]]
    result = k_anonymize(header, rows, decl)
    assert result.levels == {"zone": 0, "age": 1}
    assert [r[1:] for r in result.rows] == [["a1", "30-39"], ["a1", "30-39"], ["b1", "40-49"], ["b1", "40-49"]]
    # zones differ within an area, ages equal: one level of zone is enough (age kept)
    rows = [[address(1), "a1", "31"], [address(2), "a2", "31"], [address(3), "b1", "40"], [address(4), "b2", "40"]]
    assert k_anonymize(header, rows, decl).levels == {"zone": 1, "age": 0}
    # suppressing age (two levels) would also do, but one level of zone is less generalisation
    rows = [[address(1), "a1", "31"], [address(2), "a2", "31"], [address(3), "a1", "45"], [address(4), "a2", "45"]]
    assert k_anonymize(header, rows, decl).levels == {"zone": 1, "age": 0}
    # one person alone in every way: refused (no suppression allowed), with the numbers
    rows = [[address(1), "a1", "31"]]
    with pytest.raises(KAnonymityRefused, match="cannot be made 2-anonymous over zone, age") as err:
        k_anonymize(header, rows, decl)
    assert (err.value.rows, err.value.smallest) == (1, 1)
    # a larger k given by the caller
    rows = [[address(i), "a1", "30"] for i in range(3)]
    with pytest.raises(KAnonymityRefused, match="4-anonymous") as err:
        k_anonymize(header, rows, decl, k=4)
    assert "3" not in str(err.value)  # no counts in the message (see KAnonymityRefused)
    assert (err.value.rows, err.value.smallest) == (3, 3)


def test_suppression_only_within_the_declared_limit():
    base = {
        "cl:name": "zone",
        "cl:type": "categorical",
        "cl:categories": ["a", "b", "c"],
        "cl:quasiIdentifier": True,
    }
    header = ["subject", "zone"]
    rows = [[address(i), "a"] for i in range(10)] + [[address(10), "b"]]
    with pytest.raises(KAnonymityRefused):
        k_anonymize(header, rows, parse_declaration(declaration([base], **{"cl:k": 3})))
    decl = parse_declaration(declaration([base], **{"cl:k": 3, "cl:suppressionLimit": "0.1"}))
    result = k_anonymize(header, rows, decl)
    assert result.suppressed == 1 and result.kept == list(range(10)) and result.k_achieved == 10
    rows.append([address(11), "c"])  # two outliers: 2 of 12 rows exceeds 10%
    with pytest.raises(KAnonymityRefused, match="with the rows it allows to suppress"):
        k_anonymize(header, rows, decl)


def test_no_quasi_identifiers_means_k_zero():
    decl = parse_declaration(declaration([{"cl:name": "x", "cl:type": "integer", "cl:lower": 0, "cl:upper": 9}]))
    result = k_anonymize(["subject", "x"], [[address(1), "3"]], decl)
    assert result.k_achieved == 0 and result.k_onchain == 0 and result.rows == [[address(1), "3"]]


def test_table_errors():
    decl = demo_declaration()
    with pytest.raises(DeclarationError, match="age not in the table"):
        k_anonymize(["subject", "home_district"], [[address(1), "D01"]], decl)
    with pytest.raises(DeclarationError, match="row 1 has 2 fields"):
        k_anonymize(["subject", "home_district", "age"], [[address(1), "D01"]], decl)
    with pytest.raises(KAnonymityRefused, match="no rows"):
        k_anonymize(["subject", "home_district", "age"], [], decl)


# ---------------------------------------------------------------- adversarial tables (hypothesis)


@st.composite
def qi_columns(draw, i):
    if draw(st.booleans()):
        cats = [f"v{j}" for j in range(draw(st.integers(1, 5)))]
        levels = []
        if draw(st.booleans()):
            groups = {}
            for c in cats:
                groups.setdefault(f"g{draw(st.integers(0, 1))}", []).append(c)
            levels.append({"cl:groups": [{"cl:label": g, "cl:members": m} for g, m in groups.items()]})
        if draw(st.booleans()):
            levels.append("*")
        col = {"cl:name": f"q{i}", "cl:type": "categorical", "cl:categories": cats, "cl:quasiIdentifier": True}
        values = st.sampled_from([*cats, "", "undeclared"])
    else:
        width = draw(st.sampled_from([2, 5, 10]))
        levels = [{"cl:width": width}][: draw(st.integers(0, 1))]
        if levels and draw(st.booleans()):
            levels.append({"cl:width": width * draw(st.integers(2, 4))})
        if draw(st.booleans()):
            levels.append("*")
        col = {"cl:name": f"q{i}", "cl:type": "integer", "cl:quasiIdentifier": True}
        values = st.one_of(st.integers(-30, 120).map(str), st.sampled_from(["", "x", "1.5", " 7", "nan", "9" * 30]))
    if levels:
        col["cl:hierarchy"] = levels
    # rows draw from a small pool, so that classes collide and generalisation has work to do
    pool = draw(st.lists(values, min_size=1, max_size=4))
    return col, st.sampled_from(pool) | values if draw(st.booleans()) else st.sampled_from(pool)


@st.composite
def tables(draw):
    cols = [draw(qi_columns(i)) for i in range(draw(st.integers(1, 3)))]
    extra = {"cl:k": draw(st.integers(2, 6)), "cl:suppressionLimit": draw(st.sampled_from(["0", "0.1", "0.3"]))}
    decl = parse_declaration(declaration([c for c, _ in cols] + [{"cl:name": "v", "cl:type": "numeric"}], **extra))
    n = draw(st.integers(1, 40))
    # adversarial shapes: a few values repeated, one outlier, or everything distinct
    rows = [[address(i), *[draw(values) for _, values in cols], str(i)] for i in range(n)]
    header = ["subject", *[c["cl:name"] for c, _ in cols], "v"]
    return decl, header, rows


def oracle(decl, header, rows, k):
    """Brute force over the lattice: the least total level reaching k within the suppression limit."""
    qis = decl.quasi_identifiers
    idx = [header.index(c.name) for c in qis]
    limit = int(decl.suppression_limit * len(rows))
    feasible = {}
    for node in itertools.product(*(range(len(c.hierarchy) + 1) for c in qis)):
        keys = [tuple(c.generalise(r[i], lv) for c, i, lv in zip(qis, idx, node, strict=True)) for r in rows]
        sizes = Counter(keys)
        dropped = sum(1 for key in keys if sizes[key] < k)
        if dropped <= limit and dropped < len(rows):
            feasible[node] = dropped
    return feasible


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_k_is_enforced_on_adversarial_tables(case):
    decl, header, rows = case
    k = decl.k
    feasible = oracle(decl, header, rows, k)
    try:
        result = k_anonymize(header, rows, decl)
    except KAnonymityRefused:
        assert not feasible  # refused only when no generalisation within the limit reaches k
        return
    assert feasible, "released although no generalisation reaches k"
    qis = [c.name for c in decl.quasi_identifiers]
    sizes = classes(header, result.rows, qis)
    assert min(sizes.values()) >= k and result.k_achieved == min(sizes.values())
    assert result.suppressed == len(rows) - len(result.rows) <= int(decl.suppression_limit * len(rows))
    node = tuple(result.levels[c] for c in qis)
    assert node in feasible and feasible[node] == result.suppressed
    # least generalisation first: no feasible node has a smaller total level, nor fewer drops at this one
    height = sum(node)
    assert min(sum(n) for n in feasible) == height
    assert result.suppressed == min(d for n, d in feasible.items() if sum(n) == height)
    # every released row is its input row with the quasi-identifiers generalised as declared
    for i, out in zip(result.kept, result.rows, strict=True):
        for j, name in enumerate(header):
            col = decl.columns.get(name)
            expected = col.generalise(rows[i][j], result.levels[name]) if col and col.quasi_identifier else rows[i][j]
            assert out[j] == expected
