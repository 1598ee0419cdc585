"""Nevergrad parametrization: a tree of ``ng.p`` parameters that keeps the conditionals.

A choice becomes ``ng.p.Choice`` over ``(option index, option parameter)`` tuples, so
Nevergrad only draws the parameters of the option it takes, and the value says which
option that was. A repeat becomes ``(count, (copy 0, ..., copy high - 1))``: every copy has
its own parameters, and those past the count are ignored, so a change of count keeps the
copies that stay.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from automl_nn.space._nodes import Choice, Constant, Node, Repeat, Tree

if TYPE_CHECKING:
    import nevergrad as ng


def to_nevergrad(node: Node) -> ng.p.Parameter:
    """The Nevergrad parameter of a tree (nevergrad is imported here, on first use)."""
    import nevergrad as ng

    return _parameter(node, ng)


def _parameter(node: Node, ng: Any) -> Any:
    if isinstance(node, Constant):
        return copy.deepcopy(node.value)
    if isinstance(node, Tree):
        return ng.p.Dict(**{key: _parameter(child, ng) for key, child in node.children.items()})
    if isinstance(node, Choice):
        options = [ng.p.Tuple(i, _parameter(o.node, ng)) for i, o in enumerate(node.options)]
        return ng.p.Choice(options)
    if isinstance(node, Repeat):
        copies = ng.p.Tuple(*(_parameter(node.each, ng) for _ in range(node.high)))
        return ng.p.Tuple(_parameter(node.count, ng), copies)
    if node.is_degenerate:
        return node.top
    kind = ng.p.Log if node.log else ng.p.Scalar
    parameter = kind(lower=node.low, upper=node.high)
    return parameter.set_integer_casting() if node.integer else parameter


def from_nevergrad(node: Node, value: Any) -> Any:
    """The config of a Nevergrad value (``parameter.value``) of :func:`to_nevergrad`."""
    if isinstance(node, Constant):
        return copy.deepcopy(node.value)
    if isinstance(node, Tree):
        return {key: from_nevergrad(child, value[key]) for key, child in node.children.items()}
    if isinstance(node, Choice):
        index, option_value = value
        return from_nevergrad(node.options[index].node, option_value)
    if isinstance(node, Repeat):
        count_value, copies = value
        count = from_nevergrad(node.count, count_value)
        return [from_nevergrad(node.each, item) for item in copies[:count]]
    return node.top if node.is_degenerate else node.finalize(float(value))
