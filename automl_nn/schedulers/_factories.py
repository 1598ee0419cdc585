"""One factory per scheduler name. Metric and mode come from the Tuner's TuneConfig."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automl_nn.errors import ConfigError, one_of

# Every scheduler counts time in epochs: one tune.report per epoch.
TIME_ATTR = "training_iteration"

# What PBT perturbs: the learning rate and the penalty strengths. Anything that changes the
# model's layers (batch_norm, and dropout, which adds or removes Dropout modules) stays fixed,
# so an exploited checkpoint always loads into the perturbed config's model.
PBT_MUTATIONS: dict[str, Any] = {
    "optimizer": {"lr": (1e-5, 1.0)},
    "regularization": {
        "l2": [0.0, 1e-5, 1e-4, 1e-3],
        "weight_decay": [0.0, 1e-4, 1e-3, 1e-2, 0.1],
    },
}


def _grace_period(max_epochs: int) -> int:
    # An eighth of the budget: early epochs of a neural net say little about its end.
    return max(1, max_epochs // 8)


def _fifo(max_epochs: int) -> Any:
    from ray.tune.schedulers import FIFOScheduler

    return FIFOScheduler()


def _successive_halving(max_epochs: int, brackets: int) -> Any:
    from ray.tune.schedulers import AsyncHyperBandScheduler

    return AsyncHyperBandScheduler(
        time_attr=TIME_ATTR,
        max_t=max_epochs,
        grace_period=_grace_period(max_epochs),
        reduction_factor=3,
        brackets=brackets,
    )


def _asha(max_epochs: int) -> Any:
    return _successive_halving(max_epochs, brackets=1)


# Brackets of asynchronous HyperBand: successive halving from 1, 3 and 9 grace periods.
HYPERBAND_BRACKETS = 3


def _hyperband(max_epochs: int) -> Any:
    # Asynchronous HyperBand (Li et al., MLSys 2020, section 3.3): ASHA in several brackets,
    # each trial in one of them, none ever paused. Ray's synchronous HyperBandScheduler pauses
    # every trial of a bracket until the bracket is full; when a searcher's trials do not
    # fill the last bracket (a trial or time budget ends the search first), its paused trials
    # wait forever: 2 of 6 small searches here never ended.
    return _successive_halving(max_epochs, brackets=HYPERBAND_BRACKETS)


def _median(max_epochs: int) -> Any:
    from ray.tune.schedulers import MedianStoppingRule

    return MedianStoppingRule(
        time_attr=TIME_ATTR, grace_period=_grace_period(max_epochs), min_samples_required=3
    )


def _pbt(max_epochs: int) -> Any:
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining

    low, high = PBT_MUTATIONS["optimizer"]["lr"]
    return PopulationBasedTraining(
        time_attr=TIME_ATTR,
        perturbation_interval=max(1, max_epochs // 5),
        hyperparam_mutations={
            "optimizer": {"lr": tune.loguniform(low, high)},
            "regularization": dict(PBT_MUTATIONS["regularization"]),
        },
    )


_FACTORIES: dict[str, Callable[[int], Any]] = {
    "fifo": _fifo,
    "asha": _asha,
    "hyperband": _hyperband,
    "median": _median,
    "pbt": _pbt,
}


def list_schedulers() -> list[str]:
    """Names accepted by :func:`make_scheduler` (and ``search(scheduler=...)``)."""
    return sorted(_FACTORIES)


def make_scheduler(name: str, *, max_epochs: int) -> Any:
    """A Ray Tune TrialScheduler by name, counting time in epochs.

    ``asha`` (asynchronous successive halving, the default of ``search``), ``hyperband``
    (asynchronous HyperBand: successive halving in three brackets of growing grace periods,
    which hedges against early epochs that mislead), ``median`` (median
    stopping rule), ``pbt`` (population based training: perturbs the learning rate and the
    regularization strengths, continuing from the better trials' checkpoints), ``fifo``
    (no early stopping).
    """
    if name not in _FACTORIES:
        raise ConfigError("scheduler", name, one_of(_FACTORIES))
    return _FACTORIES[name](max_epochs)
