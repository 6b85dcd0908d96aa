"""The engine end to end: reading the table, the consent filter, the answers' shape and intervals, and
the refusals that happen before anything is computed or spent.

The DP noise comes from OpenDP's secure sampler, which takes no seed; the checks on noisy values below
use epsilon 10 and tolerances whose false-failure probability is stated beside them (1e-9 or less);
a count off by more than 3 at noise scale 0.2 or less has probability below 5e-9."""

from __future__ import annotations

import math

import opendp.prelude as dp
import polars as pl
import pytest

from cityledger.privacy import (
    DeclarationError,
    PrivacyError,
    QueryAltered,
    QueryRefused,
    consent_filter,
    engine,
    load_table,
    parse_declaration,
    parse_query,
    run_query,
    suppression_threshold,
    table_from_rows,
)

from .helpers import address, declaration, demo_declaration, demo_file, write_csv

DECL = demo_declaration()


@pytest.fixture
def demo(tmp_path):
    table = load_table(demo_file(tmp_path), DECL)
    return table, table.frame["__subject"].to_list()


def test_load_table_types_and_formats(tmp_path):
    decl = parse_declaration(
        declaration(
            [
                {"cl:name": "zone", "cl:type": "categorical", "cl:categories": ["a", "b"]},
                {"cl:name": "n", "cl:type": "integer", "cl:lower": 0, "cl:upper": 9},
                {"cl:name": "x", "cl:type": "numeric", "cl:lower": 0, "cl:upper": 1},
            ]
        )
    )
    rows = [
        [address(1).upper().replace("0X", "0x"), "a", " 3 ", "0.5"],
        [address(2), "z", "3.5", "nan"],
        [address(3), "", "x", "inf"],
    ]
    header = ["subject", "zone", "n", "x"]
    csv_path = write_csv(tmp_path / "t.csv", header, rows)
    semicolon = tmp_path / "s.csv"
    semicolon.write_text("\ufeff" + csv_path.read_text().replace(",", ";"), encoding="utf-8")
    tsv = tmp_path / "t.tsv"
    tsv.write_text(csv_path.read_text().replace(",", "\t"))
    parquet = tmp_path / "t.parquet"
    pl.DataFrame(rows, schema=header, orient="row").write_parquet(parquet)
    frames = [load_table(p, decl).frame for p in (csv_path, semicolon, tsv, parquet)]
    frames.append(table_from_rows(header, rows, decl).frame)
    for frame in frames:
        assert frame.to_dicts() == [
            {"__subject": address(1), "zone": "a", "n": 3, "x": 0.5},
            {"__subject": address(2), "zone": "z", "n": None, "x": None},  # unparseable and NaN: missing
            {"__subject": address(3), "zone": None, "n": None, "x": None},  # empty, infinite: missing
        ]


def test_load_table_errors(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["subject", "other"], [[address(1), "1"]])
    with pytest.raises(DeclarationError, match="home_district.* not in the file"):
        load_table(path, DECL)
    with pytest.raises(PrivacyError, match="no such file"):
        load_table(tmp_path / "missing.csv", DECL)


def test_consent_filter_and_contribution_cap(tmp_path):
    decl = parse_declaration(
        declaration([{"cl:name": "zone", "cl:type": "categorical", "cl:categories": ["a"]}], **{"cl:k": 2})
    )
    rows = [[address(1), "a"], [address(1), "a"], [address(1), "a"], [address(2), "a"], ["", "a"], [address(3), "a"]]
    table = table_from_rows(["subject", "zone"], rows, decl)
    kept = consent_filter(table, [address(1).upper().replace("0X", "0x"), address(2)])
    assert kept["__subject"].to_list() == [address(1), address(2)]  # one row per subject (declared 1)
    assert consent_filter(table, None)["__subject"].to_list() == [address(1), address(2), address(3)]
    decl2 = parse_declaration({**decl.to_jsonld(), "cl:contributionsPerSubject": 2})
    table2 = table_from_rows(["subject", "zone"], rows, decl2)
    assert consent_filter(table2, [address(1)]).height == 2


