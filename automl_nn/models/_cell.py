"""``cell``: a NAS-Bench-201 cell stacked in stages, 1-D for sequences and 2-D for images.

A cell is a small DAG of 4 nodes: node 0 is the cell's input, node ``j`` the sum of one op
applied to each earlier node, and node 3 the cell's output. ``edges`` names the op of each of
the 6 edges in NAS-Bench-201's order: ``(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)``::

    {"family": "cell", "channels": 16, "cells_per_stage": 2, "stages": 2,
     "edges": ["conv3", "conv3", "conv3", "skip", "conv3", "conv3"]}

Edge ops keep channels and spatial size: ``none`` (zeros: the edge is left out), ``skip``,
``conv1`` and ``conv3`` (activation, convolution, batch norm if asked; NAS-Bench-201's
``nor_conv_1x1`` and ``nor_conv_3x3``) and ``avgpool3`` (3-wide average pooling, stride 1).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from automl_nn.errors import ConfigError
from automl_nn.models import _rules
from automl_nn.models._layers import activation_layer, conv_norm, global_pooling, head
from automl_nn.models._registry import register_model_family
from automl_nn.models._resnet import ResidualBlock

EDGE_OPS: tuple[str, ...] = ("none", "skip", "conv1", "conv3", "avgpool3")
# (target node, source node) of each edge, in the order of ``edges``.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
_OUTPUT_NODE = 3


def check_edges(field: str, value: Any) -> list[str]:
    """The rule of ``model.edges``: a list of 6 ops of :data:`EDGE_OPS`.

    Example:
        >>> check_edges("model.edges", ("conv3", "skip", "none", "conv1", "avgpool3", "skip"))
        ['conv3', 'skip', 'none', 'conv1', 'avgpool3', 'skip']
    """
    if not isinstance(value, (list, tuple)) or len(value) != len(EDGES):
        order = ", ".join(f"({target}<-{source})" for target, source in EDGES)
        raise ConfigError(field, value, f"a list of {len(EDGES)} edge ops, for edges {order}")
    check_op = _rules.choice(*EDGE_OPS)
    return [check_op(f"{field}[{index}]", op) for index, op in enumerate(value)]


def live_edges(edges: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(source, target, op)`` of the edges that carry the cell's input to its output.

    An edge is left out when its op is ``none``, when no path of ops reaches its source from
    node 0, or when none leads from its target to node 3: it could not change the output, and
    its parameters would never get a gradient.

    Example:
        >>> live_edges(["conv3", "none", "none", "skip", "conv1", "none"])
        [(0, 1, 'conv3'), (0, 3, 'skip'), (1, 3, 'conv1')]
    """
    # EDGES is sorted by target, so each node is settled before an edge leaves it.
    links = [
        (source, target, op)
        for (target, source), op in zip(EDGES, edges, strict=True)
        if op != "none"
    ]
    reached = {0}
    for source, target, _ in links:
        if source in reached:
            reached.add(target)
    leading = {_OUTPUT_NODE}
    for source, target, _ in reversed(links):
        if target in leading:
            leading.add(source)
    return [link for link in links if link[0] in reached and link[1] in leading]


def _edge_op(op: str, rank: int, channels: int, activation: str, batch_norm: bool) -> nn.Module:
    if op == "skip":
        return nn.Identity()
    if op == "avgpool3":
        pool_class = (nn.AvgPool1d, nn.AvgPool2d)[rank - 2]
        return pool_class(3, stride=1, padding=1, count_include_pad=False)
    kernel_size = {"conv1": 1, "conv3": 3}[op]
    conv = conv_norm(rank, channels, channels, kernel_size, batch_norm=batch_norm)
    return nn.Sequential(activation_layer(activation), *conv)


class Cell(nn.Module):
    """One NAS-Bench-201 cell over ``channels`` channels; ``ops[i]`` is live edge ``i``.

    Node 3 (the output) is zeros when no live edge reaches it.
    """

    def __init__(
        self, rank: int, channels: int, edges: Sequence[str], *, activation: str, batch_norm: bool
    ) -> None:
        super().__init__()
        live = live_edges(edges)
        self.links = [(source, target) for source, target, _ in live]
        self.ops = nn.ModuleList(
            _edge_op(op, rank, channels, activation, batch_norm) for _, _, op in live
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * _OUTPUT_NODE
        for (source, target), op in zip(self.links, self.ops, strict=True):
            out = op(nodes[source])
            total = nodes[target]
            nodes[target] = out if total is None else total + out
        output = nodes[_OUTPUT_NODE]
        return torch.zeros_like(x) if output is None else output


@register_model_family(
    "cell",
    defaults={
        "channels": 16,
        "cells_per_stage": 2,
        "stages": 2,
        "edges": ["conv3", "conv3", "conv3", "skip", "conv3", "conv3"],
        "activation": "relu",
    },
    input_ranks=(2, 3),
    rules={
        "channels": _rules.positive_int,
        "cells_per_stage": _rules.positive_int,
        "stages": _rules.positive_int,
        "edges": check_edges,
    },
)
def build_cell(
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_outputs: int,
    dropout: float,
    batch_norm: bool,
) -> nn.Module:
    """A kernel-3 conv stem, ``stages`` stages of ``cells_per_stage`` cells, pooling, a head.

    Stage ``s`` has ``channels * 2**s`` channels; between stages a stride-2 residual block
    doubles the channels and halves each spatial size (rounding up, so never below 1), as in
    NAS-Bench-201. The head is the activation, global average pooling, dropout and a linear
    layer. The model's children are ``stem``, ``cells`` (cells and reductions, in order) and
    ``head``.
    """
    rank, activation = len(input_shape), config["activation"]
    channels = config["channels"]
    body: list[nn.Module] = []
    for stage in range(config["stages"]):
        if stage > 0:
            body.append(
                ResidualBlock(
                    rank,
                    channels,
                    channels * 2,
                    kernel_size=3,
                    stride=2,
                    activation=activation,
                    batch_norm=batch_norm,
                )
            )
            channels *= 2
        body += [
            Cell(rank, channels, config["edges"], activation=activation, batch_norm=batch_norm)
            for _ in range(config["cells_per_stage"])
        ]
    stem = conv_norm(rank, input_shape[0], config["channels"], 3, batch_norm=batch_norm)
    return nn.Sequential(
        OrderedDict(
            stem=nn.Sequential(*stem),
            cells=nn.Sequential(*body),
            head=nn.Sequential(
                activation_layer(activation),
                *global_pooling("avg", rank),
                *head(channels, num_outputs, dropout),
            ),
        )
    )
