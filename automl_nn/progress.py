"""Live progress of a search on the driver: trials done / running / failed, best, time left."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from ray.tune import Callback
from ray.tune.experiment import Trial

from automl_nn.results import FAILED_STATUSES

# Print at most this often (a line per trial end is plenty for long searches).
MIN_SECONDS_BETWEEN_LINES = 5.0


class ProgressCallback(Callback):
    """Prints one line when a trial ends (and at most every few seconds otherwise).

    The best shown is the best of the trials' latest values, as the leaderboard ranks trials
    by their last value: a trial that peaked and fell back shows where it stands now, and a
    trial that errored, ran past its time limit (the leaderboard ranks both after every
    other trial) or whose latest value is not finite drops out.

    Example line::

        [  1m05s] trials 7/20 done, 2 running, 1 failed | best val_accuracy 0.9812 (3f2a_00004)
        | time left 8m55s
    """

    def __init__(
        self,
        *,
        metric: str,
        mode: str,
        num_trials: int,
        time_budget_s: float | None,
        stream: TextIO | None = None,
    ) -> None:
        self.metric, self.mode = metric, mode
        self.num_trials, self.time_budget_s = num_trials, time_budget_s
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.last_line = 0.0
        self.latest: dict[str, float] = {}

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        value = result.get(self.metric)
        failed = result.get("fit_status") in FAILED_STATUSES
        if isinstance(value, (int, float)) and math.isfinite(value) and not failed:
            self.latest[trial.trial_id] = float(value)
        else:
            self.latest.pop(trial.trial_id, None)
        if time.monotonic() - self.last_line >= MIN_SECONDS_BETWEEN_LINES:
            self._print(trials)

    def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any):
        self._print(trials)

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any):
        self.latest.pop(trial.trial_id, None)
        self._print(trials)

    @property
    def best(self) -> tuple[float, str] | None:
        """(value, trial id) of the best latest value, or None before any finite value."""
        if not self.latest:
            return None
        pick = max if self.mode == "max" else min
        trial_id = pick(self.latest, key=self.latest.__getitem__)
        return self.latest[trial_id], trial_id

    def _print(self, trials: list[Trial]) -> None:
        self.last_line = time.monotonic()
        done = sum(t.status == Trial.TERMINATED for t in trials)
        failed = sum(t.status == Trial.ERROR for t in trials)
        running = sum(t.status == Trial.RUNNING for t in trials)
        elapsed = self.last_line - self.started
        parts = [
            f"[{_duration(elapsed):>7}] trials {done}/{self.num_trials} done, "
            f"{running} running, {failed} failed"
        ]
        best = self.best
        if best is not None:
            parts.append(f"best {self.metric} {best[0]:.4f} ({best[1]})")
        if self.time_budget_s is not None:
            parts.append(f"time left {_duration(max(0.0, self.time_budget_s - elapsed))}")
        print(" | ".join(parts), file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
