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


def test_a_variant_row_holds_one_gap_per_landscape() -> None:
    settings = {"landscapes": 2, "trials": 4}
    row = bench.variant_row("today", {}, settings, 0.0, 1.0)
    assert row["landscapes"] == 2 and len(row["gaps"]) == 2
    assert row["mean_gap"] == pytest.approx(sum(row["gaps"]) / 2)
    assert row["wins"] == sum(gap > 0 for gap in row["gaps"])
    assert all(-1.0 <= gap <= 1.0 for gap in row["gaps"])


def test_an_untrained_controller_has_not_converged() -> None:
    assert bench.converged_seeds({}, seeds=2, max_trials=0) == [None, None]


def test_the_report_has_a_row_per_variant_and_range() -> None:
    rows = [
        {"variant": name, "reward_range": [low, high], "mean_gap": 0.01, "wins": 3,
         "landscapes": 4, "gaps": [0.01] * 4}
        for low, high in bench.REWARD_RANGES
        for name in bench.VARIANTS
    ]  # fmt: skip
    convergence = {name: [12, None] for name in bench.VARIANTS}
    payload = {"quick": False, "settings": bench.FULL, "rows": rows,
               "convergence": convergence, "machine": {}}  # fmt: skip
    markdown = bench.to_markdown(payload)
    for name in bench.VARIANTS:
        assert markdown.count(f"| {name} | +0.0100 | 3/4 |") == len(bench.REWARD_RANGES)
        assert f"| {name} | 1/2 | 12, - |" in markdown
