"""``chain``: a searched chain of layers, each with its own operation and width (NAS).

A config lists its layers; the depth is the list's length::

    {"family": "chain", "stem_channels": 32,
     "layers": [{"op": "conv5", "width": 64}, {"op": "skip"}, {"op": "maxpool"}]}

The ops that take a ``width`` (the layer's output channels or features) need one; the others
keep their input's channels. Which ops fit depends on the input:

- sequences ``(C, L)`` and images ``(C, H, W)``: ``conv3``, ``conv5``, ``conv7`` (kernel
  3/5/7), ``dilconv3`` (kernel 3, dilation 2), ``sepconv3`` (depthwise-separable, kernel 3),
  ``residual`` (a two-convolution residual block), ``skip``, ``maxpool`` and ``avgpool``
  (size 2, stride 2; identity once a spatial size is below 2, so nothing shrinks to 0);
- tabular ``(F,)``: ``linear``, ``residual`` (a two-linear residual block), ``skip``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from automl_nn.errors import ConfigError, one_of
from automl_nn.models import _rules
from automl_nn.models._layers import (
    activation_layer,
    conv_norm,
    global_pooling,
    head,
    linear_norm,
    pooling_layer,
)
from automl_nn.models._registry import register_model_family
from automl_nn.models._resnet import ResidualBlock


@dataclass(frozen=True)
class _LayerInput:
    """What one layer is built for: its input's rank, channels and spatial size."""

    rank: int
    channels: int
    spatial: tuple[int, ...]
    activation: str
    batch_norm: bool


OpBuilder = Callable[[_LayerInput, int], nn.Module]


def _conv(kernel_size: int, dilation: int = 1) -> OpBuilder:
    def build(given: _LayerInput, width: int) -> nn.Module:
        conv = conv_norm(
            given.rank,
            given.channels,
            width,
            kernel_size,
            batch_norm=given.batch_norm,
            dilation=dilation,
        )
        return nn.Sequential(*conv, activation_layer(given.activation))

    return build


def _separable_conv(given: _LayerInput, width: int) -> nn.Module:
    """A depthwise kernel-3 convolution, then a pointwise one to ``width`` channels."""
    depthwise_class = (nn.Conv1d, nn.Conv2d)[given.rank - 2]
    depthwise = depthwise_class(
        given.channels, given.channels, 3, padding=1, groups=given.channels, bias=False
    )
    pointwise = conv_norm(given.rank, given.channels, width, 1, batch_norm=given.batch_norm)
    return nn.Sequential(depthwise, *pointwise, activation_layer(given.activation))


def _residual_conv(given: _LayerInput, width: int) -> nn.Module:
    return ResidualBlock(
        given.rank,
        given.channels,
        width,
        kernel_size=3,
        stride=1,
        activation=given.activation,
        batch_norm=given.batch_norm,
    )


def _pool(kind: str) -> OpBuilder:
    def build(given: _LayerInput, width: int) -> nn.Module:
        return pooling_layer(kind, given.rank) if _can_pool(given.spatial) else nn.Identity()

    return build


def _skip(given: _LayerInput, width: int) -> nn.Module:
    return nn.Identity()


def _linear(given: _LayerInput, width: int) -> nn.Module:
    linear = linear_norm(given.channels, width, batch_norm=given.batch_norm)
    return nn.Sequential(*linear, activation_layer(given.activation))


class ResidualLinearBlock(nn.Module):
    """``activation(branch(x) + shortcut(x))`` with a two-linear-layer branch.

    The shortcut is the identity, or a linear projection where the width changes.
    """

    def __init__(self, in_features: int, width: int, *, activation: str, batch_norm: bool):
        super().__init__()
        self.branch = nn.Sequential(
            *linear_norm(in_features, width, batch_norm=batch_norm),
            activation_layer(activation),
            *linear_norm(width, width, batch_norm=batch_norm),
        )
        if in_features == width:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(*linear_norm(in_features, width, batch_norm=batch_norm))
        self.activation = activation_layer(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.branch(x) + self.shortcut(x))


def _residual_linear(given: _LayerInput, width: int) -> nn.Module:
    return ResidualLinearBlock(
        given.channels, width, activation=given.activation, batch_norm=given.batch_norm
    )


# Ops by input rank: the tabular ops, and the ops of sequences and images.
_TABULAR_OPS: dict[str, OpBuilder] = {
    "linear": _linear,
    "residual": _residual_linear,
    "skip": _skip,
}
_SPATIAL_OPS: dict[str, OpBuilder] = {
    "conv3": _conv(3),
    "conv5": _conv(5),
    "conv7": _conv(7),
    "dilconv3": _conv(3, dilation=2),
    "sepconv3": _separable_conv,
    "residual": _residual_conv,
    "skip": _skip,
    "maxpool": _pool("max"),
    "avgpool": _pool("avg"),
}
_OPS_BY_RANK: dict[int, dict[str, OpBuilder]] = {1: _TABULAR_OPS, 2: _SPATIAL_OPS, 3: _SPATIAL_OPS}
_INPUT_KINDS: dict[int, str] = {1: "tabular", 2: "sequence", 3: "image"}

