"""Live progress of a search on the driver: trials done / running / failed, best, time left."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from ray.tune import Callback
from ray.tune.experiment import Trial

# Print at most this often (a line per trial end is plenty for long searches).
MIN_SECONDS_BETWEEN_LINES = 5.0


class ProgressCallback(Callback):
    """Prints one line when a trial ends (and at most every few seconds otherwise).

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
        self.best: tuple[float, str] | None = None

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        value = result.get(self.metric)
        if isinstance(value, (int, float)) and math.isfinite(value) and self._better(value):
            self.best = (float(value), trial.trial_id)
        if time.monotonic() - self.last_line >= MIN_SECONDS_BETWEEN_LINES:
            self._print(trials)

    def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any):
        self._print(trials)

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: Any):
        self._print(trials)

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best[0] if self.mode == "max" else value < self.best[0]

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
        if self.best is not None:
            parts.append(f"best {self.metric} {self.best[0]:.4f} ({self.best[1]})")
        if self.time_budget_s is not None:
            parts.append(f"time left {_duration(max(0.0, self.time_budget_s - elapsed))}")
        print(" | ".join(parts), file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
