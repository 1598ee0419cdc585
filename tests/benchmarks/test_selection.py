"""The selection benchmark: which config each ranking picks, and its summary."""

from __future__ import annotations

import math

import pytest

from benchmarks import selection as bench

# Holdout ties at the top (two configs at 1.0); CV separates them and orders like the test.
SCORES = [
    {"holdout": 1.0, "cv": 0.95, "test": 0.93},
    {"holdout": 1.0, "cv": 0.98, "test": 0.97},
    {"holdout": 0.9, "cv": 0.97, "test": 0.96},
    {"holdout": math.nan, "cv": math.nan, "test": math.nan},
]


def test_a_ranking_breaks_ties_by_order_and_puts_nan_last() -> None:
    assert bench.first_by(SCORES, "holdout", "max", 4) == [0, 1, 2, 3]
    assert bench.first_by(SCORES, "cv", "max", 2) == [1, 2]
    assert bench.first_by(SCORES, "cv", "min", 3) == [0, 2, 1]


def test_spearman_is_one_for_the_same_order_and_minus_one_reversed() -> None:
    assert bench.spearman([1, 2, 3, math.nan], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert bench.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(bench.spearman([1, 2], [1, 2]))


def test_split_figures_give_each_ranking_its_pick_and_top_three() -> None:
    figures = bench.split_figures(SCORES, "max")
    assert figures["holdout_first_test"] == 0.93 and figures["cv_first_test"] == 0.97
    assert figures["cv_top3_test"] == pytest.approx((0.97 + 0.96 + 0.93) / 3)
    assert figures["best_test"] == 0.97 and figures["median_test"] == 0.96
    assert figures["cv_spearman"] == pytest.approx(1.0)


def test_the_summary_counts_splits_where_cv_picked_better_and_worse() -> None:
    better = bench.split_figures(SCORES, "max")
    worse = {**better, "cv_first_test": 0.90}
    summary = bench.summarize({"toy": {"mode": "max", "splits": {1: better, 2: worse}}})
    assert summary[0]["cv_first_better"] == 1 and summary[0]["cv_first_worse"] == 1
    assert summary[0]["cv_first_test"] == pytest.approx((0.97 + 0.90) / 2)
    assert "toy (acc.)" in bench.to_markdown(
        {
            "quick": True,
            "settings": {"configs": 4, "splits": [1, 2]},
            "folds": 5,
            "epochs": 20,
            "summary": summary,
            "machine": {"cpu": "test"},
        }
    )
