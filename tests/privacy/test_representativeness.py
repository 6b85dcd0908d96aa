"""The representativeness report: shares per category among all rows and among consented rows, and
their total variation distance; exact where nothing is personal, differentially private otherwise."""

from __future__ import annotations

import json
import math

import pytest

from cityledger.privacy import (
    PopulationProfile,
    PrivacyError,
    consented_counts,
    load_table,
    parse_declaration,
    parse_query,
    population_profile,
    profile_rows,
    release_report,
    representativeness,
    run_query,
    table_from_rows,
)
from cityledger.privacy.accuracy import sum_of_counts_accuracy

from .helpers import address, declaration, demo_declaration, demo_file

DECL = parse_declaration(
    declaration(
        [
            {"cl:name": "zone", "cl:type": "categorical", "cl:categories": ["a", "b", "c"]},
            {"cl:name": "mode", "cl:type": "categorical", "cl:categories": ["walk", "car"]},
        ]
    )
)
# 60 rows: zone a 36, b 24, c 0; mode walk 30, car 30. Subjects 0-9 consent: zone a 2, b 8; walk 10.
ROWS = [[address(i), "a" if i % 5 < 3 else "b", "walk" if i % 2 == 0 else "car"] for i in range(60)]
for i in range(10):
    ROWS[i] = [address(i), "a" if i < 2 else "b", "walk"]
CONSENTING = [address(i) for i in range(10)]


def by_category(report, column):
    (col,) = [c for c in report.columns if c.column == column]
    return col, {c["category"]: c for c in col.categories}


def test_exact_report():
    table = table_from_rows(["subject", "zone", "mode"], ROWS, DECL)
    population = population_profile(table, None)
    report = representativeness(population, consented_counts(table, CONSENTING, None))
    zone, cats = by_category(report, "zone")
    assert population.counts["zone"] == {"a": 32.0, "b": 28.0, "c": 0.0}
    assert cats["a"]["population_share"] == pytest.approx(32 / 60, abs=1e-4)
    assert cats["a"]["consented_share"] == 0.2 and cats["b"]["consented_share"] == 0.8
    assert cats["c"]["population_share"] == 0 and cats["c"]["difference"] == 0
    tvd = (abs(32 / 60 - 0.2) + abs(28 / 60 - 0.8)) / 2
    assert zone.tvd == pytest.approx(tvd) and zone.tvd_low == zone.tvd_high == pytest.approx(tvd)
    mode, _ = by_category(report, "mode")
    walk = sum(1 for r in ROWS if r[2] == "walk")
    assert mode.tvd == pytest.approx(1 - walk / 60)
    doc = report.to_json()
    assert doc["sampled_population"] == "test rows" and doc["population_epsilon"] is None
    assert doc["consented_epsilon"] is None and doc["columns"][0]["total_variation"] == round(tvd, 4)


def test_release_report_counts_the_released_rows_exactly():
    table = table_from_rows(["subject", "zone", "mode"], ROWS, DECL)
    population = population_profile(table, None)
    released = [r for r in ROWS if r[0] in CONSENTING]
    report = release_report(population, ["subject", "zone", "mode"], released, DECL)
    assert report.to_json() == representativeness(population, consented_counts(table, CONSENTING, None)).to_json()


def test_private_report_intervals_hold_the_exact_distance():
    """Large table, noisy population (epsilon 1) and consented side (epsilon 1): the reported interval
    holds the exact distance; asked at alpha = 1e-6 so this fails with probability below 1e-6."""
    rows = [[address(i), "abc"[i % 3] if i % 7 else "a", "walk" if i % 4 else "car"] for i in range(30_000)]
    table = table_from_rows(["subject", "zone", "mode"], rows, DECL)
    consenting = [address(i) for i in range(0, 30_000, 3)]  # all zone a: a biased sample
    exact = representativeness(population_profile(table, None), consented_counts(table, consenting, None))
    population = population_profile(table, "1")
    assert population.epsilon is not None and population.scale == {"zone": 2.0, "mode": 2.0}
    noisy = representativeness(population, consented_counts(table, consenting, "1"), alpha=1e-6)
    for got, want in zip(noisy.columns, exact.columns, strict=True):
        assert got.tvd_low <= want.tvd <= got.tvd_high
        assert got.tvd_high - got.tvd_low < 0.02  # and the interval is narrow at this size
    assert noisy.to_json()["population_epsilon"] == "1" == noisy.to_json()["consented_epsilon"]


def test_profile_rows_sum_the_narrowest_column():
    """The number of rows a profile counted: exact without noise; with noise the sum of one column's
    raw noisy counts (not clamped at 0) and the interval of a sum of that many noisy counts, from the
    column whose interval is narrowest (fewest categories at the same scale)."""
    table = table_from_rows(["subject", "zone", "mode"], ROWS, DECL)
    exact = profile_rows(population_profile(table, None))
    assert (exact.estimate, exact.low, exact.high, exact.column, exact.epsilon) == (60, 60, 60, "zone", None)

    noisy = PopulationProfile(
        counts={"zone": {"a": 31.0, "b": 30.0, "c": -2.0}, "mode": {"walk": 33.0, "car": 28.0}},
        scale={"zone": 4.0, "mode": 4.0},
        epsilon=None,
    )
    rows = profile_rows(noisy)
    acc = sum_of_counts_accuracy(4.0, 2)
    assert rows.column == "mode" and acc < sum_of_counts_accuracy(4.0, 3)
    assert (rows.estimate, rows.low, rows.high) == (61, math.floor(61 - acc), math.ceil(61 + acc))
    assert rows.to_json()["confidence"] == 0.95
    # Noise can make a small file's sum negative: the estimate and interval stay at or above 0.
    tiny = PopulationProfile(counts={"zone": {"a": -3.0, "b": 1.0}}, scale={"zone": 1.0}, epsilon=None)
    assert profile_rows(tiny).estimate == 0 and profile_rows(tiny).low == 0 < profile_rows(tiny).high


def test_profile_is_stored_and_reused():
    table = table_from_rows(["subject", "zone", "mode"], ROWS, DECL)
    profile = population_profile(table, "0.5")
    again = PopulationProfile.from_json(json.loads(json.dumps(profile.to_json())))
    assert again == profile and again.sampled_population == "test rows"
    with pytest.raises(PrivacyError, match="not a population profile"):
        PopulationProfile.from_json({"counts": 3})


def test_answer_with_report(tmp_path):
    decl = demo_declaration()
    table = load_table(demo_file(tmp_path), decl)
    subjects = table.frame["__subject"].to_list()
    profile = population_profile(table, "1")
    q = parse_query({"statistic": "count", "epsilon": "1", "representativeness": "0.5"}, decl)
    answer = run_query(q, table, subjects[:200], population=profile)
    assert answer.cost_micro == 1_500_000
    report = answer.representativeness
    assert [c["column"] for c in report["columns"]] == ["home_district"]
    assert len(report["columns"][0]["categories"]) == 12 and report["consented_epsilon"] == "0.5"
    assert report["sampled_population"] == decl.sampled_population
    assert 0 <= report["columns"][0]["total_variation_low"] <= report["columns"][0]["total_variation_high"] <= 1
