"""``cnn``: a plain stack of convolutions, 1-D for sequences and 2-D for images."""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from automl_nn.models import _rules
from automl_nn.models._layers import (
    activation_layer,
    conv_norm,
    global_pooling,
    head,
    pooling_layer,
    strided_size,
)
from automl_nn.models._registry import register_model_family


@register_model_family(
    "cnn",
    defaults={
        "depth": 3,
        "channels": 32,
        "channel_growth": 1.0,
        "kernel_size": 3,
        "stride": 1,
        "dilation": 1,
        "dilation_growth": 1,
        "pooling": "none",
        "global_pool": "avg",
        "activation": "relu",
    },
    input_ranks=(2, 3),
    rules={
        "depth": _rules.positive_int,
        "channels": _rules.positive_int,
        "channel_growth": _rules.positive_number,
        "kernel_size": _rules.odd_positive_int,
        "stride": _rules.positive_int,
        "dilation": _rules.positive_int,
        "dilation_growth": _rules.positive_int,
        "pooling": _rules.choice("none", "max", "avg"),
        "global_pool": _rules.choice("avg", "max", "flatten"),
    },
)
def build_cnn(
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_outputs: int,
    dropout: float,
    batch_norm: bool,
) -> nn.Module:
    """``depth`` conv layers, global pooling, dropout and a linear head.

    Layer ``i`` has ``round(channels * channel_growth**i)`` channels (at least 1) and dilation
    ``dilation * dilation_growth**i``; each is conv, batch norm (if asked), activation, then
    size-2 pooling (if asked) while every spatial dimension is at least 2, so pooling never
    shrinks the input to nothing.
    """
    rank = len(input_shape)
    in_channels, spatial = input_shape[0], list(input_shape[1:])
    layers: list[nn.Module] = []
    for index in range(config["depth"]):
        out_channels = max(1, round(config["channels"] * config["channel_growth"] ** index))
        layers += conv_norm(
            rank,
            in_channels,
            out_channels,
            config["kernel_size"],
            batch_norm=batch_norm,
            stride=config["stride"],
            dilation=config["dilation"] * config["dilation_growth"] ** index,
        )
        layers.append(activation_layer(config["activation"]))
        spatial = strided_size(spatial, config["stride"])
        if config["pooling"] != "none" and min(spatial) >= 2:
            layers.append(pooling_layer(config["pooling"], rank))
            spatial = [size // 2 for size in spatial]
        in_channels = out_channels
    features = in_channels * (math.prod(spatial) if config["global_pool"] == "flatten" else 1)
    layers += global_pooling(config["global_pool"], rank)
    layers += head(features, num_outputs, dropout)
    return nn.Sequential(*layers)
