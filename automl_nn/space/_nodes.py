"""The node tree behind a search space: constants, sub-trees, choices, ranges and repeats.

A parsed space is a tree of five node kinds. They are immutable; transformations
(merging, specializing) build new trees. ``source`` names the file a node came from, for
error messages, and takes no part in equality.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Guard vocabulary: input kinds by the rank of one input sample, and task shorthands.
INPUT_KINDS: dict[str, int] = {"tabular": 1, "sequence": 2, "image": 3}
TASK_SHORTHANDS: dict[str, tuple[str, ...]] = {"classification": ("binary", "multiclass")}

# Parameter keys and the modifier keys each may carry beside it.
PARAMETER_MODIFIERS: dict[str, tuple[str, ...]] = {
    "choice": (),
    "grid": (),
    "uniform": (),
    "loguniform": (),
    "int": ("log",),
    "quantized": ("q", "log"),
    "repeat": ("each",),
}
# The keys whose constant string labels a sub-tree option of a choice, in order of preference.
LABEL_KEYS: tuple[str, ...] = ("name", "family", "op")

SCALAR_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Constant:
    """A fixed value: a scalar or a list."""

    value: Any
    source: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Tree:
    """A mapping whose values are nodes."""

    children: dict[str, Node]
    source: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Guard:
    """The ``$when`` of a choice option: the task and input kinds the option fits."""

    tasks: tuple[str, ...] | None = None
    inputs: tuple[str, ...] | None = None

    def matches(self, task: str, input_kind: str) -> bool:
        """Whether an option carrying this guard fits ``task`` and ``input_kind``."""
        task_fits = self.tasks is None or task in self.tasks
        return task_fits and (self.inputs is None or input_kind in self.inputs)

    def to_raw(self) -> dict[str, list[str]]:
        """The YAML form of the guard."""
        raw = {"task": self.tasks, "input": self.inputs}
        return {key: list(kinds) for key, kinds in raw.items() if kinds is not None}


@dataclass(frozen=True)
class Option:
    """One option of a choice, with the guard that keeps it (``None``: always kept)."""

    node: Node
    when: Guard | None = None


@dataclass(frozen=True)
class Choice:
    """A categorical parameter; ``is_grid`` marks a ``grid`` node (enumerated by grid search)."""

    options: tuple[Option, ...]
    is_grid: bool = False
    source: str | None = field(default=None, compare=False)

    @property
    def labels(self) -> tuple[str, ...]:
        """Option labels: a sub-tree's ``name``, ``family`` or ``op`` if unique, else the index."""
        return option_labels([label_candidate(option.node) for option in self.options])

    @property
    def keys(self) -> tuple[Any, ...]:
        """What a searcher picks between: a scalar option's value, else the option's label."""
        return tuple(
            option.node.value if is_scalar_constant(option.node) else label
            for label, option in self.labelled_options()
        )

    def labelled_options(self) -> list[tuple[str, Option]]:
        """``(label, option)`` pairs, in order."""
        return list(zip(self.labels, self.options, strict=True))


@dataclass(frozen=True)
class Numeric:
    """A numeric range: ``uniform``, ``loguniform``, ``int`` or ``quantized`` (``q`` set)."""

    low: int | float
    high: int | float
    log: bool = False
    integer: bool = False
    q: int | float | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def yields_int(self) -> bool:
        """Whether values are ints: an ``int`` range, or a quantized one of whole numbers."""
        if self.integer:
            return True
        bounds = (self.low, self.high, self.q)
        return self.q is not None and all(isinstance(bound, int) for bound in bounds)

    @property
    def steps(self) -> int:
        """How many steps of ``q`` fit above ``low`` without passing ``high``."""
        # The tolerance keeps (0.3 - 0.0) / 0.1 = 2.9999999999999996 at 3 steps.
        if self.q is None:
            return 0
        return math.floor((self.high - self.low) / self.q + 1e-9)

    @property
    def top(self) -> int | float:
        """The highest value the range takes (below ``high`` when ``q`` does not divide it)."""
        return self.finalize(self.high)

    @property
    def is_degenerate(self) -> bool:
        """Whether the range holds a single value (nothing to decide)."""
        return self.finalize(self.low) == self.top

    def finalize(self, value: float) -> int | float:
        """Snap a raw value into the range: clipped, on the ``q`` grid, an int where integral."""
        if self.q is not None:
            steps = min(max(round((value - self.low) / self.q), 0), self.steps)
            # 12 significant digits drop float noise such as 0.30000000000000004.
            value = float(f"{self.low + steps * self.q:.12g}")
        value = min(max(value, self.low), self.high)
        return int(round(value)) if self.yields_int else float(value)

    def from_unit(self, unit: float) -> int | float:
        """Map ``unit`` in [0, 1] onto the range, evenly on its (log) scale."""
        if self.log:
            log_low, log_high = math.log(self.low), math.log(self.high)
            return self.finalize(math.exp(log_low + unit * (log_high - log_low)))
        if self.integer or self.q is not None:
            count = self.high - self.low + 1 if self.integer else self.steps + 1
            step = 1 if self.integer else self.q
            return self.finalize(self.low + min(int(unit * count), count - 1) * step)
        return self.finalize(self.low + unit * (self.high - self.low))

    def bins(self, count: int) -> tuple[int | float, ...]:
        """``count`` values from low to top, evenly spaced on the (log) scale, deduplicated."""
        inner = [self.from_unit(index / (count - 1)) for index in range(1, count - 1)]
        # The ends come exact: exp(log(low)) may miss low by a rounding error.
        return tuple(dict.fromkeys([self.finalize(self.low), *inner, self.top]))

    def to_raw(self) -> dict[str, Any]:
        """The YAML form of the range."""
        bounds = [self.low, self.high]
        if self.integer:
            return {"int": bounds, "log": True} if self.log else {"int": bounds}
        if self.q is not None:
            return {"quantized": bounds, "q": self.q, **({"log": True} if self.log else {})}
        return {"loguniform" if self.log else "uniform": bounds}


