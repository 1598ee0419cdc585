"""Parameter builders for spaces written in Python.

Each builder returns the YAML form of its parameter node, so a tree built in Python and a
YAML file are the same thing: ``Space.from_dict`` reads both, and ``Space.to_yaml`` writes
what these functions return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def choice(options: Sequence[Any]) -> dict[str, Any]:
    """One of ``options``: constants, or sub-trees holding further parameters (conditionals).

    Example:
        >>> choice(["adam", {"name": "sgd", "momentum": uniform(0.0, 0.9)}])
        {'choice': ['adam', {'name': 'sgd', 'momentum': {'uniform': [0.0, 0.9]}}]}
    """
    return {"choice": list(options)}


def grid(values: Sequence[Any]) -> dict[str, Any]:
    """Values a grid search enumerates; every other searcher treats them as a choice.

    Example:
        >>> grid([32, 64])
        {'grid': [32, 64]}
    """
    return {"grid": list(values)}


def uniform(low: float, high: float) -> dict[str, Any]:
    """A float drawn evenly from ``[low, high]``.

    Example:
        >>> uniform(0.0, 0.5)
        {'uniform': [0.0, 0.5]}
    """
    return {"uniform": [low, high]}


def loguniform(low: float, high: float) -> dict[str, Any]:
    """A float drawn evenly on a log scale from ``[low, high]`` (``0 < low``).

    Example:
        >>> loguniform(1e-4, 1e-1)
        {'loguniform': [0.0001, 0.1]}
    """
    return {"loguniform": [low, high]}


def integer(low: int, high: int, log: bool = False) -> dict[str, Any]:
    """An int from ``[low, high]`` (both included), on a log scale when ``log``.

    Example:
        >>> integer(1, 4), integer(8, 512, log=True)
        ({'int': [1, 4]}, {'int': [8, 512], 'log': True})
    """
    return {"int": [low, high], "log": True} if log else {"int": [low, high]}


def quantized(low: float, high: float, q: float, log: bool = False) -> dict[str, Any]:
    """A value from ``low, low + q, low + 2q, ...`` up to ``high``; ints when all are ints.

    Example:
        >>> quantized(0.0, 0.5, 0.1)
        {'quantized': [0.0, 0.5], 'q': 0.1}
    """
    node: dict[str, Any] = {"quantized": [low, high], "q": q}
    return {**node, "log": True} if log else node
