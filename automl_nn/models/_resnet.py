"""``resnet``: residual blocks in stages, 1-D for sequences and 2-D for images."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from automl_nn.models import _rules
from automl_nn.models._layers import activation_layer, conv_norm, global_pooling, head
from automl_nn.models._registry import register_model_family


class ResidualBlock(nn.Module):
    """``activation(branch(x) + shortcut(x))`` with a two-convolution branch.

    The shortcut is the identity, or a 1x1 convolution where the block changes the number of
    channels or strides.
    """

    def __init__(
        self,
        rank: int,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int,
        stride: int,
        activation: str,
        batch_norm: bool,
    ) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            *conv_norm(
                rank, in_channels, out_channels, kernel_size, batch_norm=batch_norm, stride=stride
            ),
            activation_layer(activation),
            *conv_norm(rank, out_channels, out_channels, kernel_size, batch_norm=batch_norm),
        )
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                *conv_norm(rank, in_channels, out_channels, 1, batch_norm=batch_norm, stride=stride)
            )
        self.activation = activation_layer(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.branch(x) + self.shortcut(x))


@register_model_family(
    "resnet",
    defaults={"stages": 2, "blocks": 2, "channels": 32, "kernel_size": 3, "activation": "relu"},
    input_ranks=(2, 3),
    rules={
        "stages": _rules.positive_int,
        "blocks": _rules.positive_int,
        "channels": _rules.positive_int,
        "kernel_size": _rules.odd_positive_int,
    },
)
def build_resnet(
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_outputs: int,
    dropout: float,
    batch_norm: bool,
) -> nn.Module:
    """A conv stem, ``stages`` stages of ``blocks`` residual blocks, average pooling, a head.

    Stage ``s`` has ``channels * 2**s`` channels; every stage after the first opens with a
    stride-2 block, halving each spatial size (rounding up, so never below 1).
    """
    rank = len(input_shape)
    kernel_size, activation = config["kernel_size"], config["activation"]
    layers: list[nn.Module] = [
        *conv_norm(rank, input_shape[0], config["channels"], kernel_size, batch_norm=batch_norm),
        activation_layer(activation),
    ]
    in_channels = config["channels"]
    for stage in range(config["stages"]):
        out_channels = config["channels"] * 2**stage
        for block in range(config["blocks"]):
            layers.append(
                ResidualBlock(
                    rank,
                    in_channels,
                    out_channels,
                    kernel_size=kernel_size,
                    stride=2 if stage > 0 and block == 0 else 1,
                    activation=activation,
                    batch_norm=batch_norm,
                )
            )
            in_channels = out_channels
    layers += global_pooling("avg", rank)
    layers += head(in_channels, num_outputs, dropout)
    return nn.Sequential(*layers)
