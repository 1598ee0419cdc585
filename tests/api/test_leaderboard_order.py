"""The leaderboard's order: best first by the metric, ties by log-loss, failed trials last."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from automl_nn.results import TIE_BREAK_METRIC, sorted_leaderboard

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
    board = sorted_leaderboard(TRIALS, "val_loss", mode)
    assert board.trial_id.tolist() == expected
    assert list(board.columns) == list(TRIALS.columns) and board.index.tolist() == list(range(6))


TIED = pd.DataFrame(
    {
        "trial_id": ["first", "second", "third", "worse", "no_loss"],
        "status": ["completed"] * 5,
        "val_accuracy": [0.98, 0.98, 0.98, 0.90, 0.98],
        TIE_BREAK_METRIC: [0.30, 0.10, 0.10, 0.01, math.nan],
    }
)


def test_without_a_tie_break_the_earlier_of_tied_trials_comes_first() -> None:
    board = sorted_leaderboard(TIED, "val_accuracy", "max")
    assert board.trial_id.tolist() == ["first", "second", "third", "no_loss", "worse"]


def test_a_tie_break_orders_tied_trials_by_lower_log_loss_then_earlier() -> None:
    board = sorted_leaderboard(TIED, "val_accuracy", "max", tie_break=TIE_BREAK_METRIC)
    # The tie-break never lifts a worse metric: "worse" has the lowest log-loss and stays last.
    assert board.trial_id.tolist() == ["second", "third", "first", "no_loss", "worse"]


def test_a_tie_break_that_is_the_metric_itself_or_missing_changes_nothing() -> None:
    by_loss = sorted_leaderboard(TIED, TIE_BREAK_METRIC, "min", tie_break=TIE_BREAK_METRIC)
    assert by_loss.trial_id.tolist() == ["worse", "second", "third", "first", "no_loss"]
    without = TIED.drop(columns=TIE_BREAK_METRIC)
    board = sorted_leaderboard(without, "val_accuracy", "max", tie_break=TIE_BREAK_METRIC)
    assert board.trial_id.tolist() == ["first", "second", "third", "no_loss", "worse"]


def test_a_search_without_a_winner_says_whether_its_trials_diverged_or_ran_out() -> None:
    from automl_nn._runner import no_winner

    diverged = pd.DataFrame({"status": ["diverged", "stopped_early", "failed"]})
    outcome, advice = no_winner(diverged, "val_mse")
    assert outcome == "no trial has a finite metric"
    assert "no trial ended with a finite val_mse: 1 of 3 trials diverged" in advice
    outcome, advice = no_winner(pd.DataFrame({"status": ["stopped_early"]}), "val_mse")
    assert outcome == "no trial finished an epoch" and "time_budget_s" in advice
    assert no_winner(pd.DataFrame(), "val_mse")[0] == "no trial finished an epoch"


def test_a_search_whose_every_trial_failed_counts_errors_and_timeouts_and_names_the_limit() -> None:
    from automl_nn._runner import why_every_trial_failed

    both = pd.DataFrame({"status": ["timed_out", "failed", "timed_out"]})
    assert why_every_trial_failed(both, 2.5) == (
        "1 of 3 trials raised an error, 2 of 3 trials ran past trial_timeout_s "
        "(2.5 s: raise it, or make the trials smaller)"
    )
    raised = pd.DataFrame({"status": ["failed", "failed"]})
    assert why_every_trial_failed(raised, None) == "2 of 2 trials raised an error"
