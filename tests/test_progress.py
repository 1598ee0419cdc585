"""The progress line's best is the best of the trials' latest values, as the leaderboard ranks."""

from __future__ import annotations

import io
import math

from ray.tune.experiment import Trial

from automl_nn.progress import ProgressCallback


def progress(mode: str) -> tuple[ProgressCallback, io.StringIO]:
    stream = io.StringIO()
    callback = ProgressCallback(
        metric="val_accuracy", mode=mode, num_trials=3, time_budget_s=None, stream=stream
    )
    return callback, stream


def report(
    callback: ProgressCallback, trial: Trial, value: float, fit_status: str = "running"
) -> None:
    callback.on_trial_result(0, [trial], trial, {"val_accuracy": value, "fit_status": fit_status})


def test_a_trial_that_peaked_and_fell_back_shows_its_latest_value() -> None:
    callback, stream = progress("max")
    first, second = (
        Trial("fake", trial_id="first", stub=True),
        Trial("fake", trial_id="second", stub=True),
    )
    report(callback, first, 0.99)
    report(callback, second, 0.97)
    report(callback, first, 0.95)  # first's last value is now below second's
    callback.on_trial_complete(0, [first, second], first)
    assert callback.best == (0.97, "second")
    assert stream.getvalue().splitlines()[-1].endswith("best val_accuracy 0.9700 (second)")


def test_min_mode_errors_and_non_finite_values_leave_the_best() -> None:
    callback, _ = progress("min")
    low, high = Trial("fake", trial_id="low", stub=True), Trial("fake", trial_id="high", stub=True)
    assert callback.best is None
    report(callback, low, 0.1)
    report(callback, high, 0.5)
    assert callback.best == (0.1, "low")
    report(callback, low, math.nan)  # diverged: ranks last on the leaderboard
    assert callback.best == (0.5, "high")
    report(callback, low, 0.2)
    callback.on_trial_error(0, [low, high], low)
    assert callback.best == (0.5, "high")


def test_a_trial_that_ran_past_its_time_limit_drops_out_as_on_the_leaderboard() -> None:
    callback, stream = progress("max")
    slow, steady = (
        Trial("fake", trial_id="slow", stub=True),
        Trial("fake", trial_id="steady", stub=True),
    )
    report(callback, steady, 0.90, "completed")
    report(callback, slow, 0.95)
    assert callback.best == (0.95, "slow")
    report(callback, slow, 0.96, "timed_out")  # ranked after every completed trial
    callback.on_trial_complete(0, [slow, steady], slow)
    assert callback.best == (0.90, "steady")
    assert stream.getvalue().splitlines()[-1].endswith("best val_accuracy 0.9000 (steady)")