def test_answers_over_the_demo(demo):
    table, subjects = demo
    frame = table.frame
    # count: exact 304; noise scale 0.1, the interval holds it with 95% or more
    answer = run_query(parse_query({"statistic": "count", "epsilon": 10}, DECL), table, subjects)
    (group,) = answer.groups
    assert group.key == {} and not group.suppressed
    assert group.count.low <= 304 <= group.count.high and abs(group.count.value - 304) <= 3
    assert answer.rows_used == group.count and answer.consenting_subjects == 304
    assert answer.cost_micro == 10_000_000 and answer.query_hash.startswith("0x")
    assert [m["distribution"] for m in answer.mechanisms] == ["Integer Laplace"]

    # mean with a filter: the interval holds the exact mean of the filtered rows
    q = {
        "statistic": "mean",
        "column": "trips_walk",
        "epsilon": 10,
        "filters": [{"column": "home_district", "op": "in", "value": ["D01", "D02", "D03"]}],
    }
    rows = frame.filter(pl.col("home_district").is_in(["D01", "D02", "D03"]))
    exact = rows["trips_walk"].mean()
    (group,) = run_query(parse_query(q, DECL), table, subjects).groups
    # sum noise scale 2.8 (|noise| < 58 but with probability 1e-9), count noise scale 0.2 (|noise| <= 3):
    # the mean is within (58 + 14 * 3) / (rows - 3) < 1.3 of the exact one
    assert abs(group.mean.value - exact) < 1.3 and rows.height > 80
    assert group.mean.low <= group.mean.value <= group.mean.high and group.mean.high - group.mean.low < 1.5
    assert group.sum is None

    # histogram: every declared district, in declaration order; counts near the exact ones
    answer = run_query(
        parse_query({"statistic": "histogram", "column": "home_district", "epsilon": 10}, DECL), table, subjects
    )
    assert [g.key["home_district"] for g in answer.groups] == [f"D{i:02d}" for i in range(1, 13)]
    exact = dict(frame.group_by("home_district").len().iter_rows())
    for g in answer.groups:
        assert abs(g.count.value - exact[g.key["home_district"]]) <= 3
    assert answer.rows_used.low <= 304 <= answer.rows_used.high

    # numeric histogram: open-ended first and last bins
    q = {"statistic": "histogram", "column": "trips_car", "epsilon": 10, "bins": ["2.5", "5"]}
    answer = run_query(parse_query(q, DECL), table, subjects)
    assert [g.key["trips_car"] for g in answer.groups] == ["<= 2.5", "(2.5, 5]", "> 5"]
    assert abs(answer.groups[0].count.value - (frame["trips_car"] <= 2.5).sum()) <= 3

    # quantiles: one of the candidates, between the exact 40th and 60th percentiles (a rank error of 30
    # rows at epsilon 5 per output has probability below 75 exp(-30 * 5 / 1) / 2: nil)
    q = {"statistic": "quantiles", "column": "age", "epsilon": 10, "quantiles": ["0.5"]}
    (group,) = run_query(parse_query(q, DECL), table, subjects).groups
    (median,) = group.quantiles
    ages = frame["age"]
    assert median.value in range(16, 91)
    assert ages.quantile(0.4, "lower") <= median.value <= ages.quantile(0.6, "higher")
    assert median.level_low < 0.5 < median.level_high and median.rank_error_rows < 5

    # group-by sum over an integer column
    q = {"statistic": "sum", "column": "age", "epsilon": 10, "group_by": ["home_district"]}
    answer = run_query(parse_query(q, DECL), table, subjects)
    sums = dict(frame.group_by("home_district").agg(pl.col("age").sum()).iter_rows())
    # sum noise scale 90 / 5 = 18: off by 420 or more with probability exp(-420 / 18) < 1e-10 per group
    assert {m["output"]: m["scale"] for m in answer.mechanisms}["s"] == pytest.approx(18)
    half = math.floor(dp.discrete_laplacian_scale_to_accuracy(18.0, 0.05))  # OpenDP's accuracy, integers
    for g in answer.groups:
        assert abs(g.sum.value - sums[g.key["home_district"]]) < 420
        assert g.sum.high - g.sum.value == g.sum.value - g.sum.low == half == 54
    assert answer.to_json()["groups"][0]["sum"]["value"] == answer.groups[0].sum.value