CHAIN_OPS: tuple[str, ...] = tuple(sorted({*_TABULAR_OPS, *_SPATIAL_OPS}))
WIDTH_OPS: frozenset[str] = frozenset(
    {"conv3", "conv5", "conv7", "dilconv3", "sepconv3", "residual", "linear"}
)
_POOL_OPS: frozenset[str] = frozenset({"maxpool", "avgpool"})


def _can_pool(spatial: tuple[int, ...]) -> bool:
    return min(spatial) >= 2


def check_layers(field: str, value: Any) -> list[dict[str, Any]]:
    """The rule of ``model.layers``: a list of ``{op, width}`` mappings (width where needed).

    Example:
        >>> check_layers("model.layers", [{"op": "conv3", "width": 16.0}, {"op": "skip"}])
        [{'op': 'conv3', 'width': 16}, {'op': 'skip'}]
        >>> check_layers("model.layers", [{"op": "skip", "width": 16}])
        Traceback (most recent call last):
        ...
        automl_nn.errors.ConfigError: model.layers[0].width = 16 is not valid: expected ...
    """
    if not isinstance(value, (list, tuple)):
        raise ConfigError(field, value, "a list of layers, each a mapping {op, width}")
    return [_check_layer(f"{field}[{index}]", layer) for index, layer in enumerate(value)]


def _check_layer(field: str, layer: Any) -> dict[str, Any]:
    if not isinstance(layer, Mapping) or "op" not in layer:
        raise ConfigError(field, layer, f"a mapping with an op: {one_of(CHAIN_OPS)}")
    op = _rules.choice(*CHAIN_OPS)(f"{field}.op", layer["op"])
    keys = ("op", "width") if op in WIDTH_OPS else ("op",)
    for key in layer:
        if key not in keys:
            raise ConfigError(f"{field}.{key}", layer[key], f"a key of op {op!r}: {one_of(keys)}")
    if op not in WIDTH_OPS:
        return {"op": op}
    return {"op": op, "width": _rules.positive_int(f"{field}.width", layer.get("width"))}


def _check_op_fits(field: str, op: str, rank: int) -> None:
    ops = _OPS_BY_RANK[rank]
    if op not in ops:
        raise ConfigError(field, op, f"an op for {_INPUT_KINDS[rank]} input: {one_of(ops)}")


def check_layers_fit_input(config: dict[str, Any], input_shape: tuple[int, ...]) -> None:
    """Every layer's op fits the input's rank (no ``conv3`` on tabular data).

    Example:
        >>> check_layers_fit_input({"layers": [{"op": "conv3", "width": 8}]}, (13,))
        Traceback (most recent call last):
        ...
        automl_nn.errors.ConfigError: model.layers[0].op = 'conv3' is not valid: ...
    """
    for index, layer in enumerate(config["layers"]):
        _check_op_fits(f"model.layers[{index}].op", layer["op"], len(input_shape))


@register_model_family(
    "chain",
    defaults={
        "stem_channels": 32,
        "layers": [{"op": "residual", "width": 32}, {"op": "residual", "width": 64}],
        "activation": "relu",
    },
    input_ranks=(1, 2, 3),
    rules={"stem_channels": _rules.positive_int, "layers": check_layers},
    input_check=check_layers_fit_input,
)
def build_chain(
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_outputs: int,
    dropout: float,
    batch_norm: bool,
) -> nn.Module:
    """A stem, one module per layer of ``layers``, global average pooling, dropout, a head.

    The stem is a kernel-3 convolution (a linear layer on tabular input) to
    ``stem_channels``, with batch norm (if asked) and the activation. The model's children
    are ``stem``, ``layers`` (``model.layers[i]`` is the module of ``layers[i]``) and ``head``.

    Raises:
        ConfigError: a layer's op does not fit the input (``conv3`` on tabular data).
    """
    rank, activation = len(input_shape), config["activation"]
    stem_channels = config["stem_channels"]
    if rank == 1:
        stem = linear_norm(input_shape[0], stem_channels, batch_norm=batch_norm)
    else:
        stem = conv_norm(rank, input_shape[0], stem_channels, 3, batch_norm=batch_norm)
    given = _LayerInput(rank, stem_channels, tuple(input_shape[1:]), activation, batch_norm)
    layers = []
    for index, layer in enumerate(config["layers"]):
        module, given = _build_layer(f"model.layers[{index}]", layer, given)
        layers.append(module)
    pooling = global_pooling("avg", rank) if rank > 1 else []
    return nn.Sequential(
        OrderedDict(
            stem=nn.Sequential(*stem, activation_layer(activation)),
            layers=nn.Sequential(*layers),
            head=nn.Sequential(*pooling, *head(given.channels, num_outputs, dropout)),
        )
    )


def _build_layer(
    field: str, layer: dict[str, Any], given: _LayerInput
) -> tuple[nn.Module, _LayerInput]:
    """The module of one layer, and what the next layer is built for."""
    ops = _OPS_BY_RANK[given.rank]
    _check_op_fits(f"{field}.op", layer["op"], given.rank)
    width = layer.get("width", given.channels)
    module = ops[layer["op"]](given, width)
    spatial = given.spatial
    if layer["op"] in _POOL_OPS and _can_pool(spatial):
        spatial = tuple(size // 2 for size in spatial)
    return module, replace(given, channels=width, spatial=spatial)
