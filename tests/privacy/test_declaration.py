"""The publisher's cl:privacy declaration: the demo's is valid and round-trips through the canonical
metadata form; every malformed declaration is one clear DeclarationError."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cityledger.datasets.metadata import canonical_json
from cityledger.privacy import DeclarationError, load_table, parse_declaration

from .helpers import declaration, demo_declaration, demo_doc, demo_file

DISTRICT = {"cl:name": "district", "cl:type": "categorical", "cl:categories": ["A", "B", "C"]}
AGE = {"cl:name": "age", "cl:type": "integer", "cl:lower": 0, "cl:upper": 99}


def test_demo_declaration_is_valid_and_fits_the_demo_file(tmp_path):
    decl = demo_declaration()
    assert decl.subject_column == "subject" and decl.k == 5 and decl.contributions == 1
    assert [c.name for c in decl.quasi_identifiers] == ["home_district", "age"]
    assert "app" in decl.sampled_population
    assert all(c.bounded for c in decl.columns.values() if c.numeric)
    table = load_table(demo_file(tmp_path), decl)  # every declared column is in the file
    assert table.row_count == 304
    # every value in the file is declared: categories in the set, numbers within bounds
    frame = table.frame
    assert set(frame["home_district"]) <= set(decl.columns["home_district"].categories)
    for col in decl.columns.values():
        if col.numeric:
            values = frame[col.name]
            assert values.null_count() == 0
            assert float(col.lower) <= values.min() and values.max() <= float(col.upper)


def test_round_trip_through_the_canonical_metadata_form():
    decl = demo_declaration()
    doc = decl.to_jsonld()
    canonical_json({"cl:privacy": doc})  # no floats: the registered metadata can carry it
    assert parse_declaration(doc) == decl
    assert parse_declaration({"dct:title": "x", "cl:privacy": doc}) == decl  # from a whole metadata document
    assert doc == decl.to_jsonld()


def test_demo_source_is_already_canonical():
    """The demo's declaration as written is what to_jsonld gives back (nothing normalised away)."""
    assert demo_declaration().to_jsonld() == demo_doc()


def test_generalisation_levels():
    decl = demo_declaration()
    district, age = decl.columns["home_district"], decl.columns["age"]
    assert [district.generalise("D05", lv) for lv in range(3)] == ["D05", "East", "*"]
    assert district.generalise("D99", 1) == "*"  # undeclared values never survive generalisation
    assert [age.generalise("37", lv) for lv in range(4)] == ["37", "30-39", "20-39", "*"]
    assert age.generalise("16", 1) == "10-19" and age.generalise("-3", 1) == "-10--1"
    assert age.generalise("x", 1) == "*" and age.generalise("nan", 2) == "*"
    numeric = parse_declaration(
        declaration(
            [
                {
                    "cl:name": "x",
                    "cl:type": "numeric",
                    "cl:quasiIdentifier": True,
                    "cl:hierarchy": [{"cl:width": "2.5"}],
                }
            ]
        )
    ).columns["x"]
    assert numeric.generalise("3.7", 1) == "[2.5, 5)" and numeric.level_label(1) == "bands of 2.5"


