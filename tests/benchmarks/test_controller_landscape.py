"""The synthetic-landscape benchmark of the RL controller: its landscapes, gaps and report."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import controller_landscape as bench


def test_a_landscape_scores_inside_its_reward_range_and_is_seeded() -> None:
    from automl_nn import load_space
    from automl_nn.searchers._sequences import decide_in_order

    decisions = load_space("nas").decisions(bench.NUM_BINS)
    first_options = decide_in_order(decisions, lambda index: 0)
    last_options = decide_in_order(decisions, lambda index: len(decisions[index].options) - 1)
    score = bench.landscape(3, 0.9, 0.99)
    rewards = [
        score(choices, np.random.default_rng(0)) for choices in (first_options, last_options)
    ]
    assert all(0.9 <= reward <= 0.99 for reward in rewards)
    assert rewards[0] != rewards[1]
    assert bench.landscape(3, 0.9, 0.99)(first_options, np.random.default_rng(0)) == rewards[0]


def test_blowups_score_far_below_the_range_on_their_share_of_trials() -> None:
    from automl_nn import load_space
    from automl_nn.searchers._sequences import decide_in_order

    decisions = load_space("nas").decisions(bench.NUM_BINS)
    choices = decide_in_order(decisions, lambda index: 0)
    noise = np.random.default_rng(0)
    rewards = [bench.landscape(3, 0.0, 1.0, 0.25)(choices, noise) for _ in range(400)]
    blown = [reward for reward in rewards if reward < 0.0]
    assert 60 <= len(blown) <= 140  # a quarter of 400, give or take
    assert all(reward == -bench.BLOWUP_RANGES for reward in blown)
    assert all(0.0 <= reward <= 1.0 for reward in rewards if reward >= 0.0)


def test_a_variant_row_holds_one_gap_per_landscape() -> None:
    settings = {"landscapes": 2, "trials": 4}
    row = bench.variant_row("today", {}, settings, (0.0, 1.0, 0.0))
    assert row["landscapes"] == 2 and len(row["gaps"]) == 2
    assert row["mean_gap"] == pytest.approx(sum(row["gaps"]) / 2)
    assert row["wins"] == sum(gap > 0 for gap in row["gaps"])
    assert all(-1.0 <= gap <= 1.0 for gap in row["gaps"])


def test_an_untrained_controller_has_not_converged() -> None:
    assert bench.converged_seeds({}, seeds=2, max_trials=0) == [None, None]


def test_the_report_has_a_row_per_variant_and_range() -> None:
    rows = [
        {"variant": name, "reward_range": [low, high], "blowup": blowup, "mean_gap": 0.01,
         "wins": 3, "landscapes": 4, "gaps": [0.01] * 4}
        for low, high, blowup in bench.LANDSCAPES
        for name in bench.VARIANTS
    ]  # fmt: skip
    convergence = {name: [12, None] for name in bench.VARIANTS}
    payload = {"quick": False, "settings": bench.FULL, "rows": rows,
               "convergence": convergence, "machine": {}}  # fmt: skip
    markdown = bench.to_markdown(payload)
    for name in bench.VARIANTS:
        assert markdown.count(f"| {name} | +0.0100 | 3/4 |") == len(bench.LANDSCAPES)
        assert f"| {name} | 1/2 | 12, - |" in markdown
    assert markdown.count("| [0.0, 1.0], 5% blow-ups | ") == len(bench.VARIANTS)
