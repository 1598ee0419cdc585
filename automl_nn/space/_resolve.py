"""Turn a space into configs: one walk over the tree, with a picker making each decision.

Every way of drawing a config (random sampling, Optuna, grid, covering set, decision
sequences) is a :class:`Picker`. The walk visits only the options taken, so parameters of
an option not taken never reach a picker, and never appear in the config. A repeat's count is
picked as the int range ``low..high`` at the repeat's path; then only the copies that count
keeps are walked, copy ``i`` at ``path[i]``.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from automl_nn.space._nodes import (
    Choice,
    Constant,
    Node,
    Numeric,
    Repeat,
    Tree,
    child_path,
    index_path,
    option_path,
)

# Path of a parameter -> the option index (choice) or the value (numeric) it takes.
Assignment = dict[str, Any]


class Picker(Protocol):
    """Makes the decisions of one config, each named by the parameter's path."""

    def pick_option(self, path: str, choice: Choice) -> int:
        """The index of the option taken at ``path``."""
        ...

    def pick_number(self, path: str, number: Numeric) -> int | float:
        """The value taken by the numeric parameter at ``path``."""
        ...


def resolve(node: Node, picker: Picker, path: str = "") -> Any:
    """The config value of ``node``; a choice of one option and a one-value range ask nothing."""
    if isinstance(node, Constant):
        return copy.deepcopy(node.value)
    if isinstance(node, Tree):
        return {
            key: resolve(child, picker, child_path(path, key))
            for key, child in node.children.items()
        }
    if isinstance(node, Choice):
        index = picker.pick_option(path, node) if len(node.options) > 1 else 0
        label = node.labels[index]
        return resolve(node.options[index].node, picker, option_path(path, label))
    if isinstance(node, Repeat):
        count = resolve(node.count, picker, path)
        return [resolve(node.each, picker, index_path(path, index)) for index in range(count)]
    return picker.pick_number(path, node) if not node.is_degenerate else node.top


class RandomPicker:
    """Draws every decision from ``rng``: options uniformly, numbers on their (log) scale."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick_option(self, path: str, choice: Choice) -> int:
        return self.rng.randrange(len(choice.options))

    def pick_number(self, path: str, number: Numeric) -> int | float:
        return number.from_unit(self.rng.random())


class AssignmentPicker:
    """Takes decisions from an assignment; paths it lacks go to ``fallback``."""

    def __init__(self, assignment: Mapping[str, Any], fallback: Picker | None = None):
        self.assignment = assignment
        self.fallback = fallback

    def pick_option(self, path: str, choice: Choice) -> int:
        if path in self.assignment or self.fallback is None:
            return self.assignment[path]
        return self.fallback.pick_option(path, choice)

    def pick_number(self, path: str, number: Numeric) -> int | float:
        if path in self.assignment or self.fallback is None:
            return self.assignment[path]
        return self.fallback.pick_number(path, number)


def grid_size(node: Node) -> int:
    """How many configs :func:`grid_assignments` enumerates."""
    if isinstance(node, Tree):
        return math.prod(grid_size(child) for child in node.children.values())
    if isinstance(node, Choice):
        return sum(grid_size(option.node) for option in node.options)
    if isinstance(node, Repeat):
        return sum(grid_size(node.each) ** count for count in node.counts)
    return 1


def grid_assignments(node: Node, path: str = "") -> list[Assignment]:
    """Every combination of choice options, through conditionals (numbers left out).

    A repeat is a choice over its counts whose option ``count`` holds ``count`` copies.
    """
    if isinstance(node, Tree):
        per_child = [
            grid_assignments(child, child_path(path, key)) for key, child in node.children.items()
        ]
        return _product(per_child)
    if isinstance(node, Choice):
        return _per_option(node, path, grid_assignments)
    if isinstance(node, Repeat):
        return [
            {path: count, **assignment}
            for count in node.counts
            for assignment in _product(_copies(node, path, count, grid_assignments))
        ]
    return [{}]


def covering_assignments(node: Node, path: str = "") -> list[Assignment]:
    """A few assignments that take every option, and every range's low and top, at least once.

    A choice needs the covering sets of all its options one after another; a sub-tree needs
    as many as its most demanding child, the other children cycling through theirs. A repeat
    takes its high count once per covering set of ``each``, copy ``i`` of the ``n``-th taking
    set ``n + i`` (so every copy takes every set), then its low count.
    """
    if isinstance(node, Tree):
        per_child = [
            covering_assignments(child, child_path(path, key))
            for key, child in node.children.items()
        ]
        count = max((len(assignments) for assignments in per_child), default=1)
        return [
            _merged(assignments[index % len(assignments)] for assignments in per_child)
            for index in range(count)
        ]
    if isinstance(node, Choice):
        return _per_option(node, path, covering_assignments)
    if isinstance(node, Repeat):
        return _repeat_covering(node, path)
    if isinstance(node, Numeric):
        return [{path: value} for value in dict.fromkeys([node.finalize(node.low), node.top])]
    return [{}]


def _repeat_covering(node: Repeat, path: str) -> list[Assignment]:
    copies = _copies(node, path, node.high, covering_assignments)
    sets = len(copies[0]) if copies else 1  # every copy has as many sets as the first

    def covering(count: int, first: int) -> Assignment:
        chosen = (copies[index][(first + index) % sets] for index in range(count))
        return {path: count, **_merged(chosen)}

    high = [covering(node.high, first) for first in range(sets)]
    return high if node.low == node.high else [*high, covering(node.low, 0)]


def _copies(
    node: Repeat, path: str, count: int, assignments_of: Callable[[Node, str], list[Assignment]]
) -> list[list[Assignment]]:
    """The assignments of each of the first ``count`` copies of a repeat, copy by copy."""
    return [assignments_of(node.each, index_path(path, index)) for index in range(count)]


def _product(per_part: list[list[Assignment]]) -> list[Assignment]:
    """Every combination of one assignment per part, merged."""
    return [_merged(combination) for combination in itertools.product(*per_part)]


def _per_option(
    node: Choice, path: str, assignments_of: Callable[[Node, str], list[Assignment]]
) -> list[Assignment]:
    """The assignments of each option in turn, each with the option's index at ``path``."""
    return [
        {path: index, **assignment}
        for index, (label, option) in enumerate(node.labelled_options())
        for assignment in assignments_of(option.node, option_path(path, label))
    ]


def _merged(assignments: Iterable[Assignment]) -> Assignment:
    merged: Assignment = {}
    for assignment in assignments:
        merged.update(assignment)
    return merged
