"""A space as an ordered sequence of discrete decisions (for the RL controller and evolution).

Decisions come depth-first over the whole tree, a choice before the decisions inside its
options, so a controller that emits them in order always knows which ones are active.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automl_nn.errors import SpaceError
from automl_nn.space._nodes import Choice, Node, Numeric, Tree, child_path, option_path
from automl_nn.space._resolve import Assignment


@dataclass(frozen=True)
class Decision:
    """One step of a decision sequence.

    Attributes:
        path: the parameter's path, e.g. ``optimizer`` or ``optimizer[sgd].momentum``.
        options: what each option index stands for: for a choice, a scalar option's value or
            a sub-tree option's label; for a numeric parameter, its bin values.
        parent: the ``(decision index, option index)`` that makes this decision active;
            ``None`` when it is always active.
        numeric: whether ``options`` are the bins of a numeric range.

    Example:
        >>> Decision("optimizer", ("adam", "sgd")).options[1]
        'sgd'
    """

    path: str
    options: tuple[Any, ...]
    parent: tuple[int, int] | None = None
    numeric: bool = False


def collect_decisions(node: Node, num_bins: int) -> list[Decision]:
    """Every decision of the tree, depth-first; numeric ranges as ``num_bins`` bins."""
    if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 2:
        raise SpaceError("num_bins", num_bins, "an integer >= 2")
    decisions: list[Decision] = []
    _collect(node, "", None, num_bins, decisions)
    return decisions


def _collect(
    node: Node, path: str, parent: tuple[int, int] | None, num_bins: int, out: list[Decision]
) -> None:
    if isinstance(node, Tree):
        for key, child in node.children.items():
            _collect(child, child_path(path, key), parent, num_bins, out)
    elif isinstance(node, Choice):
        # A choice of one option decides nothing; its options inherit its own parent.
        index = len(out) if len(node.options) > 1 else None
        if index is not None:
            out.append(Decision(path, node.keys, parent))
        for option_index, (label, option) in enumerate(node.labelled_options()):
            option_parent = (index, option_index) if index is not None else parent
            _collect(option.node, option_path(path, label), option_parent, num_bins, out)
    elif isinstance(node, Numeric) and not node.is_degenerate:
        out.append(Decision(path, node.bins(num_bins), parent, numeric=True))


def active_decisions(decisions: Sequence[Decision], choices: Sequence[int]) -> list[int]:
    """Indices of the decisions that count, given the option index chosen at each one.

    A decision is active when it has no parent, or when its parent is active and took the
    option that leads to it. The choices at inactive positions are ignored.

    Example:
        >>> decisions = [
        ...     Decision("optimizer", ("adam", "sgd")),
        ...     Decision("optimizer[sgd].momentum", (0.0, 0.9), parent=(0, 1), numeric=True),
        ... ]
        >>> active_decisions(decisions, [0, 1]), active_decisions(decisions, [1, 1])
        ([0], [0, 1])
    """
    _check_length(decisions, choices)
    active = [False] * len(decisions)
    for index, decision in enumerate(decisions):
        parent = decision.parent
        active[index] = parent is None or (active[parent[0]] and choices[parent[0]] == parent[1])
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
