"""Searchers (who proposes configs): each is a ray.tune.search.Searcher.

``random`` and ``grid`` sample the Space directly; ``optuna`` (TPE) and ``nevergrad`` (NGOpt
or any Nevergrad optimizer) go through Ray Tune's own integrations with the Space compiled
for them; ``rl`` (an LSTM controller trained by REINFORCE) and ``evolution`` (regularized
evolution) work on the Space as a sequence of discrete decisions. Register a new one with
:func:`register_searcher`; the contract suite in ``tests/searchers`` then runs it.

Example:
    >>> "optuna" in list_searchers()
    True
"""

from __future__ import annotations

from automl_nn.searchers import (  # noqa: F401  (they register)
    _evolution,
    _nevergrad,
    _optuna,
    _random,
    _rl,
)
from automl_nn.searchers._evolution import EvolutionSearcher
from automl_nn.searchers._random import GridSearcher, RandomSearcher
from automl_nn.searchers._registry import (
    SearcherSettings,
    check_searcher,
    list_searchers,
    make_searcher,
    register_searcher,
)
from automl_nn.searchers._rl import ControllerSearcher

__all__ = [
    "ControllerSearcher",
    "EvolutionSearcher",
    "GridSearcher",
    "RandomSearcher",
    "SearcherSettings",
    "check_searcher",
    "list_searchers",
    "make_searcher",
    "register_searcher",
]
