"""Value rules for model-family keys: check one value, return it normalized.

A rule is called as ``rule(field, value)`` with the dotted field name (``model.depth``) and
returns the value in canonical form (an ``int`` for integer keys, a ``list`` for lists) or raises
:class:`~automl_nn.errors.ConfigError`. Searchers hand out ``3.0`` or ``numpy.int64(3)`` as
readily as ``3``, so integer rules accept any real number with an integral value.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from automl_nn.errors import ConfigError, one_of
from automl_nn.vocabulary import ACTIVATIONS

Rule = Callable[[str, Any], Any]


def as_integer(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    return int(value) if float(value).is_integer() else None


def positive_int(field: str, value: Any) -> int:
    """An integer >= 1."""
    number = as_integer(value)
    if number is None or number < 1:
        raise ConfigError(field, value, "an integer >= 1")
    return number


def odd_positive_int(field: str, value: Any) -> int:
    """An odd integer >= 1 (odd kernels pad symmetrically to keep the input size)."""
    number = as_integer(value)
    if number is None or number < 1 or number % 2 == 0:
        raise ConfigError(field, value, "an odd integer >= 1")
    return number


def positive_number(field: str, value: Any) -> float:
    """A finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(field, value, "a number > 0")
    number = float(value)
    if not 0 < number < float("inf"):
        raise ConfigError(field, value, "a number > 0")
    return number


def optional_positive_ints(field: str, value: Any) -> list[int] | None:
    """None, or a non-empty list of integers >= 1."""
    if value is None:
        return None
    expected = "null or a non-empty list of integers >= 1"
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(field, value, expected)
    numbers_ = [as_integer(item) for item in value]
    if any(number is None or number < 1 for number in numbers_):
        raise ConfigError(field, value, expected)
    return numbers_


def choice(*options: str) -> Rule:
    """A rule that accepts one of ``options``."""

    def check(field: str, value: Any) -> str:
        if value not in options:
            raise ConfigError(field, value, one_of(options))
        return value

    return check


activation = choice(*ACTIVATIONS)
