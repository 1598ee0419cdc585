"""Searchers (who proposes configs): each is a ray.tune.search.Searcher.

``random`` and ``grid`` sample the Space directly; ``optuna`` (TPE) and ``nevergrad`` (NGOpt
or any Nevergrad optimizer) go through Ray Tune's own integrations with the Space compiled
for them. Register a new one with :func:`register_searcher`; the contract suite in
``tests/searchers`` then runs it.

Example:
    >>> "optuna" in list_searchers()
    True
"""

from __future__ import annotations

from automl_nn.searchers import _nevergrad, _optuna, _random  # noqa: F401  (they register)
from automl_nn.searchers._random import GridSearcher, RandomSearcher
from automl_nn.searchers._registry import (
    SearcherSettings,
    check_searcher,
    list_searchers,
    make_searcher,
    register_searcher,
)

__all__ = [
    "GridSearcher",
    "RandomSearcher",
    "SearcherSettings",
    "check_searcher",
    "list_searchers",
    "make_searcher",
    "register_searcher",
]
