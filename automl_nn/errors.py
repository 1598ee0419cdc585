"""The one exception family of automl_nn.

Every error a user can cause by what they pass in (a config, a search space, data, search
settings) is an :class:`AutomlNNError`. Messages name the field, the value and what would be
valid, so a user can fix the input without reading the source.

Example:
    >>> try:
    ...     raise ConfigError("optimizer.name", "sgdd", "one of adam, adamw, sgd")
    ... except AutomlNNError as error:
    ...     print(error)
    optimizer.name = 'sgdd' is not valid: expected one of adam, adamw, sgd
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AutomlNNError",
    "ConfigError",
    "DataError",
    "SearchError",
    "SpaceError",
    "TrackingError",
    "TrackingWriteError",
    "one_of",
]


class AutomlNNError(Exception):
    """Base class of every error raised by automl_nn on purpose."""


class _FieldError(AutomlNNError, ValueError):
    """An input field holds a value that is not valid.

    Attributes:
        field: dotted path of the field (``optimizer.lr``, ``data.X``, ``searcher``).
        value: the offending value.
        expected: what would be valid, in words.
    """

    def __init__(self, field: str, value: Any, expected: str, *, where: str | None = None):
        self.field = field
        self.value = value
        self.expected = expected
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field} = {value!r} is not valid: expected {expected}")


class ConfigError(_FieldError):
    """A trial config or a search setting is not valid."""


class SpaceError(ConfigError):
    """A search space (YAML file or Python tree) is not valid; ``where`` names the file."""


class DataError(_FieldError):
    """Data handed to automl_nn cannot be used (shapes, NaN, labels, task kind)."""


class TrackingError(AutomlNNError):
    """The MLflow tracking store cannot be used (unreachable URI, bad experiment)."""


class TrackingWriteError(TrackingError):
    """The tracking store refused a write while a search ran: a failure, not bad input."""


class SearchError(AutomlNNError):
    """A search could not produce a result (for example: every trial failed)."""


def one_of(valid: Iterable[Any]) -> str:
    """Words for 'one of a, b, c', sorted, for error messages."""
    return "one of " + ", ".join(sorted(str(v) for v in valid))