@dataclass(frozen=True)
class Repeat:
    """A list of ``low`` to ``high`` copies of ``each``, every copy resolved on its own.

    The count is one decision; the decisions inside copy ``i`` (path ``path[i]``) count only
    when the count exceeds ``i``.
    """

    low: int
    high: int
    each: Node
    source: str | None = field(default=None, compare=False)

    @property
    def count(self) -> Numeric:
        """The number of copies, as the int range it is decided from."""
        return Numeric(self.low, self.high, integer=True, source=self.source)

    @property
    def counts(self) -> tuple[int, ...]:
        """Every count the list may have, from ``low`` to ``high``."""
        return tuple(range(self.low, self.high + 1))


Node = Constant | Tree | Choice | Numeric | Repeat


def is_scalar_constant(node: Node) -> bool:
    """Whether ``node`` is a constant number, string, bool or null."""
    return isinstance(node, Constant) and isinstance(node.value, SCALAR_TYPES)


def label_candidate(option: Any) -> str | None:
    """The ``name``, ``family`` or ``op`` string of an option (a sub-tree or its raw mapping)."""
    if isinstance(option, Tree):
        fields = {k: c.value for k, c in option.children.items() if isinstance(c, Constant)}
    elif isinstance(option, dict):
        fields = option
    else:
        return None
    for key in LABEL_KEYS:
        if isinstance(fields.get(key), str):
            return fields[key]
    return None


def option_labels(candidates: Sequence[str | None]) -> tuple[str, ...]:
    """Labels for a choice's options: each candidate if unique among them, else the index."""
    counts = Counter(candidate for candidate in candidates if candidate is not None)
    return tuple(
        candidate if candidate is not None and counts[candidate] == 1 else str(index)
        for index, candidate in enumerate(candidates)
    )


def child_path(path: str, key: str) -> str:
    """The dotted path of ``key`` under ``path`` (``optimizer`` + ``lr``: ``optimizer.lr``)."""
    return f"{path}.{key}" if path else key


def option_path(path: str, label: str) -> str:
    """The path of a choice option (``optimizer`` + ``sgd``: ``optimizer[sgd]``)."""
    return f"{path}[{label}]"


def index_path(path: str, index: int | str) -> str:
    """The path of one copy of a repeat (``model.layers`` + 3: ``model.layers[3]``).

    Errors about the ``each`` node of any copy use the index ``*``.
    """
    return f"{path}[{index}]"


def merge(base: Node, override: Node) -> Node:
    """Deep-merge ``override`` over ``base``: mappings key by key, anything else replaces."""
    if not (isinstance(base, Tree) and isinstance(override, Tree)):
        return override
    children = dict(base.children)
    for key, child in override.children.items():
        children[key] = merge(children[key], child) if key in children else child
    return Tree(children, override.source)


def to_raw(node: Node) -> Any:
    """The YAML form of a node (what ``yaml.safe_dump`` writes and the parser reads back)."""
    if isinstance(node, Constant):
        return copy.deepcopy(node.value)
    if isinstance(node, Tree):
        return {key: to_raw(child) for key, child in node.children.items()}
    if isinstance(node, Choice):
        return {"grid" if node.is_grid else "choice": [_option_raw(o) for o in node.options]}
    if isinstance(node, Repeat):
        return {"repeat": [node.low, node.high], "each": to_raw(node.each)}
    return node.to_raw()


def _option_raw(option: Option) -> Any:
    if option.when is None:
        return to_raw(option.node)
    return {"$when": option.when.to_raw(), **to_raw(option.node)}