def test_the_consent_filter_decides_the_rows(demo):
    table, subjects = demo
    some = subjects[:150]
    answer = run_query(parse_query({"statistic": "count", "epsilon": 10}, DECL), table, some)
    assert abs(answer.rows_used.value - 150) <= 3 and answer.consenting_subjects == 150
    # addresses that consent but hold no row count in the public consent set, not in the rows
    answer = run_query(parse_query({"statistic": "count", "epsilon": 10}, DECL), table, some + [address(10**6)])
    assert abs(answer.rows_used.value - 150) <= 3 and answer.consenting_subjects == 151


def test_small_groups_are_suppressed(tmp_path):
    """k = 20: a group needs a noisy count of k + accuracy; empty groups stay hidden (a false show has
    probability below e^-20 per group at noise scale 1), groups of 200 rows are shown."""
    decl = parse_declaration(
        declaration(
            [{"cl:name": "zone", "cl:type": "categorical", "cl:categories": ["a", "b", "empty1", "empty2", "few"]}],
            **{"cl:k": 20},
        )
    )
    rows = [[address(i), "a" if i < 200 else "b" if i < 400 else "few"] for i in range(402)]
    table = table_from_rows(["subject", "zone"], rows, decl)
    q = parse_query({"statistic": "histogram", "column": "zone", "epsilon": 1}, decl)
    answer = run_query(q, table, [address(i) for i in range(402)])
    shown = {g.key["zone"]: g for g in answer.groups}
    assert answer.threshold == suppression_threshold(q, decl) == 20 + 3
    assert not shown["a"].suppressed and not shown["b"].suppressed
    assert shown["empty1"].suppressed and shown["empty2"].suppressed and shown["few"].suppressed
    assert shown["few"].count is None and answer.to_json()["groups"][4] == {"key": {"zone": "few"}, "suppressed": True}
    assert answer.suppressed_groups == 3 and "3 of 5 groups suppressed" in answer.notes[0]


@pytest.fixture
def nothing_computed(monkeypatch):
    """Refusals must come before any row is read or any noise drawn."""

    def fail(*args, **kwargs):
        raise AssertionError("the refused query was computed")

    monkeypatch.setattr(engine, "consent_filter", fail)
    monkeypatch.setattr(engine, "release", fail)


def test_altered_query_is_refused_before_anything_runs(demo, nothing_computed):
    table, subjects = demo
    reserved = parse_query({"statistic": "count", "epsilon": "0.5"}, DECL)
    altered = parse_query({"statistic": "count", "epsilon": "5"}, DECL)
    with pytest.raises(QueryAltered, match="altered"):
        run_query(altered, table, subjects, reserved_hash=reserved.hash)


def test_refusals_before_anything_runs(demo, nothing_computed):
    table, subjects = demo
    with pytest.raises(QueryRefused, match="no subject consents"):
        run_query(parse_query({"statistic": "count", "epsilon": 1}, DECL), table, [])
    # a group would need a noisy count above what 20 consenting subjects can have
    q = parse_query({"statistic": "mean", "column": "age", "epsilon": "0.01", "group_by": ["home_district"]}, DECL)
    with pytest.raises(QueryRefused, match="every group would be suppressed"):
        run_query(q, table, subjects[:20])
    q = parse_query({"statistic": "count", "epsilon": 1, "representativeness": "0.1"}, DECL)
    with pytest.raises(QueryRefused, match="population profile"):
        run_query(q, table, subjects)


def test_the_reserved_query_runs(demo):
    table, subjects = demo
    q = parse_query({"statistic": "count", "epsilon": 1, "nonce": "n1"}, DECL)
    answer = run_query(q, table, subjects, reserved_hash=q.hash.upper().replace("0X", "0x"))
    assert answer.query_hash == q.hash


def test_calibrated_measurement_spends_at_most_epsilon(demo):
    """OpenDP's own privacy map of the measurement that ran is within the query's epsilon."""
    table, subjects = demo
    frame = consent_filter(table, subjects).select("age", "home_district")
    plan = pl.LazyFrame(schema=frame.schema).select(
        pl.col("age").dp.sum((16, 90)).alias("s"), pl.col("age").dp.quantile(0.5, list(range(16, 91)))
    )
    [(_, measurement, scale)] = engine.release(frame, 1, 0.3, [plan], 304)
    assert 0.3 * (1 - 1e-9) <= measurement.map(1) <= 0.3
    assert scale > 0
