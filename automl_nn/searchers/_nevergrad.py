"""Nevergrad optimizers (NGOpt by default) through Ray Tune's NevergradSearch."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from ray.tune.search import Searcher
from ray.tune.search.nevergrad import NevergradSearch

from automl_nn.errors import ConfigError
from automl_nn.searchers._registry import SearcherSettings, metric_is_nan, register_searcher
from automl_nn.space import Space


class SpaceNevergradSearch(NevergradSearch):
    """NevergradSearch over the Space's Nevergrad parameter; suggestions become configs."""

    def __init__(self, *args: Any, search_space: Space, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.search_space = search_space

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._nevergrad_opt is None:
            return super().suggest(trial_id)
        candidate = self._nevergrad_opt.ask()
        self._live_trial_mapping[trial_id] = candidate
        return self.search_space.from_nevergrad(candidate.value)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """A NaN metric (a diverged trial) becomes Nevergrad's worst loss, as Nevergrad's
        ``tell`` clips it to; without the LossTooLargeWarning ("rescale the cost function?")
        it raises on the way, which is no advice for a user whose trial diverged."""
        if not metric_is_nan(result, self.metric):
            super().on_trial_complete(trial_id, result, error)
            return
        from nevergrad.common.errors import LossTooLargeWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LossTooLargeWarning)
            super().on_trial_complete(trial_id, result, error)


def _optimizer_name(settings: SearcherSettings) -> str:
    return str(settings.options.get("optimizer", "NGOpt"))


def _check_nevergrad(settings: SearcherSettings) -> None:
    import nevergrad as ng

    name = _optimizer_name(settings)
    if name not in ng.optimizers.registry:
        close = sorted(n for n in ng.optimizers.registry if n.lower().startswith(name[:3].lower()))
        hint = f"; close names: {', '.join(close[:8])}" if close else ""
        raise ConfigError(
            "searcher_options.optimizer", name, f"a Nevergrad optimizer name such as NGOpt{hint}"
        )


@register_searcher("nevergrad", options=("optimizer",), check=_check_nevergrad)
def make_nevergrad(settings: SearcherSettings) -> Searcher:
    import nevergrad as ng

    parameter = settings.space.to_nevergrad()
    parameter.random_state = np.random.RandomState(settings.seed)
    optimizer = ng.optimizers.registry[_optimizer_name(settings)](
        parametrization=parameter, budget=settings.num_trials, num_workers=2
    )
    return SpaceNevergradSearch(
        optimizer=optimizer,
        metric=settings.metric,
        mode=settings.mode,
        search_space=settings.space,
    )
