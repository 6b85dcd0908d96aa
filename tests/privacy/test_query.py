"""Queries: one canonical form and hash for equivalent documents, a cost known before any data is read,
and a clear QueryRefused for every query the declaration does not allow."""

from __future__ import annotations

import hashlib
import json

import pytest

from cityledger.privacy import MICRO, QueryRefused, parse_declaration, parse_query, query_cost, query_hash

from .helpers import declaration, demo_declaration

DECL = demo_declaration()
MEAN = {"statistic": "mean", "column": "trips_walk", "epsilon": "0.5"}


def test_canonical_form_and_hash():
    q = parse_query(MEAN, DECL)
    assert q.canonical == b'{"column":"trips_walk","epsilon":"0.5","statistic":"mean","version":1}'
    assert q.hash == "0x" + hashlib.sha256(q.canonical).hexdigest()
    assert q.cost_micro == 500_000 == query_cost(MEAN, DECL)
    assert query_hash(json.dumps(MEAN), DECL) == q.hash  # text or parsed JSON alike


@pytest.mark.parametrize(
    "variant",
    [
        {**MEAN, "epsilon": 0.5},  # a JSON number: taken at its shortest text
        {**MEAN, "epsilon": "0.50"},
        {**MEAN, "version": 1},
        {**MEAN, "filters": [], "group_by": []},
        dict(reversed(list(MEAN.items()))),
    ],
)
def test_equivalent_documents_share_the_hash(variant):
    assert parse_query(variant, DECL).hash == parse_query(MEAN, DECL).hash


def test_filters_are_a_set_and_categories_sorted():
    f1 = {"column": "home_district", "op": "in", "value": ["D02", "D01"]}
    f2 = {"column": "age", "op": "between", "value": [30, "49"]}
    a = parse_query({**MEAN, "filters": [f1, f2]}, DECL)
    b = parse_query({**MEAN, "filters": [f2, {**f1, "value": ["D01", "D02", "D01"]}, f2]}, DECL)
    assert a.hash == b.hash
    assert a.to_json()["filters"] == [
        {"column": "age", "op": "between", "value": ["30", "49"]},
        {"column": "home_district", "op": "in", "value": ["D01", "D02"]},
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"epsilon": "0.51"},
        {"column": "trips_bike"},
        {"statistic": "sum"},
        {"filters": [{"column": "age", "op": "ge", "value": 30}]},
        {"group_by": ["home_district"]},
        {"nonce": "2"},
        {"access_id": 7},
        {"dataset_id": 3},
        {"representativeness": "0.1"},
    ],
)
def test_any_change_changes_the_hash(change):
    assert parse_query({**MEAN, **change}, DECL).hash != parse_query(MEAN, DECL).hash


def test_cost_adds_the_report_and_is_in_micro_epsilon():
    q = parse_query({**MEAN, "epsilon": "0.000001", "representativeness": "0.25"}, DECL)
    assert q.cost_micro == 1 + 250_000
    assert parse_query({**MEAN, "epsilon": 10}, DECL).cost_micro == 10 * MICRO


def test_defaults_are_written_into_the_canonical_form():
    """A histogram's default bins come from the declared bounds and are part of what is hashed."""
    q = parse_query({"statistic": "histogram", "column": "age", "epsilon": "1"}, DECL)
    assert q.to_json()["bins"] == ["23", "31", "38", "46", "53", "60", "68", "75", "83"]
    q = parse_query({"statistic": "histogram", "column": "trips_walk", "epsilon": "1"}, DECL)
    assert q.to_json()["bins"][:3] == ["1.4", "2.8", "4.2"]


