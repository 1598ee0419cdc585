"""The leaderboard's order: best first by the metric, failed trials after all the others."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from automl_nn.results import _sorted_leaderboard

TRIALS = pd.DataFrame(
    {
        "trial_id": ["failed", "ok_low", "timed_out", "early", "ok_nan", "ok_high"],
        "status": ["failed", "completed", "timed_out", "stopped_early", "completed", "completed"],
        "val_loss": [0.01, 0.5, 0.02, 0.3, math.nan, 0.9],
    }
)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("min", ["early", "ok_low", "ok_high", "ok_nan", "failed", "timed_out"]),
        ("max", ["ok_high", "ok_low", "early", "ok_nan", "timed_out", "failed"]),
    ],
)
def test_failed_trials_rank_last_whatever_their_last_metric(mode: str, expected: list) -> None:
    board = _sorted_leaderboard(TRIALS, "val_loss", mode)
    assert board.trial_id.tolist() == expected
    assert list(board.columns) == list(TRIALS.columns) and board.index.tolist() == list(range(6))
