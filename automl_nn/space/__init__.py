"""The search-space language: parameters, conditionals, YAML files, and their compilation.

A search space is the trial-config tree with parameters in its leaves. Write it in YAML
(``search_spaces/README.md`` documents the language) or in Python with the builders here,
then compile it for a searcher: random samples, grids, Optuna define-by-run, Nevergrad, or a
sequence of discrete decisions. This package imports neither torch nor Ray; optuna and
nevergrad are imported only by the methods that use them.

Example:
    >>> import random
    >>> from automl_nn.space import load_space
    >>> space = load_space("quick").specialize(task="multiclass", input_kind="image")
    >>> sorted(space.sample(random.Random(0)))
    ['loss', 'model', 'optimizer', 'regularization', 'schedule', 'training']
"""

from __future__ import annotations

from automl_nn.space._builders import choice, grid, integer, loguniform, quantized, uniform
from automl_nn.space._configs import flatten_config
from automl_nn.space._decisions import Decision, active_decisions
from automl_nn.space._nodes import INPUT_KINDS
from automl_nn.space._space import Space, load_space
from automl_nn.space._specialize import input_kind_of
from automl_nn.space._yaml import list_spaces, search_spaces_dir

__all__ = [
    "INPUT_KINDS",
    "Decision",
    "Space",
    "active_decisions",
    "choice",
    "flatten_config",
    "grid",
    "input_kind_of",
    "integer",
    "list_spaces",
    "load_space",
    "loguniform",
    "quantized",
    "search_spaces_dir",
    "uniform",
]
