"""The final-seeds benchmark: which configs count, each final model's figures, the summary."""

from __future__ import annotations

import math

import pytest

from benchmarks import final_seeds as bench
from benchmarks.selection import EPOCHS


def scores(cv: float, members: list[float], ensemble_3: float, ensemble_5: float) -> dict:
    diverged = not all(math.isfinite(m) for m in members)
    return {
        "cv": cv,
        "members": members,
        "diverged": diverged,
        "ensemble_3": ensemble_3,
        "ensemble_5": ensemble_5,
    }


# The first config has the best CV score and its 5-seed ensemble tests better than its seed-0
# model; the second's tests worse; the third diverged (left out, best CV score or not).
SCORES = [
    scores(0.97, [0.90, 0.92, 0.94, 0.96, 0.98], 0.95, 0.97),
    scores(0.95, [0.96, 0.90, 0.90, 0.90, 0.90], 0.93, 0.92),
    scores(0.99, [0.99, math.nan, 0.99, 0.99, 0.99], math.nan, math.nan),
]


def test_split_figures_average_the_configs_without_a_diverged_member() -> None:
    figures = bench.split_figures(SCORES, "max")
    assert figures["configs"] == 3 and figures["kept"] == 2
    assert figures["one_model_mean_test"] == pytest.approx((0.90 + 0.96) / 2)
    assert figures["member_mean_mean_test"] == pytest.approx((0.94 + 0.912) / 2)
    assert figures["ensemble_5_mean_test"] == pytest.approx((0.97 + 0.92) / 2)
    assert figures["ensemble_better"] == 1 and figures["ensemble_worse"] == 1
    # The winner: the best CV score of the kept configs (0.97), not the diverged one (0.99).
    assert figures["one_model_winner_test"] == 0.90
    assert figures["ensemble_3_winner_test"] == 0.95
    assert figures["ensemble_5_winner_test"] == 0.97


def test_for_regression_the_winner_has_the_smallest_cv_error_and_smaller_tests_win() -> None:
    figures = bench.split_figures(SCORES, "min")
    assert figures["one_model_winner_test"] == 0.96  # cv 0.95
    assert figures["ensemble_better"] == 1  # 0.92 < 0.96 is better for an error


def test_the_summary_sums_counts_and_averages_tests_over_splits() -> None:
    first = bench.split_figures(SCORES, "max")
    second = bench.split_figures(SCORES[:1], "max")
    row = bench.summarize({"toy": {"mode": "max", "splits": {1: first, 2: second}}})[0]
    assert row["configs"] == 4 and row["kept"] == 3 and row["ensemble_better"] == 2
    assert row["ensemble_5_mean_test"] == pytest.approx(((0.97 + 0.92) / 2 + 0.97) / 2)
    assert row["ensemble_5_winner_test"] == pytest.approx(0.97)
    markdown = bench.to_markdown(
        {
            "quick": True,
            "settings": {"configs": 2, "splits": [1, 2]},
            "epochs": EPOCHS,
            "folds": 5,
            "summary": [row],
            "machine": {"cpu": "test"},
        }
    )
    assert "| toy (acc.) | 3 of 4 |" in markdown and "| 2 / 1 |" in markdown


def test_one_config_is_cross_validated_and_retrained_from_five_seeds() -> None:
    config = {
        "model": {"family": "mlp", "depth": 1, "width": 16},
        "optimizer": {"name": "adam", "lr": 0.01},
        "training": {"epochs": 3, "batch_size": 64},
    }
    scored = bench.score_config("wine", 1, config)
    assert 0.0 <= scored["cv"] <= 1.0 and scored["diverged"] is False
    assert len(scored["members"]) == bench.SEEDS
    assert len(set(scored["members"])) > 1 or scored["members"][0] == 1.0  # seeds differ
    assert all(0.0 <= scored[final] <= 1.0 for final in ("ensemble_3", "ensemble_5"))
