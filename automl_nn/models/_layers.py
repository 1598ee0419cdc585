"""Layer factories shared by the model families.

``rank`` is always the per-sample input rank: 2 (``(C, L)``) picks 1-D layers and
3 (``(C, H, W)``) picks 2-D layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

_ACTIVATION_LAYERS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}
_CONV: dict[int, type[nn.Module]] = {2: nn.Conv1d, 3: nn.Conv2d}
_BATCH_NORM: dict[int, type[nn.Module]] = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d}
_POOL: dict[tuple[str, int], type[nn.Module]] = {
    ("max", 2): nn.MaxPool1d,
    ("max", 3): nn.MaxPool2d,
    ("avg", 2): nn.AvgPool1d,
    ("avg", 3): nn.AvgPool2d,
}
_GLOBAL_POOL: dict[tuple[str, int], type[nn.Module]] = {
    ("max", 2): nn.AdaptiveMaxPool1d,
    ("max", 3): nn.AdaptiveMaxPool2d,
    ("avg", 2): nn.AdaptiveAvgPool1d,
    ("avg", 3): nn.AdaptiveAvgPool2d,
}


def activation_layer(name: str) -> nn.Module:
    """A fresh activation module for a name of ``vocabulary.ACTIVATIONS``."""
    return _ACTIVATION_LAYERS[name]()


def conv_norm(
    rank: int,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    *,
    batch_norm: bool,
    stride: int = 1,
    dilation: int = 1,
) -> list[nn.Module]:
    """A convolution that keeps the spatial size at stride 1, then batch norm if asked.

    With an odd kernel and this padding, each spatial size ``s`` becomes ``ceil(s / stride)``,
    so a convolution never shrinks a dimension below 1.
    """
    conv = _CONV[rank](
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=dilation * (kernel_size - 1) // 2,
        dilation=dilation,
        bias=not batch_norm,  # batch norm's shift makes a bias redundant
    )
    return [conv, _BATCH_NORM[rank](out_channels)] if batch_norm else [conv]


def strided_size(spatial: Sequence[int], stride: int) -> list[int]:
    """Spatial size after a :func:`conv_norm` with this stride."""
    return [math.ceil(size / stride) for size in spatial]


def linear_norm(in_features: int, out_features: int, *, batch_norm: bool) -> list[nn.Module]:
    """A linear layer, then batch norm if asked."""
    linear = nn.Linear(in_features, out_features, bias=not batch_norm)
    return [linear, nn.BatchNorm1d(out_features)] if batch_norm else [linear]


def pooling_layer(kind: str, rank: int) -> nn.Module:
    """Size-2, stride-2 ``"max"`` or ``"avg"`` pooling."""
    return _POOL[kind, rank](2)


def global_pooling(kind: str, rank: int) -> list[nn.Module]:
    """Layers that turn ``(batch, C, *spatial)`` into ``(batch, features)``.

    ``"avg"`` and ``"max"`` give ``C`` features; ``"flatten"`` keeps every position.
    """
    if kind == "flatten":
        return [nn.Flatten()]
    return [_GLOBAL_POOL[kind, rank](1), nn.Flatten()]


def head(in_features: int, num_outputs: int, dropout: float) -> list[nn.Module]:
    """Dropout (when > 0), then the linear layer that gives the logits."""
    linear = nn.Linear(in_features, num_outputs)
    return [nn.Dropout(dropout), linear] if dropout > 0 else [linear]
