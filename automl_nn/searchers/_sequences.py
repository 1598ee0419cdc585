"""What the searchers over decision sequences (``rl``, ``evolution``) share.

A config is a sequence of option indices, one per :class:`~automl_nn.space.Decision` of
``Space.decisions(num_bins)``; an inactive position always holds 0, so one config has one
sequence. Also here: reading and checking ``searcher_options``, and a trial's reward.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl_nn.errors import ConfigError
from automl_nn.searchers._registry import SearcherSettings
from automl_nn.space import Decision, Space, active_decisions


def decide_in_order(decisions: Sequence[Decision], pick: Callable[[int], int]) -> list[int]:
    """Option indices for every decision, calling ``pick(i)`` for the active ones in order.

    Decision ``i`` is asked only when it is active given the choices made before it (a
    choice comes before the decisions inside its options); inactive positions get 0.

    Example:
        >>> from automl_nn.space import Space, choice, uniform
        >>> space = Space.from_dict({"optimizer": choice([
        ...     {"name": "adam"}, {"name": "sgd", "momentum": uniform(0.0, 0.9)}
        ... ])})
        >>> decisions = space.decisions(num_bins=2)  # optimizer, optimizer[sgd].momentum
        >>> decide_in_order(decisions, lambda i: 0), decide_in_order(decisions, lambda i: 1)
        ([0, 0], [1, 1])
    """
    choices = [0] * len(decisions)
    active = set(active_decisions(decisions, choices))
    for index in range(len(decisions)):
        if index in active:
            choices[index] = pick(index)
            active = set(active_decisions(decisions, choices))
    return choices


def reward_of(result: Mapping[str, Any] | None, metric: str, mode: str) -> float | None:
    """The trial's metric as a reward to maximize (negated for ``min``); None if missing.

    A missing, non-numeric or non-finite value (a diverged loss) gives None.

    Example:
        >>> reward_of({"val_loss": 0.25}, "val_loss", "min"), reward_of({}, "val_loss", "min")
        (-0.25, None)
    """
    value = (result or {}).get(metric)
    if not _is_real(value) or not math.isfinite(value):
        return None
    return float(value) if mode == "max" else -float(value)


@dataclass(frozen=True)
class Option:
    """One key of ``searcher_options``: its default and what values are valid.

    Example:
        >>> Option(4, at_least(1), "an integer >= 1").default
        4
    """

    default: Any
    valid: Callable[[Any], bool]
    expected: str


def at_least(low: int) -> Callable[[Any], bool]:
    """A check for integers >= ``low`` (bools are not integers here)."""
    return lambda value: _is_integer(value) and value >= low


def is_bool(value: Any) -> bool:
    """A check for True or False (not 0 or 1, not a string)."""
    return isinstance(value, bool)


def number_in(low: float, high: float, *, low_open: bool, high_open: bool) -> Callable[[Any], bool]:
    """A check for finite real numbers between ``low`` and ``high`` (open ends as asked)."""

    def valid(value: Any) -> bool:
        if not _is_real(value) or not math.isfinite(value):
            return False
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        return above and below

    return valid


def read_options(settings: SearcherSettings, options: Mapping[str, Option]) -> dict[str, Any]:
    """The searcher's options, defaults filled in; ConfigError names a bad one.

    Example:
        >>> from automl_nn.space import Space
        >>> space = Space.from_dict({"training": {"batch_size": {"choice": [32, 64]}}})
        >>> rules = {"batch_size": Option(4, at_least(1), "an integer >= 1")}
        >>> read_options(SearcherSettings(space, "val_loss", "min"), rules)
        {'batch_size': 4}
    """
    chosen = {key: settings.options.get(key, option.default) for key, option in options.items()}
    check_option_values(chosen, options, "searcher_options.")
    return chosen


def check_option_values(
    values: Mapping[str, Any], options: Mapping[str, Option], field_prefix: str
) -> None:
    """Raise ConfigError naming ``field_prefix + key`` for the first value ``options`` refuse.

    ``search`` checks ``searcher_options`` with it; a searcher built directly checks its own
    arguments (``field_prefix="ControllerSearcher."``), so both refuse the same values.

    Example:
        >>> rules = {"batch_size": Option(4, at_least(1), "an integer >= 1")}
        >>> check_option_values({"batch_size": 0}, rules, "ControllerSearcher.")
        Traceback (most recent call last):
        ...
        automl_nn.errors.ConfigError: ControllerSearcher.batch_size = 0 is not valid: ...
    """
    if set(values) != set(options):  # a searcher that forgot to pass one of its options
        raise ValueError(f"values for {sorted(values)}; expected {sorted(options)}")
    for key, value in values.items():
        if not options[key].valid(value):
            raise ConfigError(f"{field_prefix}{key}", value, options[key].expected)


def check_decidable(space: Space, searcher: str) -> None:
    """Raise ConfigError when the space has nothing to decide (no sequence to learn)."""
    if space.is_fixed():
        raise ConfigError(
            "space",
            repr(space),
            f"a space with at least one parameter to decide for searcher {searcher!r}",
        )


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
