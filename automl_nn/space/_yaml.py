"""Search-space files: where they live, how they are read, how ``$include`` is followed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

import automl_nn
from automl_nn.errors import SpaceError, one_of
from automl_nn.space._nodes import Node, child_path
from automl_nn.space._parse import Parser


class _SpaceYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader (plain data only, no tags that build objects or run code).

    It also reads ``1e-4`` as a float: YAML 1.1 wants ``1.0e-4`` and would read ``1e-4``
    as a string, the most common slip in learning-rate ranges.
    """


_SpaceYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def search_spaces_dir() -> Path:
    """The folder of the packaged search spaces (``automl_nn/search_spaces/``).

    It ships inside the package, so a plain ``pip install`` has the presets too; the
    repository's top-level ``search_spaces`` is a link to it, for people reading the tree.

    Example:
        >>> search_spaces_dir().name
        'search_spaces'
    """
    return Path(automl_nn.__file__).resolve().parent / "search_spaces"


def list_spaces() -> list[str]:
    """Names of the packaged search spaces (the presets, not the ``parts/`` they include).

    Example:
        >>> "default" in list_spaces()
        True
    """
    return sorted(path.stem for path in search_spaces_dir().glob("*.yaml"))


def space_file(name_or_path: str | Path) -> Path:
    """The file of a space: a name inside ``search_spaces/`` or a path to a ``.yaml`` file."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")):
        path = Path(name_or_path).expanduser().resolve()
        if not path.is_file():
            raise SpaceError("space", text, "an existing .yaml file")
        return path
    spaces = search_spaces_dir()
    path = (spaces / f"{text}.yaml").resolve()
    if not (_is_inside(path, spaces) and path.is_file()):
        raise SpaceError(
            "space", text, f"a .yaml path or a packaged space: {one_of(list_spaces())}"
        )
    return path


def read_yaml(path: Path) -> Any:
    """The plain data of a YAML file; malformed YAML is a SpaceError naming the line."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SpaceYamlLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        field = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "yaml"
        raise SpaceError(field, error.problem, "well-formed YAML", where=str(path)) from error
    except yaml.YAMLError as error:
        raise SpaceError("yaml", str(error), "well-formed YAML", where=str(path)) from error


class TreeLoader:
    """Parses files and Python trees into nodes, following ``$include`` chains.

    An include path is relative to the including file (for a Python tree: to its ``source``
    file, else to ``search_spaces/``). Files inside ``search_spaces/`` may only include files
    inside it; a file elsewhere that names a part it does not have beside it gets the
    packaged part, so a copy of ``default.yaml`` edited in a project folder still loads.
    """

    def __init__(self) -> None:
        self._chain: list[Path] = []

    def load_file(self, path: Path, tree_path: str = "") -> Node:
        """Parse the file at ``path`` (resolved) as the node at ``tree_path``."""
        self._chain.append(path)
        try:
            return self.load_tree(read_yaml(path), str(path), path, tree_path)
        finally:
            self._chain.pop()

    def load_tree(
        self, raw: Any, source: str | None, file: Path | None, tree_path: str = ""
    ) -> Node:
        """Parse a raw tree; its includes are relative to ``file`` (None: search_spaces/).

        Errors name paths in the whole tree (``tree_path`` is where this tree sits in it).
        """
        parser = Parser(source, lambda target, path: self._include(target, path, file))
        return parser.node(raw, tree_path)

    def _include(self, target: str, path: str, including: Path | None) -> Node:
        field = child_path(path, "$include")
        where = str(including) if including else None
        spaces = search_spaces_dir()
        confined = including is None or _is_inside(including, spaces)
        first = ((including.parent if including else spaces) / target).resolve()
        if confined and not _is_inside(first, spaces):
            raise SpaceError(field, target, "a path that stays inside search_spaces/", where=where)
        fallback = (spaces / target).resolve()
        use_fallback = not confined and _is_inside(fallback, spaces)
        candidates = [first, fallback] if use_fallback else [first]
        found = next((candidate for candidate in candidates if candidate.is_file()), None)
        if found is None:
            looked = " or ".join(str(candidate) for candidate in candidates)
            raise SpaceError(field, target, f"an existing file ({looked})", where=where)
        if found in self._chain:
            cycle = " -> ".join(file.name for file in [*self._chain, found])
            raise SpaceError(
                field, target, f"an include chain without a cycle: {cycle}", where=where
            )
        return self.load_file(found, path)


def _is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())
