"""The tie_break benchmark: each order's pick, the tied pairs, and its summary."""

from __future__ import annotations

import math

import pytest

from benchmarks import tie_break as bench

# Three candidates tie at 0.95: the earliest tests worst, the lowest log-loss tests best.
SCORES = [
    {"val": 0.95, "log_loss": 0.30, "test": 0.90, "folds": 5},
    {"val": 0.90, "log_loss": 0.05, "test": 0.99, "folds": 5},
    {"val": 0.95, "log_loss": 0.10, "test": 0.96, "folds": 5},
    {"val": 0.95, "log_loss": math.nan, "test": 0.93, "folds": 5},
    {"val": math.nan, "log_loss": math.nan, "test": math.nan, "folds": 5},
]


def test_orders_agree_on_the_best_metric_and_differ_only_in_the_tie_break() -> None:
    assert bench.tied_at_best(SCORES, [0, 1, 2, 3]) == [0, 2, 3]
    assert bench.pick(SCORES, "earliest") == 0
    assert bench.pick(SCORES, "log_loss") == 2
    untied = [SCORES[1], SCORES[0]]
    assert bench.pick(untied, "earliest") == bench.pick(untied, "log_loss") == 1


def test_split_figures_compare_each_pick_with_the_mean_of_the_tied() -> None:
    figures = bench.split_figures(SCORES, "max")
    assert figures["tied"] == 3
    assert figures["earliest_test"] == 0.90 and figures["log_loss_test"] == 0.96
    assert figures["tied_mean_test"] == pytest.approx((0.90 + 0.96 + 0.93) / 3)
    assert figures["best_test"] == 0.99 and figures["median_test"] == pytest.approx(0.945)


def test_tied_pairs_count_whether_the_lower_log_loss_tested_better() -> None:
    # Ties on 0.95: (0, 2) lower log-loss 2 tests better; (0, 3) and (2, 3) have no log-loss.
    assert bench.tied_pairs_won_by_lower_log_loss(SCORES[:4]) == (1, 0)
    flipped = [{**SCORES[0], "test": 0.99}, SCORES[2]]
    assert bench.tied_pairs_won_by_lower_log_loss(flipped) == (0, 1)
    untied = [SCORES[0], SCORES[1]]
    assert bench.tied_pairs_won_by_lower_log_loss(untied) == (0, 0)


def test_regression_is_refused() -> None:
    with pytest.raises(ValueError, match="classification"):
        bench.split_figures(SCORES, "min")


def test_the_summary_counts_splits_where_log_loss_picked_better_and_worse() -> None:
    better = {"scores": SCORES, **bench.split_figures(SCORES, "max")}
    worse = {**better, "log_loss_test": 0.80}
    summary = bench.summarize({"toy": {"mode": "max", "splits": {1: better, 2: worse}}})
    row = summary[0]
    assert row["log_loss_better"] == 1 and row["log_loss_worse"] == 1
    assert row["log_loss_test"] == pytest.approx((0.96 + 0.80) / 2) and row["folds"] == 5
    assert row["pairs_lower_log_loss_better"] == 2 and row["pairs_lower_log_loss_worse"] == 0
    markdown = bench.to_markdown(
        {
            "quick": True,
            "settings": {"configs": 5, "splits": [1, 2]},
            "epochs": 20,
            "summary": summary,
            "machine": {"cpu": "test"},
        }
    )
    assert "| toy | 2 | 5-fold CV | 3.0 | 0.9000 |" in markdown and "| 2 / 0 |" in markdown
