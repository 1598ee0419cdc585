"""A space as an ordered sequence of discrete decisions (for the RL controller and evolution).

Decisions come depth-first over the whole tree, a choice before the decisions inside its
options and a repeat's count before the decisions of its copies, so a controller that emits
them in order always knows which ones are active.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automl_nn.errors import SpaceError
from automl_nn.space._nodes import (
    Choice,
    Node,
    Numeric,
    Repeat,
    Tree,
    child_path,
    index_path,
    option_path,
)
from automl_nn.space._resolve import Assignment


@dataclass(frozen=True)
class Decision:
    """One step of a decision sequence.

    Attributes:
        path: the parameter's path, e.g. ``optimizer`` or ``optimizer[sgd].momentum``.
        options: what each option index stands for: for a choice, a scalar option's value or
            a sub-tree option's label; for a numeric parameter, its bin values; for the count
            of a repeat, every count from low to high.
        parent: ``(decision index, option indices)``: this decision is active when that
            decision is active and took one of those options (a choice: the option holding
            this decision; a repeat's count: the counts that reach this decision's copy);
            ``None`` when it is always active.
        numeric: whether ``options`` are ordered numbers (a range's bins, a repeat's counts).

    Example:
        >>> Decision("optimizer", ("adam", "sgd")).options[1]
        'sgd'
    """

    path: str
    options: tuple[Any, ...]
    parent: tuple[int, tuple[int, ...]] | None = None
    numeric: bool = False


def collect_decisions(node: Node, num_bins: int) -> list[Decision]:
    """Every decision of the tree, depth-first; numeric ranges as ``num_bins`` bins."""
    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 2:
        raise SpaceError("num_bins", num_bins, "an integer >= 2")
    decisions: list[Decision] = []
    _collect(node, "", None, num_bins, decisions)
    return decisions


Parent = tuple[int, tuple[int, ...]] | None


def _collect(node: Node, path: str, parent: Parent, num_bins: int, out: list[Decision]) -> None:
    if isinstance(node, Tree):
        for key, child in node.children.items():
            _collect(child, child_path(path, key), parent, num_bins, out)
    elif isinstance(node, Choice):
        # A choice of one option decides nothing; its options inherit its own parent.
        index = len(out) if len(node.options) > 1 else None
        if index is not None:
            out.append(Decision(path, node.keys, parent))
        for option_index, (label, option) in enumerate(node.labelled_options()):
            option_parent = (index, (option_index,)) if index is not None else parent
            _collect(option.node, option_path(path, label), option_parent, num_bins, out)
    elif isinstance(node, Repeat):
        _collect_repeat(node, path, parent, num_bins, out)
    elif isinstance(node, Numeric) and not node.is_degenerate:
        out.append(Decision(path, node.bins(num_bins), parent, numeric=True))


def _collect_repeat(
    node: Repeat, path: str, parent: Parent, num_bins: int, out: list[Decision]
) -> None:
    """The count (unless fixed), then every copy up to ``high``; copy ``i`` needs count > i."""
    index = len(out) if not node.count.is_degenerate else None
    if index is not None:
        out.append(Decision(path, node.counts, parent, numeric=True))
    for position in range(node.high):
        copy_parent = parent
        if index is not None and position >= node.low:
            # Option k of the count is low + k copies: copy i exists when k > i - low.
            copy_parent = (index, tuple(range(position - node.low + 1, len(node.counts))))
        _collect(node.each, index_path(path, position), copy_parent, num_bins, out)


def active_decisions(decisions: Sequence[Decision], choices: Sequence[int]) -> list[int]:
    """Indices of the decisions that count, given the option index chosen at each one.

    A decision is active when it has no parent, or when its parent is active and took one of
    the options that lead to it. The choices at inactive positions are ignored.

    Example:
        >>> decisions = [
        ...     Decision("optimizer", ("adam", "sgd")),
        ...     Decision("optimizer[sgd].momentum", (0.0, 0.9), parent=(0, (1,)), numeric=True),
        ... ]
        >>> active_decisions(decisions, [0, 1]), active_decisions(decisions, [1, 1])
        ([0], [0, 1])
    """
    _check_length(decisions, choices)
    active = [False] * len(decisions)
    for index, decision in enumerate(decisions):
        parent = decision.parent
        active[index] = parent is None or (active[parent[0]] and choices[parent[0]] in parent[1])
    return [index for index, is_active in enumerate(active) if is_active]


def decision_assignment(decisions: Sequence[Decision], choices: Sequence[int]) -> Assignment:
    """The assignment (path -> option index or value) that ``choices`` make."""
    assignment: Assignment = {}
    for index in active_decisions(decisions, choices):
        decision, choice = decisions[index], choices[index]
        count = len(decision.options)
        # numbers.Integral also admits the numpy ints a controller may hand in.
        if (
            isinstance(choice, bool)
            or not isinstance(choice, numbers.Integral)
            or not 0 <= choice < count
        ):
            field = f"choices[{index}] ({decision.path})"
            raise SpaceError(field, choice, f"an option index in 0..{count - 1}")
        assignment[decision.path] = decision.options[choice] if decision.numeric else int(choice)
    return assignment


def _check_length(decisions: Sequence[Decision], choices: Sequence[int]) -> None:
    if len(choices) != len(decisions):
        raise SpaceError(
            "choices", list(choices), f"{len(decisions)} option indices, one per decision"
        )
