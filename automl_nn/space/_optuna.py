"""Optuna define-by-run: each decision of a config is a ``trial.suggest_*`` call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automl_nn.space._nodes import Choice, Numeric

if TYPE_CHECKING:
    import optuna


class OptunaPicker:
    """Asks an Optuna trial for every decision, naming each parameter by its path.

    A parameter inside an option carries the option's label in its path
    (``optimizer[sgd].momentum``), so two options never share a parameter name, and Optuna
    never sees one name with two distributions.
    """

    def __init__(self, trial: optuna.trial.BaseTrial):
        self.trial = trial

    def pick_option(self, path: str, choice: Choice) -> int:
        return choice.keys.index(self.trial.suggest_categorical(path, choice.keys))

    def pick_number(self, path: str, number: Numeric) -> int | float:
        low, high, log = number.low, number.high, number.log
        if number.q is not None and not log:
            # Optuna steps from low; top is the last step that stays within high.
            if number.yields_int:
                return self.trial.suggest_int(path, low, number.top, step=number.q)
            value = self.trial.suggest_float(path, low, number.top, step=number.q)
            return number.finalize(value)
        if number.integer:
            return self.trial.suggest_int(path, low, high, log=log)
        # A log range with q: Optuna has no step on a log scale, so snap the value to q.
        return number.finalize(self.trial.suggest_float(path, low, high, log=log))
