"""``mlp``: a multilayer perceptron over the flattened input; fits inputs of any rank."""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from automl_nn.models import _rules
from automl_nn.models._layers import activation_layer, linear_norm
from automl_nn.models._registry import register_model_family


@register_model_family(
    "mlp",
    defaults={"depth": 2, "width": 128, "widths": None, "activation": "relu"},
    input_ranks=(1, 2, 3),
    rules={
        "depth": _rules.positive_int,
        "width": _rules.positive_int,
        "widths": _rules.optional_positive_ints,
    },
)
def build_mlp(
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_outputs: int,
    dropout: float,
    batch_norm: bool,
) -> nn.Module:
    """Hidden layers of ``widths`` (or ``depth`` layers of ``width``), then a linear head.

    Each hidden layer is linear, batch norm (if asked), activation, dropout (if > 0).
    """
    widths = config["widths"] or [config["width"]] * config["depth"]
    layers: list[nn.Module] = [nn.Flatten()]
    in_features = math.prod(input_shape)
    for width in widths:
        layers += linear_norm(in_features, width, batch_norm=batch_norm)
        layers.append(activation_layer(config["activation"]))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_features = width
    layers.append(nn.Linear(in_features, num_outputs))
    return nn.Sequential(*layers)
