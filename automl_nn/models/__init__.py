"""Model families behind one registry, and ``build_model``, the one way to make a model.

Every family lives in its own module and registers itself with
:func:`register_model_family`; ``model.family`` in a trial config picks one:

- ``mlp``: hidden linear layers over the flattened input (any input rank).
- ``cnn``: a stack of convolutions, 1-D for ``(C, L)`` and 2-D for ``(C, H, W)`` input.
- ``resnet``: stages of residual blocks, 1-D or 2-D.
- ``chain``: a searched chain of layers, each with its own op and width (NAS); conv ops for
  sequences and images, linear ops for tabular input.
- ``cell``: a searched NAS-Bench-201 cell (4 nodes, 6 edges) stacked in stages, 1-D or 2-D.

Example:
    >>> from types import SimpleNamespace
    >>> task = SimpleNamespace(input_shape=(13,), kind="multiclass", num_classes=3)
    >>> model = build_model({"family": "mlp", "widths": [64, 32]}, task, batch_norm=True)
    >>> count_parameters(model)
    3171
"""

from __future__ import annotations

# The family modules register themselves on import.
from automl_nn.models import _cell, _chain, _cnn, _mlp, _resnet  # noqa: F401
from automl_nn.models._build import ModelTask, build_model, count_parameters
from automl_nn.models._registry import (
    check_model_config,
    list_model_families,
    model_family_defaults,
    register_model_family,
)

__all__ = [
    "ModelTask",
    "build_model",
    "check_model_config",
    "count_parameters",
    "list_model_families",
    "model_family_defaults",
    "register_model_family",
]
