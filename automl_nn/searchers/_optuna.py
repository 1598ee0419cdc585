"""Optuna's TPE through Ray Tune's OptunaSearch, with the Space as define-by-run function."""

from __future__ import annotations

import math
import warnings
from typing import Any

from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from automl_nn.errors import ConfigError, one_of
from automl_nn.searchers._registry import SearcherSettings, metric_is_nan, register_searcher

SAMPLERS = ("tpe", "random", "cmaes", "gp")


class SpaceOptunaSearch(OptunaSearch):
    """OptunaSearch whose suggestions are exactly the config the Space's function returns.

    Ray's OptunaSearch merges the names of the suggested parameters into the config; those
    are Optuna's bookkeeping (``optimizer[sgd].momentum``), not config keys, so drop them.
    A trial whose metric is NaN (it diverged) is told to Optuna as the worst value there is:
    Ray passes the NaN on, Optuna's ``tell`` refuses it, Ray logs a warning and the Optuna
    trial stays RUNNING for good.
    """

    def __init__(self, *args: Any, config_keys: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config_keys = config_keys

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        suggestion = super().suggest(trial_id)
        if not isinstance(suggestion, dict):
            return suggestion
        return {key: value for key, value in suggestion.items() if key in self.config_keys}

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        if metric_is_nan(result, self.metric):
            worst = -math.inf if self.mode == "max" else math.inf
            result = {**(result or {}), self.metric: worst}
        super().on_trial_complete(trial_id, result, error)


def _sampler(name: str, seed: int) -> Any:
    import optuna

    if name == "tpe":
        # Multivariate TPE models the joint space; constant_liar keeps parallel trials apart.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=seed, multivariate=True, group=True, constant_liar=True
            )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return optuna.samplers.GPSampler(seed=seed)


def _check_optuna(settings: SearcherSettings) -> None:
    sampler = settings.options.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise ConfigError("searcher_options.sampler", sampler, one_of(SAMPLERS))


@register_searcher("optuna", options=("sampler",), check=_check_optuna)
def make_optuna(settings: SearcherSettings) -> Searcher:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return SpaceOptunaSearch(
        space=settings.space.define_by_run,
        metric=settings.metric,
        mode=settings.mode,
        sampler=_sampler(settings.options.get("sampler", "tpe"), settings.seed),
        config_keys=tuple(settings.space.to_dict()),
    )
