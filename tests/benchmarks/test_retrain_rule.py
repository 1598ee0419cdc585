"""The retrain-rule benchmark: which configs count, each rule's figures, and its summary."""

from __future__ import annotations

import math

import pytest

from automl_nn import load_dataset
from benchmarks import retrain_rule as bench
from benchmarks.selection import EPOCHS


def scores(val: float, epochs: int, validated: float, max_epochs: float, status: str) -> dict:
    return {
        "val": val,
        "epochs": epochs,
        "status": status,
        "validated": validated,
        "max_epochs": max_epochs,
        "early_stopping": (validated + max_epochs) / 2,
    }


# Two configs stopped early (one tests better retrained for E epochs, one for all of them),
# one trained every epoch (the rules agree there), one diverged early with the best val.
SCORES = [
    scores(0.95, 8, 0.96, 0.94, "early_stopping"),
    scores(0.97, 12, 0.90, 0.98, "early_stopping"),
    scores(0.96, EPOCHS, 0.93, 0.93, "completed"),
    scores(0.99, 3, math.nan, math.nan, "diverged"),
]


def test_only_configs_that_stopped_early_without_diverging_can_tell_the_rules_apart() -> None:
    assert [bench.stopped_early(s) for s in SCORES] == [True, True, False, False]


def test_split_figures_average_the_configs_that_stopped_early_and_retest_the_winner() -> None:
    figures = bench.split_figures(SCORES, "max")
    assert figures["configs"] == 4 and figures["stopped_early"] == 2
    assert figures["median_epochs"] == 10
    assert figures["validated_mean_test"] == pytest.approx((0.96 + 0.90) / 2)
    assert figures["max_epochs_mean_test"] == pytest.approx((0.94 + 0.98) / 2)
    assert figures["validated_better"] == 1 and figures["validated_worse"] == 1
    # The diverged config is no winner; the best of the others (0.97) stopped early.
    assert figures["winner_stopped_early"] is True
    assert figures["validated_winner_test"] == 0.90 and figures["max_epochs_winner_test"] == 0.98


def test_for_regression_the_winner_has_the_smallest_validation_error() -> None:
    figures = bench.split_figures(SCORES, "min")
    assert figures["winner_stopped_early"] is True  # val 0.95, stopped after 8 epochs
    assert figures["validated_winner_test"] == 0.96
    assert figures["validated_better"] == 1  # 0.90 < 0.98 is better for an error


def test_the_summary_sums_counts_and_averages_tests_over_splits() -> None:
    first = bench.split_figures(SCORES, "max")
    second = bench.split_figures(SCORES[:1], "max")
    summary = bench.summarize({"toy": {"mode": "max", "splits": {1: first, 2: second}}})
    row = summary[0]
    assert row["configs"] == 5 and row["stopped_early"] == 3 and row["validated_better"] == 2
    assert row["winners_stopped_early"] == 2
    assert row["validated_mean_test"] == pytest.approx(((0.96 + 0.90) / 2 + 0.96) / 2)
    markdown = bench.to_markdown(
        {
            "quick": True,
            "settings": {"configs": 4, "splits": [1, 2]},
            "epochs": EPOCHS,
            "summary": summary,
            "machine": {"cpu": "test"},
        }
    )
    assert "| toy (acc.) | 3 of 5 |" in markdown


def test_candidates_all_use_early_stopping_and_are_drawn_the_same_each_time() -> None:
    data = load_dataset("wine")
    configs = bench.early_stopping_configs(data, 5, seed=0)
    assert len(configs) == 5
    assert all(c["regularization"]["early_stopping"] for c in configs)
    assert configs == bench.early_stopping_configs(data, 5, seed=0)


def test_one_config_is_validated_and_retrained_three_ways_from_the_same_seed() -> None:
    config = {
        "model": {"family": "mlp", "depth": 1, "width": 16},
        "optimizer": {"name": "adam", "lr": 0.01},
        "regularization": {"early_stopping": 2},
        "training": {"epochs": 6, "batch_size": 64},
    }
    scored = bench.score_config("wine", 1, config)
    assert 1 <= scored["epochs"] <= 6
    # validated trains exactly E epochs; max_epochs trains every one of EPOCHS.
    assert scored["validated_epochs"] == scored["epochs"]
    assert scored["max_epochs_epochs"] == EPOCHS
    assert all(0.0 <= scored[rule] <= 1.0 for rule in bench.RULES)
