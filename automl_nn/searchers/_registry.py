"""The searcher registry: a name -> factory building a ray.tune.search.Searcher."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ray.tune.search import Searcher

from automl_nn.errors import ConfigError, one_of
from automl_nn.space import Space


@dataclass(frozen=True)
class SearcherSettings:
    """What every searcher factory receives.

    Attributes:
        space: the search space, already specialized for the data.
        metric: the metric to optimize (reported every epoch).
        mode: ``min`` or ``max``.
        seed: seeds every random choice of the searcher.
        num_trials: the trial budget (Nevergrad and grid use it).
        options: searcher-specific settings (``optimizer`` for nevergrad, ...).
    """

    space: Space
    metric: str
    mode: str
    seed: int = 0
    num_trials: int = 10
    options: dict[str, Any] = field(default_factory=dict)


def metric_is_nan(result: Mapping[str, Any] | None, metric: str) -> bool:
    """Whether a trial's result reports ``metric`` as NaN (the trial diverged).

    Example:
        >>> metric_is_nan({"val_accuracy": float("nan")}, "val_accuracy"), metric_is_nan(None, "m")
        (True, False)
    """
    value = (result or {}).get(metric)
    return isinstance(value, float) and math.isnan(value)


SearcherFactory = Callable[[SearcherSettings], Searcher]
OptionsCheck = Callable[[SearcherSettings], None]

_FACTORIES: dict[str, SearcherFactory] = {}
_OPTION_CHECKS: dict[str, OptionsCheck] = {}
_OPTION_NAMES: dict[str, tuple[str, ...]] = {}


def register_searcher(
    name: str, *, options: tuple[str, ...] = (), check: OptionsCheck | None = None
) -> Callable[[SearcherFactory], SearcherFactory]:
    """Register a searcher factory under ``name`` (decorator).

    Args:
        name: the name users pass as ``search(searcher=name)``.
        options: the keys the searcher accepts in ``searcher_options``.
        check: validates settings before Ray starts; raises ConfigError.
    """

    def register(factory: SearcherFactory) -> SearcherFactory:
        _FACTORIES[name] = factory
        _OPTION_NAMES[name] = options
        if check is not None:
            _OPTION_CHECKS[name] = check
        return factory

    return register


def list_searchers() -> list[str]:
    """Names accepted by :func:`make_searcher` (and ``search(searcher=...)``)."""
    return sorted(_FACTORIES)


def check_searcher(name: str, settings: SearcherSettings) -> None:
    """Raise ConfigError for an unknown searcher or options it cannot use; start nothing."""
    if name not in _FACTORIES:
        raise ConfigError("searcher", name, one_of(_FACTORIES))
    for key in settings.options:
        if key not in _OPTION_NAMES[name]:
            valid = one_of(_OPTION_NAMES[name]) if _OPTION_NAMES[name] else "no options"
            raise ConfigError(f"searcher_options.{key}", key, f"{valid} for searcher {name!r}")
    if name in _OPTION_CHECKS:
        _OPTION_CHECKS[name](settings)


def make_searcher(name: str, settings: SearcherSettings) -> Searcher:
    """Build the named searcher for a search (settings are checked first).

    Example:
        >>> from automl_nn.space import load_space
        >>> space = load_space("quick").specialize("multiclass", "sequence")
        >>> searcher = make_searcher("random", SearcherSettings(space, "val_accuracy", "max"))
        >>> sorted(searcher.suggest("trial_1"))[:2]
        ['loss', 'model']
    """
    check_searcher(name, settings)
    return _FACTORIES[name](settings)
