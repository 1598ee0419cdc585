"""The Space: a checked search space, and its compilation for every kind of searcher."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from automl_nn.space import _nevergrad
from automl_nn.space._decisions import Decision, collect_decisions, decision_assignment
from automl_nn.space._nodes import Tree, to_raw
from automl_nn.space._optuna import OptunaPicker
from automl_nn.space._resolve import (
    AssignmentPicker,
    RandomPicker,
    covering_assignments,
    grid_assignments,
    grid_size,
    resolve,
)
from automl_nn.space._specialize import check_kinds, specialize
from automl_nn.space._validate import check_space
from automl_nn.space._yaml import TreeLoader, space_file

if TYPE_CHECKING:
    import nevergrad as ng
    import optuna


@dataclass(frozen=True, repr=False)
class Space:
    """A search space over trial configs, checked against the vocabulary.

    Make one with :func:`load_space` (a YAML file) or :meth:`Space.from_dict` (a Python
    tree); fit it to a data set with :meth:`specialize`; then draw configs the way a searcher
    needs them. Parameters are named by their dotted path; a parameter inside a choice option
    carries the option's label: ``optimizer[sgd].momentum``, and one inside copy 3 of a
    repeat (a searched depth) carries the index: ``model.layers[3][conv5].width``.

    Example:
        >>> from automl_nn.space import choice, grid, loguniform, uniform
        >>> space = Space.from_dict({
        ...     "optimizer": choice([
        ...         {"name": "adam", "lr": loguniform(1e-4, 1e-2)},
        ...         {"name": "sgd", "lr": 0.1, "momentum": uniform(0.0, 0.9)},
        ...     ]),
        ...     "training": {"batch_size": grid([32, 64])},
        ... })
        >>> space.parameter_paths()
        ['optimizer', 'optimizer[adam].lr', 'optimizer[sgd].momentum', 'training.batch_size']
        >>> sorted(space.sample(random.Random(0))["optimizer"])
        ['lr', 'momentum', 'name']
    """

    root: Tree
    source: str | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, tree: Mapping[str, Any], source: str | Path | None = None) -> Space:
        """A space from a Python tree of constants, builders and YAML-form parameter nodes.

        Args:
            tree: ``{section: sub-tree}``, written as in a YAML file.
            source: the file the tree came from, if any: errors name it, and relative
                ``$include`` paths start from its folder (without it, from search_spaces/).

        Example:
            >>> from automl_nn.space import integer
            >>> Space.from_dict({"model": {"family": "mlp", "depth": integer(1, 3)}})
            Space(python tree: 1 parameters)
        """
        where = str(source) if source is not None else None
        file = Path(source).resolve() if source is not None else None
        return cls(check_space(TreeLoader().load_tree(tree, where, file), where), where)

    def __repr__(self) -> str:
        return f"Space({self.source or 'python tree'}: {self.num_parameters()} parameters)"

    def specialize(self, task: str, input_kind: str) -> Space:
        """The space for one data set: options whose ``$when`` does not fit are dropped.

        Args:
            task: one of ``vocabulary.TASK_KINDS`` (binary, multiclass, regression).
            input_kind: tabular, sequence or image (see :func:`input_kind_of`).

        Raises:
            SpaceError: a choice has no option left, or a kind is unknown.

        Example:
            >>> space = load_space("default").specialize("regression", "tabular")
            >>> space.sample(random.Random(0))["model"]["family"]  # cnn, resnet need no tabular
            'mlp'
            >>> "model" in space.parameter_paths()  # a choice of one option decides nothing
            False
        """
        check_kinds(task, input_kind)
        root = specialize(self.root, "", task, input_kind)
        assert isinstance(root, Tree)  # specialize keeps the kind of the node it is given
        return Space(root, self.source)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """A random config: options uniformly, numbers evenly on their (log) scale.

        Only the parameters of the options taken appear in it.

        Example:
            >>> space = load_space("quick")
            >>> space.sample(random.Random(1)) == space.sample(random.Random(1))
            True
        """
        return resolve(self.root, RandomPicker(rng))

    def grid_size(self) -> int:
        """How many configs :meth:`grid_configs` returns (check it before enumerating).

        Example:
            >>> load_space("quick").specialize("multiclass", "tabular").grid_size()
            36
        """
        return grid_size(self.root)

    def grid_configs(self, rng: random.Random) -> list[dict[str, Any]]:
        """The cartesian product over ``grid`` and ``choice`` nodes, through conditionals.

        A choice contributes the configs of each of its options in turn, so a parameter
        inside one option only multiplies that option's share. Numeric ranges are not
        enumerated: each config draws them from ``rng``, as Ray Tune's ``grid_search`` does.

        Example:
            >>> from automl_nn.space import grid, uniform
            >>> space = Space.from_dict({
            ...     "training": {"batch_size": grid([32, 64])},
            ...     "regularization": {"dropout": uniform(0.0, 0.5)},
            ... })
            >>> configs = space.grid_configs(random.Random(0))
            >>> [config["training"]["batch_size"] for config in configs]
            [32, 64]
        """
        picker = RandomPicker(rng)
        assignments = grid_assignments(self.root)
        return [resolve(self.root, AssignmentPicker(a, fallback=picker)) for a in assignments]

    def covering_configs(self) -> list[dict[str, Any]]:
        """A few configs that take every option of every choice, and every range's low and top.

        A range's top is its high, or the last ``q`` step below it. The set is as large as
        the most demanding section needs, so the API can build and check each config against
        the model and training rules before any trial starts.

        Example:
            >>> configs = load_space("quick").covering_configs()
            >>> sorted({config["optimizer"]["name"] for config in configs})
            ['adam', 'adamw', 'sgd']
        """
        return [resolve(self.root, AssignmentPicker(a)) for a in covering_assignments(self.root)]

    def define_by_run(self, trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        """A config drawn from an Optuna trial, one ``suggest_*`` call per active parameter.

        Choices call ``suggest_categorical`` (over scalar values, or over option labels
        when options are sub-trees), ranges ``suggest_float(log=, step=)`` or
        ``suggest_int(log=, step=)``, each named by its path (``optimizer[sgd].momentum``).
        A quantized log range is suggested on its log scale, then snapped to ``q``.

        Example:
            >>> import optuna
            >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
            >>> trial = optuna.create_study().ask()
            >>> config = load_space("quick").define_by_run(trial)
            >>> "optimizer" in trial.params
            True
        """
        return resolve(self.root, OptunaPicker(trial))

    def to_nevergrad(self) -> ng.p.Parameter:
        """The space as a Nevergrad parameter; :meth:`from_nevergrad` turns values into configs.

        Choices are ``ng.p.Choice`` over ``(option index, option parameter)`` so conditionals
        hold; log ranges are ``ng.p.Log``; ints use ``set_integer_casting()``. Seed it with
        ``parameter.random_state = numpy.random.RandomState(seed)``.

        Example:
            >>> parameter = load_space("quick").to_nevergrad()
            >>> config = load_space("quick").from_nevergrad(parameter.sample().value)
            >>> sorted(config)[:2]
            ['loss', 'model']
        """
        return _nevergrad.to_nevergrad(self.root)

    def from_nevergrad(self, value: Any) -> dict[str, Any]:
        """The config of a value of :meth:`to_nevergrad`'s parameter (``candidate.value``).

        Example:
            >>> import numpy
            >>> space = load_space("quick")
            >>> parameter = space.to_nevergrad()
            >>> parameter.random_state = numpy.random.RandomState(0)  # seeds its samples
            >>> config = space.from_nevergrad(parameter.sample().value)
            >>> config["training"]["batch_size"] in (64, 128)
            True
        """
        return _nevergrad.from_nevergrad(self.root, value)

    def decisions(self, num_bins: int = 8) -> list[Decision]:
        """The space as an ordered sequence of discrete decisions, depth-first.

        A choice is one decision over its options, and comes before the decisions inside
        them; a range is ``num_bins`` bins from low to top (log-spaced on a log range; ints
        deduplicated); a repeat's count is one decision over every count, before the
        decisions of its copies, which are active only below the count. Choices of one
        option, one-value ranges and fixed counts are left out.

        Example:
            >>> [d.path for d in load_space("quick").decisions()][:3]
            ['model', 'model[mlp].depth', 'model[mlp].width']
        """
        return collect_decisions(self.root, num_bins)

    def config_from_decisions(self, choices: Sequence[int], num_bins: int = 8) -> dict[str, Any]:
        """The config that an option index per decision makes (inactive positions ignored).

        Args:
            choices: one option index per decision of ``decisions(num_bins)``.
            num_bins: the bin count the decisions were made with.

        Example:
            >>> space = load_space("quick")
            >>> config = space.config_from_decisions([0] * len(space.decisions()))
            >>> config["model"]["family"], config["training"]["batch_size"]
            ('mlp', 64)
        """
        decisions = self.decisions(num_bins)
        return resolve(self.root, AssignmentPicker(decision_assignment(decisions, choices)))

    def parameter_paths(self) -> list[str]:
        """Paths of every parameter that decides something, depth-first.

        Example:
            >>> load_space("quick").parameter_paths()[:2]
            ['model', 'model[mlp].depth']
        """
        return [decision.path for decision in self.decisions(num_bins=2)]

    def num_parameters(self) -> int:
        """How many parameters decide something (choices of one option do not).

        Example:
            >>> Space.from_dict({"training": {"batch_size": 64}}).num_parameters()
            0
        """
        return len(self.parameter_paths())

    def is_fixed(self) -> bool:
        """Whether the space has nothing to decide (every config is the same).

        Example:
            >>> Space.from_dict({"optimizer": {"name": "adam", "lr": 0.001}}).is_fixed()
            True
        """
        return self.num_parameters() == 0

    def to_dict(self) -> dict[str, Any]:
        """The space in YAML form, includes expanded (:meth:`from_dict` reads it back).

        Example:
            >>> Space.from_dict({"training": {"batch_size": {"choice": [32, 64]}}}).to_dict()
            {'training': {'batch_size': {'choice': [32, 64]}}}
        """
        return to_raw(self.root)

    def to_yaml(self) -> str:
        """The space as YAML text, includes expanded; :func:`load_space` reads it back.

        Example:
            >>> print(Space.from_dict({"training": {"batch_size": {"grid": [32, 64]}}}).to_yaml())
            training:
              batch_size:
                grid: [32, 64]
            <BLANKLINE>
        """
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def load_space(name_or_path: str | Path) -> Space:
    """Load a search space: a packaged one by name, or a YAML file by path.

    Args:
        name_or_path: a name from :func:`list_spaces` (``"default"``, ``"quick"``), or a
            path to a ``.yaml`` file. Names resolve only inside ``search_spaces/``.

    Raises:
        SpaceError: the file is missing, malformed or not valid; the message names the
            file, the dotted path in the tree, the value and what would be valid.

    Example:
        >>> load_space("default").specialize("binary", "image").num_parameters() > 50
        True
    """
    path = space_file(name_or_path)
    root = TreeLoader().load_file(path)
    return Space(check_space(root, str(path)), str(path))