@pytest.mark.parametrize(
    "doc, message",
    [
        # undeclared columns, and the subject column
        ({**MEAN, "column": "income"}, "column 'income' is not declared"),
        ({**MEAN, "column": "subject"}, "subject column 'subject' cannot be used"),
        ({**MEAN, "group_by": ["postcode"]}, "column 'postcode' is not declared"),
        ({**MEAN, "filters": [{"column": "name", "op": "eq", "value": "x"}]}, "column 'name' is not declared"),
        ({**MEAN, "filters": [{"column": "subject", "op": "eq", "value": "0x1"}]}, "identifies people"),
        # epsilon: negative, zero, NaN, infinite, too fine, too large, missing, not a number
        ({**MEAN, "epsilon": "-1"}, "must be above 0"),
        ({**MEAN, "epsilon": 0}, "must be above 0"),
        ({**MEAN, "epsilon": "0.0"}, "must be above 0"),
        ({**MEAN, "epsilon": float("nan")}, "finite"),
        ({**MEAN, "epsilon": "NaN"}, "finite"),
        ({**MEAN, "epsilon": float("inf")}, "finite"),
        ({**MEAN, "epsilon": "-Infinity"}, "finite"),
        ({**MEAN, "epsilon": 1e-9}, "without an exponent"),
        ({**MEAN, "epsilon": "0.0000001"}, "more than 6 decimals"),
        ({**MEAN, "epsilon": "10.5"}, "above the per-query maximum"),
        ({**MEAN, "epsilon": None}, "epsilon is required"),
        ({**MEAN, "epsilon": True}, "must be a number"),
        ({**MEAN, "epsilon": [1]}, "must be an integer or a decimal string"),
        ({**MEAN, "representativeness": "-0.1"}, "representativeness must be above 0"),
        # the wrong kind of column for the statistic
        ({**MEAN, "column": "home_district"}, "mean needs an integer or numeric column"),
        ({"statistic": "count", "column": "age", "epsilon": 1}, "count counts rows"),
        ({"statistic": "sum", "epsilon": 1}, "sum needs a column (one of: home_district, age"),
        ({**MEAN, "group_by": ["age"]}, "group_by needs categorical columns"),
        ({**MEAN, "group_by": ["home_district", "home_district"]}, "each column once"),
        ({"statistic": "histogram", "column": "home_district", "epsilon": 1, "group_by": ["home_district"]}, "once"),
        ({**MEAN, "quantiles": ["0.5"]}, "only for statistic quantiles"),
        ({"statistic": "quantiles", "column": "age", "epsilon": 1}, "list of 1 to 20 levels"),
        ({"statistic": "quantiles", "column": "age", "epsilon": 1, "quantiles": ["1"]}, "strictly between 0 and 1"),
        ({"statistic": "quantiles", "column": "age", "epsilon": 1, "quantiles": ["0.12345"]}, "4 decimals"),
        ({"statistic": "histogram", "column": "home_district", "epsilon": 1, "bins": [1]}, "bins are only"),
        ({"statistic": "histogram", "column": "age", "epsilon": 1, "bins": [30, 20]}, "strictly increasing"),
        # filters
        ({**MEAN, "filters": [{"column": "home_district", "op": "lt", "value": "D01"}]}, "op on categorical"),
        ({**MEAN, "filters": [{"column": "home_district", "op": "eq", "value": "D13"}]}, "not a declared category"),
        ({**MEAN, "filters": [{"column": "home_district", "op": "in", "value": []}]}, "non-empty list"),
        ({**MEAN, "filters": [{"column": "age", "op": "in", "value": [1]}]}, "op on numeric"),
        ({**MEAN, "filters": [{"column": "age", "op": "between", "value": [5, 1]}]}, "above its high"),
        ({**MEAN, "filters": [{"column": "age", "op": "ge", "value": "NaN"}]}, "finite"),
        ({**MEAN, "filters": [{"column": "age", "op": "ge"}]}, "must be an integer or a decimal string"),
        ({**MEAN, "filters": [{"column": "age", "op": "ge", "value": 1, "x": 2}]}, "column, op and value"),
        ({**MEAN, "filters": [{"column": "age", "op": "ge", "value": 1}] * 17}, "at most 16"),
        # shape
        ({**MEAN, "statistic": "median"}, "statistic must be one of"),
        ({**MEAN, "select": "*"}, "unknown query field(s): select"),
        ({**MEAN, "version": 2}, "version 2 is not supported"),
        ({**MEAN, "nonce": ""}, "nonce must be"),
        ({**MEAN, "access_id": -1}, "access_id must be a whole number"),
        ({**MEAN, "dataset_id": 2**64}, "dataset_id must be a whole number"),
        ("[1, 2]", "a query is a JSON object"),
        ('{"statistic": "count", "epsilon": NaN}', "numbers must be finite"),
        ('{"statistic": "count", "epsilon": 1, "epsilon": 2}', "names field 'epsilon' twice"),
        ('{"statistic": ', "not valid JSON"),
        ("[" * 100_000, "larger than"),
        ("[" * 10_000, "not valid JSON"),
    ],
)
def test_refused_queries(doc, message):
    with pytest.raises(QueryRefused) as err:
        parse_query(doc, DECL)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unbounded_numeric_columns_are_refused_for_what_needs_bounds():
    decl = parse_declaration(
        declaration(
            [
                {"cl:name": "income", "cl:type": "numeric"},
                {"cl:name": "zone", "cl:type": "categorical", "cl:categories": ["a", "b"]},
            ]
        )
    )
    for statistic in ("sum", "mean", "quantiles"):
        with pytest.raises(QueryRefused, match="'income' has no declared bounds"):
            parse_query({"statistic": statistic, "column": "income", "epsilon": 1, "quantiles": ["0.5"]}, decl)
    with pytest.raises(QueryRefused, match="give the histogram's bins"):
        parse_query({"statistic": "histogram", "column": "income", "epsilon": 1}, decl)
    # what needs no bounds is allowed: counting rows by an explicit binning, or filtering on it
    parse_query({"statistic": "histogram", "column": "income", "epsilon": 1, "bins": [1000, 5000]}, decl)
    parse_query({"statistic": "count", "epsilon": 1, "filters": [{"column": "income", "op": "gt", "value": 0}]}, decl)


def test_too_many_groups_are_refused():
    cats = [f"c{i}" for i in range(200)]
    decl = parse_declaration(
        declaration(
            [
                {"cl:name": "a", "cl:type": "categorical", "cl:categories": cats},
                {"cl:name": "b", "cl:type": "categorical", "cl:categories": cats},
            ]
        )
    )
    with pytest.raises(QueryRefused, match="40000 groups"):
        parse_query({"statistic": "count", "epsilon": 1, "group_by": ["a", "b"]}, decl)


def test_report_needs_categorical_columns():
    decl = parse_declaration(declaration([{"cl:name": "x", "cl:type": "integer", "cl:lower": 0, "cl:upper": 9}]))
    with pytest.raises(QueryRefused, match="declares none"):
        parse_query({"statistic": "count", "epsilon": 1, "representativeness": "0.1"}, decl)
