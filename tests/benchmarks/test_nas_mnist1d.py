"""Which stored searches of the NAS benchmark still count: those that ran with today's options."""

from __future__ import annotations

from benchmarks import nas_mnist1d as bench

RL_OPTIONS_RECORDED_ON_2026_11_26 = {
    "lr": 0.01,
    "batch_size": 2,
    "entropy_weight": 0.02,
    "normalize_advantages": True,
    "baseline_decay": 0.8,
    "hidden_size": 64,
    "num_bins": 8,
}


def test_a_search_recorded_with_todays_options_counts() -> None:
    today = bench.searcher_options_in_full("rl")
    assert bench.ran_with_todays_options({"searcher": "rl", "searcher_options": today})
    assert bench.ran_with_todays_options({"searcher": "random", "searcher_options": {}})


def test_a_search_stored_before_an_option_existed_ran_without_it() -> None:
    """rl searches stored before outlier_share kept every reward as it was: not today's rule."""
    stored = {"searcher": "rl", "searcher_options": RL_OPTIONS_RECORDED_ON_2026_11_26}
    assert not bench.ran_with_todays_options(stored)
    outlier_share = bench.searcher_options_in_full("rl")["outlier_share"]
    recorded_today = RL_OPTIONS_RECORDED_ON_2026_11_26 | {"outlier_share": outlier_share}
    assert bench.ran_with_todays_options({"searcher": "rl", "searcher_options": recorded_today})


def test_a_search_stored_before_options_were_recorded_ran_with_the_old_rl_defaults() -> None:
    assert not bench.ran_with_todays_options({"searcher": "rl"})
    assert bench.ran_with_todays_options({"searcher": "evolution"})
