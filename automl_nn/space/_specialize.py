"""Fit a space to one data set: keep the choice options whose ``$when`` guard matches."""

from __future__ import annotations

from collections.abc import Sequence

from automl_nn.errors import DataError, SpaceError, one_of
from automl_nn.space._nodes import (
    INPUT_KINDS,
    Choice,
    Node,
    Option,
    Repeat,
    Tree,
    child_path,
    index_path,
    option_path,
)
from automl_nn.vocabulary import TASK_KINDS


def check_kinds(task: str, input_kind: str) -> None:
    """Raise SpaceError unless ``task`` and ``input_kind`` are known kinds."""
    if task not in TASK_KINDS:
        raise SpaceError("task", task, one_of(TASK_KINDS))
    if input_kind not in INPUT_KINDS:
        raise SpaceError("input_kind", input_kind, one_of(INPUT_KINDS))


def specialize(node: Node, path: str, task: str, input_kind: str) -> Node:
    """Drop options whose guard does not match, and the guards of the options kept."""
    if isinstance(node, Tree):
        children = {
            key: specialize(child, child_path(path, key), task, input_kind)
            for key, child in node.children.items()
        }
        return Tree(children, node.source)
    if isinstance(node, Repeat):
        each = specialize(node.each, index_path(path, "*"), task, input_kind)
        return Repeat(node.low, node.high, each, node.source)
    if not isinstance(node, Choice):
        return node
    kept = [
        Option(specialize(option.node, option_path(path, label), task, input_kind))
        for label, option in node.labelled_options()
        if option.when is None or option.when.matches(task, input_kind)
    ]
    if not kept:
        expected = f"at least one option whose $when fits task={task}, input={input_kind}"
        raise SpaceError(path or "space", list(node.labels), expected, where=node.source)
    return Choice(tuple(kept), node.is_grid, node.source)


def input_kind_of(input_shape: Sequence[int]) -> str:
    """The ``$when`` input kind of samples of shape ``input_shape`` (one sample, no batch).

    Example:
        >>> input_kind_of((13,)), input_kind_of((1, 40)), input_kind_of((1, 8, 8))
        ('tabular', 'sequence', 'image')
    """
    for kind, rank in INPUT_KINDS.items():
        if len(input_shape) == rank:
            return kind
    expected = "a shape of rank 1 (tabular), 2 (sequence: channels, length) or 3 (image)"
    raise DataError("input_shape", tuple(input_shape), expected)
