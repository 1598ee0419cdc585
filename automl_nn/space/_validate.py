"""Check the sections of a parsed space against the trial-config vocabulary.

Every value a section may take is checked: a section written as a choice is checked option
by option, and a ``name`` written as a choice of names is checked for each name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

from automl_nn.errors import SpaceError, one_of
from automl_nn.space._nodes import Choice, Constant, Node, Tree, child_path, option_path, to_raw
from automl_nn.vocabulary import (
    AUGMENTATIONS,
    CYCLIC_MODES,
    NAMED_SECTIONS,
    SECTIONS,
    allowed_keys,
)


def check_space(node: Node, where: str | None) -> Tree:
    """Check a parsed space and return its root; raise SpaceError on the first fault."""
    if not isinstance(node, Tree):
        raise SpaceError(
            "space", to_raw(node), f"a mapping of sections: {one_of(SECTIONS)}", where=where
        )
    for section, child in node.children.items():
        if section not in SECTIONS:
            raise SpaceError(section, section, f"a section: {one_of(SECTIONS)}", where=child.source)
        _SECTION_CHECKS[section](section, child)
    return node


def _check_model(section: str, node: Node) -> None:
    """Every model needs a ``family``; its other keys belong to the model registry."""
    for path, tree in _trees(node, section, "a mapping with a family key"):
        family_path = child_path(path, "family")
        if "family" not in tree.children:
            raise SpaceError(family_path, None, "a model family name", where=tree.source)
        for alternative_path, family in _alternatives(tree.children["family"], family_path):
            if not (isinstance(family, Constant) and isinstance(family.value, str)):
                where = family.source
                raise SpaceError(
                    alternative_path, to_raw(family), "a model family name", where=where
                )


def _check_named_section(section: str, node: Node) -> list[tuple[str, Tree]]:
    """``optimizer``, ``schedule`` and ``loss``: a known name and only that name's keys."""
    return _check_named(
        node, section, NAMED_SECTIONS[section], lambda name: allowed_keys(section, name), section
    )


def _check_schedule(section: str, node: Node) -> None:
    for path, tree in _check_named_section(section, node):
        if "mode" in tree.children:
            _names(tree.children["mode"], child_path(path, "mode"), CYCLIC_MODES)


def _check_flat_section(section: str, node: Node) -> list[tuple[str, Tree]]:
    """``regularization`` and ``training``: a mapping of known keys."""
    trees = list(_trees(node, section, f"a mapping of {one_of(allowed_keys(section))}"))
    for path, tree in trees:
        _check_keys(tree, path, allowed_keys(section), section)
    return trees


def _check_regularization(section: str, node: Node) -> None:
    for path, tree in _check_flat_section(section, node):
        if "augmentation" in tree.children:
            _check_named(
                tree.children["augmentation"],
                child_path(path, "augmentation"),
                AUGMENTATIONS,
                lambda name: ("name", *AUGMENTATIONS[name]),
                "augmentation",
            )


_SECTION_CHECKS: dict[str, Callable[[str, Node], Any]] = {
    "model": _check_model,
    "optimizer": _check_named_section,
    "schedule": _check_schedule,
    "loss": _check_named_section,
    "regularization": _check_regularization,
    "training": _check_flat_section,
}


def _check_named(
    node: Node,
    path: str,
    names: Collection[str],
    keys_of: Callable[[str], Collection[str]],
    what: str,
) -> list[tuple[str, Tree]]:
    """Check mappings chosen by a ``name``; return each mapping the node may take."""
    trees = list(_trees(node, path, f"a mapping with a name: {one_of(names)}"))
    for tree_path, tree in trees:
        name_path = child_path(tree_path, "name")
        if "name" not in tree.children:
            raise SpaceError(name_path, None, one_of(names), where=tree.source)
        for name in _names(tree.children["name"], name_path, names):
            _check_keys(tree, tree_path, keys_of(name), f"{what} {name}")
    return trees


def _check_keys(tree: Tree, path: str, allowed: Collection[str], what: str) -> None:
    for key, child in tree.children.items():
        if key not in allowed:
            expected = f"a key of {what}: {one_of(allowed)}"
            raise SpaceError(child_path(path, key), key, expected, where=child.source)


def _names(node: Node, path: str, valid: Collection[str]) -> list[str]:
    """The names a node may take (a constant or a choice of constants), each one of ``valid``."""
    names = []
    for alternative_path, alternative in _alternatives(node, path):
        value = alternative.value if isinstance(alternative, Constant) else None
        if not (isinstance(value, str) and value in valid):
            where = alternative.source
            raise SpaceError(alternative_path, to_raw(alternative), one_of(valid), where=where)
        names.append(value)
    return names


def _trees(node: Node, path: str, expected: str) -> Iterator[tuple[str, Tree]]:
    """Each mapping a node may take; anything else is a SpaceError."""
    for alternative_path, alternative in _alternatives(node, path):
        if not isinstance(alternative, Tree):
            where = alternative.source
            raise SpaceError(alternative_path, to_raw(alternative), expected, where=where)
        yield alternative_path, alternative


def _alternatives(node: Node, path: str) -> Iterator[tuple[str, Node]]:
    """The values a node may take: itself, or each option of a choice, recursively."""
    if not isinstance(node, Choice):
        yield path, node
        return
    for label, option in node.labelled_options():
        yield from _alternatives(option.node, option_path(path, label))
