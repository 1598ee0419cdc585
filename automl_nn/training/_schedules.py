"""Learning-rate schedules, computed per optimizer step from the config's formulas.

Our own small implementation rather than torch's scheduler classes: warm-up has to go in
front of every schedule (plateau included), and one function of (step, epoch) is easy to
test against closed-form values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


class LearningRateSchedule:
    """The learning rate of every optimizer step of one run.

    ``lr`` is the base (peak) rate; ``warmup_epochs`` of linear warm-up run first, then the
    named schedule over the remaining epochs. ``step``/``exponential`` change per epoch,
    ``cosine``/``cyclic``/``one_cycle`` per step, ``plateau`` when the validation loss stops
    improving (``end_epoch``), or, given ``replayed_scales``, at the epochs where those
    factors of the base rate change (the last one holds after the list).

    Example:
        >>> s = LearningRateSchedule({"name": "step", "step_size": 2, "gamma": 0.5,
        ...                           "warmup_epochs": 0}, lr=1.0, epochs=6, steps_per_epoch=1)
        >>> [s.lr_at(epoch, 0) for epoch in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(
        self, schedule: dict[str, Any], *, lr: float, epochs: int, steps_per_epoch: int
    ) -> None:
        self.config = schedule
        self.base_lr = lr
        self.steps_per_epoch = steps_per_epoch
        self.warmup_steps = schedule.get("warmup_epochs", 0) * steps_per_epoch
        self.main_steps = max(1, epochs * steps_per_epoch - self.warmup_steps)
        self._plateau_scale = 1.0
        self._replayed_scales: Sequence[float] | None = schedule.get("replayed_scales")
        self._best_loss = math.inf
        self._epochs_without_gain = 0

    def lr_at(self, epoch: int, step_in_epoch: int) -> float:
        """Learning rate of one optimizer step (both counted from 0)."""
        step = epoch * self.steps_per_epoch + step_in_epoch
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        return self._main_lr(step - self.warmup_steps)

    def end_epoch(self, val_loss: float) -> None:
        """Tell the schedule an epoch ended with this validation loss (plateau uses it)."""
        if self.config["name"] != "plateau" or self._replayed_scales:
            return
        threshold = self.config["threshold"]
        if val_loss < self._best_loss * (1.0 - threshold):
            self._best_loss = val_loss
            self._epochs_without_gain = 0
            return
        self._epochs_without_gain += 1
        if self._epochs_without_gain > self.config["patience"]:
            self._plateau_scale *= self.config["factor"]
            self._epochs_without_gain = 0

    def state_dict(self) -> dict[str, float]:
        """The plateau bookkeeping (every other schedule is a pure function of the step)."""
        return {
            "plateau_scale": self._plateau_scale,
            "best_loss": self._best_loss,
            "epochs_without_gain": self._epochs_without_gain,
        }

    def load_state_dict(self, state: dict[str, float]) -> None:
        self._plateau_scale = float(state["plateau_scale"])
        self._best_loss = float(state["best_loss"])
        self._epochs_without_gain = int(state["epochs_without_gain"])

    def _main_lr(self, step: int) -> float:
        name = self.config["name"]
        epoch = step // self.steps_per_epoch
        if name == "constant":
            return self.base_lr
        if name == "step":
            return self.base_lr * self.config["gamma"] ** (epoch // self.config["step_size"])
        if name == "exponential":
            return self.base_lr * self.config["gamma"] ** epoch
        if name == "cosine":
            return self._cosine(self.base_lr, self.config["min_lr"], step / self.main_steps)
        if name == "cyclic":
            return self._cyclic(step)
        if name == "one_cycle":
            return self._one_cycle(step)
        if name == "plateau":
            scale = self._plateau_scale_at((step + self.warmup_steps) // self.steps_per_epoch)
            return max(self.config["min_lr"], self.base_lr * scale)
        raise AssertionError(f"unchecked schedule {name!r}")  # check_config rejects it first

    def _plateau_scale_at(self, epoch: int) -> float:
        """The plateau's factor of the base rate in ``epoch`` (counted from 0, warm-up included)."""
        if not self._replayed_scales:
            return self._plateau_scale
        return float(self._replayed_scales[min(epoch, len(self._replayed_scales) - 1)])

    @staticmethod
    def _cosine(start: float, end: float, progress: float) -> float:
        return end + (start - end) * (1.0 + math.cos(math.pi * min(progress, 1.0))) / 2.0

    def _cyclic(self, step: int) -> float:
        # Same formulas as torch.optim.lr_scheduler.CyclicLR.
        max_lr = self.base_lr
        base_lr = max_lr * self.config["base_lr_ratio"]
        half_cycle = max(1.0, self.config["cycle_epochs"] * self.steps_per_epoch / 2.0)
        cycle = math.floor(1 + step / (2 * half_cycle))
        x = abs(step / half_cycle - 2 * cycle + 1)
        amplitude = (max_lr - base_lr) * max(0.0, 1.0 - x)
        mode = self.config["mode"]
        if mode == "triangular2":
            amplitude /= 2.0 ** (cycle - 1)
        elif mode == "exp_range":
            amplitude *= self.config["gamma"] ** step
        return base_lr + amplitude

    def _one_cycle(self, step: int) -> float:
        # Same shape as torch.optim.lr_scheduler.OneCycleLR with cosine annealing.
        initial = self.base_lr / self.config["div_factor"]
        final = initial / self.config["final_div_factor"]
        rise_steps = max(1.0, self.config["pct_start"] * self.main_steps - 1)
        if step <= rise_steps:
            return self._cosine(initial, self.base_lr, step / rise_steps)
        fall_steps = max(1.0, self.main_steps - 1 - rise_steps)
        return self._cosine(self.base_lr, final, (step - rise_steps) / fall_steps)


def replayed_plateau(
    schedule: dict[str, Any], base_lr: float, learning_rates: Sequence[float]
) -> dict[str, Any]:
    """A checked ``schedule`` section that, if a plateau, replays these per-epoch rates.

    ``learning_rates`` are a run's rates, one per epoch (its history's ``lr``, the mean over
    folds for a cross-validated run), from a run whose base rate was ``base_lr``. A plateau
    gets them as ``replayed_scales`` (rate / base rate), so a run of it lowers its rate where
    that run did instead of watching its own validation loss; any other schedule is a function
    of the step alone and comes back as it is. Rates that are missing, not finite or not above
    0 replay nothing.

    Example:
        >>> plateau = {"name": "plateau", "factor": 0.5, "patience": 0, "threshold": 0.0,
        ...            "min_lr": 0.0, "warmup_epochs": 0}
        >>> replayed_plateau(plateau, 0.1, [0.1, 0.05, 0.05])["replayed_scales"]
        [1.0, 0.5, 0.5]
    """
    rates = [float(rate) for rate in learning_rates]
    usable = bool(rates) and all(math.isfinite(rate) and rate > 0 for rate in rates)
    if schedule["name"] != "plateau" or not usable:
        return schedule
    return {**schedule, "replayed_scales": [rate / base_lr for rate in rates]}