def test_candidates_follow_bounds_and_resolution():
    decl = demo_declaration()
    walk = decl.columns["trips_walk"].candidates()
    assert len(walk) == 141 and walk[0] == 0.0 and walk[-1] == 14.0
    age = decl.columns["age"].candidates()
    assert age == list(range(16, 91))


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"cl:columns": [DISTRICT]}, "cl:subjectColumn is required"),
        ({**declaration([DISTRICT]), "cl:sampledPopulation": " "}, "must not be empty"),
        ({**declaration([DISTRICT]), "cl:sampledPopulation": None}, "cl:sampledPopulation is required"),
        (declaration([]), "at least one column"),
        (declaration([{**DISTRICT, "cl:type": "text"}]), "cl:type must be one of"),
        (declaration([{**DISTRICT, "cl:categories": []}]), "needs its cl:categories"),
        (declaration([{**DISTRICT, "cl:categories": ["A", "A"]}]), "duplicates"),
        (declaration([{**DISTRICT, "cl:categories": ["A", 3]}]), "non-empty texts"),
        (declaration([{**DISTRICT, "cl:lower": 0}]), "integer and numeric columns only"),
        (declaration([{**AGE, "cl:lower": 0.5}]), "is a float"),
        (declaration([{**AGE, "cl:upper": "NaN"}]), "decimal string"),
        (declaration([{**AGE, "cl:upper": "1e3"}]), "decimal string"),
        (declaration([{**AGE, "cl:upper": "Infinity"}]), "decimal string"),
        (declaration([{**AGE, "cl:lower": 10, "cl:upper": 10}]), "must be below"),
        (declaration([{**AGE, "cl:lower": "0.5"}]), "bounds must be integers"),
        (declaration([{"cl:name": "age", "cl:type": "integer", "cl:lower": 0}]), "both cl:lower and cl:upper"),
        (declaration([{**AGE, "cl:resolution": "0.5"}]), "positive integer step"),
        (declaration([{**AGE, "cl:upper": 10**9, "cl:resolution": 1}]), "quantile candidates"),
        (declaration([DISTRICT, DISTRICT]), "declared twice"),
        (declaration([{**DISTRICT, "cl:name": "subject"}]), "is the subject column"),
        (declaration([{**DISTRICT, "cl:color": "red"}]), "unknown field(s) cl:color"),
        ({**declaration([DISTRICT]), "cl:k": 1}, "cl:k must be between 2"),
        ({**declaration([DISTRICT]), "cl:k": True}, "cl:k must be an integer"),
        ({**declaration([DISTRICT]), "cl:contributionsPerSubject": 0}, "between 1 and"),
        ({**declaration([DISTRICT]), "cl:suppressionLimit": "0.9"}, "between 0 and 0.5"),
        ({**declaration([DISTRICT]), "cl:profileEpsilon": "0"}, "cl:profileEpsilon is the epsilon"),
        ({**declaration([DISTRICT]), "cl:profileEpsilon": "10.5"}, "at most 10"),
        ({**declaration([DISTRICT]), "cl:profileEpsilon": "0.0000001"}, "whole micro-epsilon"),
        ({**declaration([DISTRICT]), "cl:profileEpsilon": 0.5}, "decimal string"),
        ({**declaration([DISTRICT]), "cl:version": 2}, "not supported"),
        ({**declaration([DISTRICT]), "cl:extra": 1}, "unknown field(s) cl:extra"),
        ({"dct:title": "no declaration"}, "has no cl:privacy"),
        ({"cl:privacy": []}, "must be a JSON object"),
        (declaration([{**DISTRICT, "cl:hierarchy": ["*"]}]), "for quasi-identifiers"),
        (
            declaration([{**DISTRICT, "cl:quasiIdentifier": True, "cl:hierarchy": ["*", "*"]}]),
            "nothing can follow",
        ),
        (
            declaration(
                [
                    {
                        **DISTRICT,
                        "cl:quasiIdentifier": True,
                        "cl:hierarchy": [{"cl:groups": [{"cl:label": "AB", "cl:members": ["A", "B"]}]}],
                    }
                ]
            ),
            "categories in no group: C",
        ),
        (
            declaration(
                [
                    {
                        **DISTRICT,
                        "cl:quasiIdentifier": True,
                        "cl:hierarchy": [{"cl:groups": [{"cl:label": "all", "cl:members": ["A", "B", "C", "Z"]}]}],
                    }
                ]
            ),
            "'Z' is not a declared category",
        ),
        (
            declaration(
                [
                    {
                        **DISTRICT,
                        "cl:quasiIdentifier": True,
                        "cl:hierarchy": [
                            {
                                "cl:groups": [
                                    {"cl:label": "AB", "cl:members": ["A", "B"]},
                                    {"cl:label": "C", "cl:members": ["C"]},
                                ]
                            },
                            {
                                "cl:groups": [
                                    {"cl:label": "A", "cl:members": ["A"]},
                                    {"cl:label": "BC", "cl:members": ["B", "C"]},
                                ]
                            },
                        ],
                    }
                ]
            ),
            "split between two groups",
        ),
        (
            declaration([{**AGE, "cl:quasiIdentifier": True, "cl:hierarchy": [{"cl:width": 10}, {"cl:width": 15}]}]),
            "whole multiple",
        ),
        (declaration([{**AGE, "cl:quasiIdentifier": True, "cl:hierarchy": [{"cl:width": "2.5"}]}]), "positive integer"),
        (declaration([{**AGE, "cl:quasiIdentifier": True, "cl:hierarchy": [{"cl:width": 0}]}]), "positive integer"),
        (
            declaration(
                [
                    {
                        "cl:name": f"q{i}",
                        "cl:type": "integer",
                        "cl:quasiIdentifier": True,
                        "cl:hierarchy": [{"cl:width": 2}, {"cl:width": 4}, {"cl:width": 8}, "*"],
                    }
                    for i in range(6)
                ]
            ),
            "combine into 15625 generalisations",
        ),
    ],
)
def test_malformed_declarations_are_refused(doc, message):
    with pytest.raises(DeclarationError) as err:
        parse_declaration(doc)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_bounds_are_exact_decimals():
    decl = parse_declaration(declaration([{"cl:name": "x", "cl:type": "numeric", "cl:lower": "-1.5", "cl:upper": 3}]))
    assert decl.columns["x"].lower == Decimal("-1.5") and decl.columns["x"].upper == Decimal(3)
    assert decl.to_jsonld()["cl:columns"][0]["cl:upper"] == "3"


def test_unbounded_numeric_column_may_be_declared():
    """Declared without bounds it can be filtered on; queries that need bounds are refused (test_query)."""
    decl = parse_declaration(declaration([{"cl:name": "income", "cl:type": "numeric"}]))
    assert not decl.columns["income"].bounded


def test_the_population_profile_epsilon_round_trips():
    decl = parse_declaration({**declaration([DISTRICT]), "cl:profileEpsilon": "0.50"})
    assert decl.profile_epsilon == Decimal("0.5") and decl.to_jsonld()["cl:profileEpsilon"] == "0.5"
    assert parse_declaration(declaration([DISTRICT])).profile_epsilon is None
    assert "cl:profileEpsilon" not in parse_declaration(declaration([DISTRICT])).to_jsonld()
