"""Optuna's TPE through Ray Tune's OptunaSearch, with the Space as define-by-run function."""

from __future__ import annotations

import math
import warnings
from typing import Any

from ray.tune.result import TRAINING_ITERATION
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from automl_nn.errors import ConfigError, one_of
from automl_nn.searchers._registry import SearcherSettings, metric_is_nan, register_searcher

SAMPLERS = ("tpe", "random", "cmaes", "gp")
# How a trial that ends while its fit still runs (ASHA or a stop rule stopped it) is told to
# the study: "complete" with that epoch's value as if it were final (what Ray's OptunaSearch
# does by itself, and what every stored benchmark search ran with), or "pruned" at the epoch
# it reached, as Optuna's own pruners do. The first is the default: "pruned" leans ahead on
# 48-trial searches but does not separate, and in the peers grid it tested no better
# (benchmarks/README.md, stopped_trials).
STOPPED_TRIALS = ("complete", "pruned")


class SpaceOptunaSearch(OptunaSearch):
    """OptunaSearch whose suggestions are exactly the config the Space's function returns.

    Ray's OptunaSearch merges the names of the suggested parameters into the config; those
    are Optuna's bookkeeping (``optimizer[sgd].momentum``), not config keys, so drop them.
    A trial whose metric is NaN (it diverged) is told to Optuna as the worst value there is:
    Ray passes the NaN on, Optuna's ``tell`` refuses it, Ray logs a warning and the Optuna
    trial stays RUNNING for good.

    A trial that a scheduler (ASHA, HyperBand, the median rule) or a stop rule ended while its
    fit still said ``running`` is told as Ray's OptunaSearch tells it by default
    (``stopped_trials="complete"``): COMPLETE with the value of the epoch it reached, so TPE
    ranks a 3-epoch score against 20-epoch ones. With ``stopped_trials="pruned"`` it is told
    PRUNED, its last value the intermediate value of that epoch, as Optuna's own pruners do:
    TPE then fills its good group with finished trials first and ranks stopped ones by how
    far they got, then by their value.
    """

    def __init__(
        self,
        *args: Any,
        config_keys: tuple[str, ...],
        stopped_trials: str = STOPPED_TRIALS[0],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.config_keys = config_keys
        self.stopped_trials = stopped_trials

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
        elif result is not None and self._prunes(trial_id, result):
            # A scheduler's STOP keeps the last result from on_trial_result: report it as the
            # epoch's value, then leave the metric out so Ray tells the study PRUNED (Optuna
            # refuses a value with that state). A trial the search's end stopped had its last
            # result reported already, and Optuna warns that it ignores the repeat.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The reported value is ignored")
                self._ot_trials[trial_id].report(result[self.metric], result[TRAINING_ITERATION])
            result = {key: value for key, value in result.items() if key != self.metric}
        super().on_trial_complete(trial_id, result, error)

    def _prunes(self, trial_id: str, result: dict[str, Any]) -> bool:
        """Whether the trial ended while its fit still ran and is to be told PRUNED."""
        return (
            self.stopped_trials == "pruned"
            and result.get("fit_status") == "running"
            and isinstance(result.get(self.metric), (int, float))
            and TRAINING_ITERATION in result
            and trial_id in self._ot_trials
            and trial_id not in self._completed_trials
        )


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
    stopped_trials = settings.options.get("stopped_trials", STOPPED_TRIALS[0])
    if stopped_trials not in STOPPED_TRIALS:
        raise ConfigError("searcher_options.stopped_trials", stopped_trials, one_of(STOPPED_TRIALS))


@register_searcher("optuna", options=("sampler", "stopped_trials"), check=_check_optuna)
def make_optuna(settings: SearcherSettings) -> Searcher:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return SpaceOptunaSearch(
        space=settings.space.define_by_run,
        metric=settings.metric,
        mode=settings.mode,
        sampler=_sampler(settings.options.get("sampler", "tpe"), settings.seed),
        config_keys=tuple(settings.space.to_dict()),
        stopped_trials=settings.options.get("stopped_trials", STOPPED_TRIALS[0]),
    )
