"""automl_nn: AutoML and neural architecture search for PyTorch on Ray Tune and MLflow.

Example:
    >>> import automl_nn
    >>> data = automl_nn.load_dataset("wine")
    >>> result = automl_nn.fit({"model": {"family": "mlp"}, "training": {"epochs": 2}}, data)
    >>> sorted(result.metrics)[:2]
    ['val_accuracy', 'val_f1']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it. Imported on first use so that `automl-nn --help`
# and the torch-free rooms (space, vocabulary) start without loading torch or Ray.
_PUBLIC_NAMES: dict[str, str] = {
    "load_dataset": "automl_nn.data",
    "list_datasets": "automl_nn.data",
    "from_arrays": "automl_nn.data",
    "from_csv": "automl_nn.data",
    "TaskData": "automl_nn.data",
    "fit": "automl_nn.training",
    "FitResult": "automl_nn.training",
    "SeedEnsemble": "automl_nn.training",
    "ConfigEnsemble": "automl_nn.training",
    "evaluate": "automl_nn.training",
    "cross_validate": "automl_nn.training",
    "search": "automl_nn.api",
    "resume": "automl_nn.api",
    "SearchResult": "automl_nn.results",
    "load_space": "automl_nn.space",
    "list_spaces": "automl_nn.space",
}

__all__ = ["__version__", *_PUBLIC_NAMES]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC_NAMES:
        return getattr(importlib.import_module(_PUBLIC_NAMES[name]), name)
    raise AttributeError(f"module 'automl_nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
