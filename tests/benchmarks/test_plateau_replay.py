"""The plateau-replay benchmark: its configs, one config's scores, its figures and summary."""

from __future__ import annotations

import math

import pytest

from automl_nn import load_dataset
from benchmarks import plateau_replay as bench
from benchmarks.selection import EPOCHS


def scores(trial, watching, replaying, tests, diverged=False) -> dict:
    return {
        "trial": "cv",
        "epochs": len(trial),
        "trial_rates": trial,
        "diverged": diverged,
        "watching_rates": watching,
        "replaying_rates": replaying,
        "watching_test": tests[0],
        "replaying_test": tests[1],
    }


# The first config's watching retrain dropped a rate the trial did not; the second trained at
# the trial's rates either way; the third strayed and tested worse replaying; the fourth
# diverged (left out).
SCORES = [
    scores([0.1, 0.1, 0.05], [0.1, 0.05, 0.05], [0.1, 0.1, 0.05], (0.90, 0.94)),
    scores([0.1, 0.1], [0.1, 0.1], [0.1, 0.1], (0.80, 0.80)),
    scores([0.1, 0.01], [0.1, 0.1], [0.1, 0.01], (0.96, 0.92)),
    scores([0.1, 0.1], [0.1, 0.01], [0.1, 0.1], (math.nan, math.nan), diverged=True),
]


def test_plateau_configs_are_default_space_configs_with_a_plateau_and_the_trial_epochs() -> None:
    configs = bench.plateau_configs(load_dataset("wine"), 3, seed=0)
    assert len(configs) == 3
    assert all(config["schedule"]["name"] == "plateau" for config in configs)
    assert all(config["training"]["epochs"] == EPOCHS for config in configs)
    assert configs == bench.plateau_configs(load_dataset("wine"), 3, seed=0)


def test_rates_are_the_same_only_epoch_for_epoch_and_within_rounding() -> None:
    assert bench.same_rates([0.1, 0.05], [0.1, 0.05 * (1 + 1e-12)])
    assert not bench.same_rates([0.1, 0.05], [0.1, 0.1])
    assert not bench.same_rates([0.1], [0.1, 0.1])


def test_split_figures_count_strayed_retrains_and_compare_tests_only_there() -> None:
    figures = bench.split_figures(SCORES, "max")
    assert figures["configs"] == 4 and figures["kept"] == 3 and figures["trials"] == ["cv"]
    assert figures["watching_strayed"] == 2 and figures["replaying_strayed"] == 0
    assert figures["watching_strayed_tests"] == [0.90, 0.96]
    assert figures["replaying_strayed_tests"] == [0.94, 0.92]
    assert figures["replaying_better"] == 1 and figures["replaying_worse"] == 1


def test_a_replaying_retrain_off_its_trials_rates_is_counted() -> None:
    off = scores([0.1, 0.05], [0.1, 0.1], [0.1, 0.1], (0.9, 0.9))
    assert bench.split_figures([off], "max")["replaying_strayed"] == 1


def test_for_regression_a_smaller_test_is_better() -> None:
    figures = bench.split_figures(SCORES, "min")
    assert figures["replaying_better"] == 1  # 0.92 < 0.96
    assert figures["replaying_worse"] == 1  # 0.94 > 0.90


def test_the_summary_sums_counts_and_averages_strayed_tests_over_splits() -> None:
    first = bench.split_figures(SCORES, "max")
    second = bench.split_figures(SCORES[1:2], "max")  # nothing strayed
    row = bench.summarize({"toy": {"mode": "max", "splits": {1: first, 2: second}}})[0]
    assert row["configs"] == 5 and row["kept"] == 4 and row["watching_strayed"] == 2
    assert row["watching_strayed_mean_test"] == pytest.approx((0.90 + 0.96) / 2)
    assert row["replaying_strayed_mean_test"] == pytest.approx((0.94 + 0.92) / 2)
    empty = bench.summarize({"toy": {"mode": "max", "splits": {2: second}}})[0]
    assert math.isnan(empty["replaying_strayed_mean_test"])


def test_one_config_scored_replays_its_trials_rates() -> None:
    config = {
        "model": {"family": "mlp", "depth": 1, "width": 8},
        "optimizer": {"name": "sgd", "lr": 0.05},
        "schedule": {"name": "plateau", "factor": 0.5, "patience": 0, "threshold": 0.2},
        "training": {"batch_size": 64, "epochs": 4},
    }
    scored = bench.score_config("wine", 1, config)
    assert scored["trial"] == "cv" and scored["epochs"] == 4
    assert bench.same_rates(scored["replaying_rates"], scored["trial_rates"])
    assert 0.0 <= scored["watching_test"] <= 1.0 and 0.0 <= scored["replaying_test"] <= 1.0
