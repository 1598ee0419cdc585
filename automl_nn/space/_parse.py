"""Parse the YAML form of a search space (plain dicts and lists) into a node tree.

The parser checks the form of every node (parameter nodes, ranges, ``$`` keys, guards);
:mod:`automl_nn.space._validate` then checks the names and keys of the config sections.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from automl_nn.errors import SpaceError, one_of
from automl_nn.space._nodes import (
    INPUT_KINDS,
    PARAMETER_MODIFIERS,
    SCALAR_TYPES,
    TASK_SHORTHANDS,
    Choice,
    Constant,
    Guard,
    Node,
    Numeric,
    Option,
    Repeat,
    Tree,
    child_path,
    index_path,
    label_candidate,
    merge,
    option_labels,
    option_path,
)
from automl_nn.vocabulary import TASK_KINDS

# Parses the file an ``$include`` names: (include target, path of the including node) -> tree.
IncludeLoader = Callable[[str, str], Node]

_GUARD_KINDS: dict[str, tuple[str, ...]] = {
    "task": (*TASK_KINDS, *TASK_SHORTHANDS),
    "input": tuple(INPUT_KINDS),
}


class Parser:
    """Turns the raw tree of one file (or one Python dict) into nodes.

    Args:
        source: the file the tree came from, named in errors and stored on every node.
        include: loads the tree an ``$include`` names.
    """

    def __init__(self, source: str | None, include: IncludeLoader):
        self.source = source
        self.include = include

    def error(self, path: str, value: Any, expected: str) -> SpaceError:
        """A SpaceError located in this parser's file (the root is called ``space``)."""
        return SpaceError(path or "space", value, expected, where=self.source)

    def node(self, raw: Any, path: str) -> Node:
        """Parse any raw value found at ``path``."""
        if isinstance(raw, dict):
            return self.mapping(raw, path)
        if isinstance(raw, (list, *SCALAR_TYPES)):
            return Constant(raw, self.source)
        raise self.error(path, raw, "a number, string, bool, null, list or mapping")

    def mapping(self, raw: dict[Any, Any], path: str) -> Node:
        """Parse a mapping: an include, a parameter node or a sub-tree."""
        for key in raw:
            if not isinstance(key, str):
                raise self.error(child_path(path, str(key)), key, "a string key")
        if "$include" in raw:
            return self.include_node(raw, path)
        for key in raw:
            if key.startswith("$"):
                expected = "no $ key but $include (and $when on an option of a choice)"
                raise self.error(child_path(path, key), raw[key], expected)
        kinds = [key for key in raw if key in PARAMETER_MODIFIERS]
        if kinds:
            return self.parameter(raw, path, kinds)
        return Tree(
            {key: self.node(v, child_path(path, key)) for key, v in raw.items()}, self.source
        )

    def include_node(self, raw: dict[str, Any], path: str) -> Node:
        """Replace ``{$include: file}`` by the file's tree, deep-merging any other keys over it."""
        target = raw["$include"]
        field = child_path(path, "$include")
        if not isinstance(target, str):
            raise self.error(field, target, "a file path (a string)")
        included = self.include(target, path)
        overrides = {key: value for key, value in raw.items() if key != "$include"}
        if not overrides:
            return included
        override = self.mapping(overrides, path)
        if not (isinstance(included, Tree) and isinstance(override, Tree)):
            expected = "a file holding a mapping, when keys beside $include merge over it"
            raise self.error(field, target, expected)
        return merge(included, override)

    def parameter(self, raw: dict[str, Any], path: str, kinds: list[str]) -> Node:
        """Parse a parameter node: one parameter key plus its modifiers."""
        kind = kinds[0]
        if len(kinds) > 1:
            raise self.error(path, raw, f"one parameter key per node, not {', '.join(kinds)}")
        modifiers = PARAMETER_MODIFIERS[kind]
        for key in raw:
            if key not in (kind, *modifiers):
                but = f" but {', '.join(modifiers)}" if modifiers else ""
                raise self.error(child_path(path, key), raw[key], f"no key beside {kind}{but}")
        if kind in ("choice", "grid"):
            return self.choice(raw[kind], path, is_grid=kind == "grid")
        if kind == "repeat":
            return self.repeat(raw, path)
        return self.numeric(raw, path, kind)

    def choice(self, raw_options: Any, path: str, is_grid: bool) -> Choice:
        """Parse the options of a ``choice`` or ``grid`` node."""
        kind = "grid" if is_grid else "choice"
        if not isinstance(raw_options, list) or not raw_options:
            raise self.error(child_path(path, kind), raw_options, "a non-empty list of options")
        labels = option_labels([label_candidate(option) for option in raw_options])
        options = [
            self.option(raw, option_path(path, label))
            for raw, label in zip(raw_options, labels, strict=True)
        ]
        return Choice(tuple(options), is_grid, self.source)

    def option(self, raw: Any, path: str) -> Option:
        """Parse one option, taking off its ``$when`` guard."""
        if not (isinstance(raw, dict) and "$when" in raw):
            return Option(self.node(raw, path))
        rest = {key: value for key, value in raw.items() if key != "$when"}
        return Option(self.node(rest, path), self.guard(raw["$when"], child_path(path, "$when")))

    def guard(self, raw: Any, path: str) -> Guard:
        """Parse ``$when: {task: [...], input: [...]}`` (each a list or a single kind)."""
        if not isinstance(raw, dict) or not raw:
            raise self.error(path, raw, "a mapping with task and/or input kinds")
        for key in raw:
            if key not in _GUARD_KINDS:
                raise self.error(child_path(path, str(key)), raw[key], one_of(_GUARD_KINDS))
        tasks, inputs = (self.guard_kinds(raw, path, key) for key in ("task", "input"))
        return Guard(tasks, inputs)

    def guard_kinds(self, raw: dict[str, Any], path: str, key: str) -> tuple[str, ...] | None:
        """The kinds one guard key lists, shorthands expanded (None when the key is absent)."""
        if key not in raw:
            return None
        given = raw[key] if isinstance(raw[key], list) else [raw[key]]
        valid = _GUARD_KINDS[key]
        if not given or any(kind not in valid for kind in given):
            expected = f"a kind or a list of kinds, each {one_of(valid)}"
            raise self.error(child_path(path, key), raw[key], expected)
        expanded = [
            kind for given_kind in given for kind in TASK_SHORTHANDS.get(given_kind, [given_kind])
        ]
        return tuple(dict.fromkeys(expanded))

    def repeat(self, raw: dict[str, Any], path: str) -> Repeat:
        """Parse ``{repeat: [low, high], each: node}``: a list of low to high copies of a node."""
        bounds = raw["repeat"]
        field = child_path(path, "repeat")
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(_is_number(b, integer=True) for b in bounds)
        ):
            raise self.error(field, bounds, "[low, high]: two integers")
        low, high = bounds
        if not 0 <= low <= high:
            raise self.error(field, bounds, "[low, high] with 0 <= low <= high")
        if "each" not in raw:
            raise self.error(child_path(path, "each"), None, "the node each copy is made of")
        return Repeat(low, high, self.node(raw["each"], index_path(path, "*")), self.source)

    def numeric(self, raw: dict[str, Any], path: str, kind: str) -> Numeric:
        """Parse ``uniform``, ``loguniform``, ``int`` or ``quantized`` and check its range."""
        integer = kind == "int"
        bounds = raw[kind]
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(_is_number(b, integer) for b in bounds)
        ):
            numbers = "two integers" if integer else "two numbers"
            raise self.error(child_path(path, kind), bounds, f"[low, high]: {numbers}")
        low, high = bounds
        log = raw.get("log", kind == "loguniform")
        if not isinstance(log, bool):
            raise self.error(child_path(path, "log"), log, "true or false")
        q = raw.get("q")
        if kind == "quantized" and not (_is_number(q, integer=False) and q > 0):
            raise self.error(child_path(path, "q"), q, "a step q > 0")
        if low > high:
            raise self.error(child_path(path, kind), bounds, "[low, high] with low <= high")
        if log and low <= 0:
            raise self.error(child_path(path, kind), bounds, "a range above 0 (log scale)")
        return Numeric(low, high, log, integer, q, self.source)


def _is_number(value: Any, integer: bool) -> bool:
    """Whether ``value`` is a finite number (an int when ``integer``); bools are not numbers."""
    kinds = (int,) if integer else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool) and math.isfinite(value)
