"""The spaces benchmark: random configs of each space, their spread per split, the counts."""

from __future__ import annotations

import math
import random

import pytest

from benchmarks import spaces as bench
from benchmarks.peers import peer_space


def test_peer_params_stay_inside_the_peers_space_and_follow_the_seed() -> None:
    space = peer_space(1)
    drawn = [bench.draw_peer_params(space, random.Random(7)) for _ in range(2)]
    assert drawn[0] == drawn[1]
    others = [bench.draw_peer_params(space, random.Random(seed)) for seed in range(40)]
    assert len({params["width"] for params in others}) > 1
    for params in others:
        assert set(params) == set(space)
        assert params["optimizer"] in ("adam", "sgd", "adamw")
        assert 1e-4 <= params["lr"] <= 1e-1 and 0.0 <= params["dropout"] <= 0.5


def test_a_diverged_config_counts_as_the_worst_for_either_direction() -> None:
    accuracy = bench.spread_of([0.9, 0.8, math.nan, 0.7, 0.95], "max")
    assert accuracy["median"] == 0.8 and accuracy["worse_quartile"] == -math.inf
    assert accuracy["better_quartile"] == pytest.approx(0.925)
    assert accuracy["diverged"] == pytest.approx(0.2)
    mse = bench.spread_of([3000.0, math.nan, 2800.0, 3100.0], "min")
    assert mse["median"] == 3050.0 and mse["worse_quartile"] == math.inf
    assert mse["better_quartile"] == 2900.0


def test_the_summary_counts_splits_where_the_default_median_is_better_or_worse() -> None:
    def split(default: list[float], peers: list[float]) -> dict:
        scores = [{"space": "default", "test": t} for t in default]
        scores += [{"space": "peers", "test": t} for t in peers]
        return bench.split_figures(scores, "max")

    splits = {0: split([0.9, 0.95], [0.96, 0.97]), 1: split([0.98, 0.99], [0.9, 0.91])}
    splits[2] = split([0.9, 0.9], [0.9, 0.9])
    rows = bench.summarize({"toy": {"mode": "max", "splits": splits}})
    assert [row["split"] for row in rows] == [0, 1, 2]
    assert rows[0]["default_better_worse"] == [1, 1, 3]
    assert rows[1]["default"]["median"] == pytest.approx(0.985)
    report = bench.to_markdown(
        {
            "quick": True,
            "settings": {"configs": 2, "splits": [0, 1, 2]},
            "epochs": 20,
            "summary": rows,
            "machine": {"cpu": "test"},
        }
    )
    assert "toy (acc.)" in report and "better on 1 of 3 splits, worse on 1" in report
