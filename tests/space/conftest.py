"""Helpers shared by the search-space tests: vocabulary checks and path lookups in configs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from automl_nn import vocabulary as vocab
from automl_nn.space import INPUT_KINDS

# Keys each model family of search_spaces/parts/models.yaml and quick.yaml sets.
MODEL_KEYS: dict[str, set[str]] = {
    "mlp": {"family", "depth", "width", "activation"},
    "cnn": {
        "family",
        "depth",
        "channels",
        "kernel_size",
        "stride",
        "dilation_growth",
        "pooling",
        "global_pool",
        "activation",
    },  # fmt: skip
    "resnet": {"family", "stages", "blocks", "channels", "kernel_size", "activation"},
}


def check_vocabulary(config: dict[str, Any], task: str, input_kind: str) -> None:
    """Assert a config uses only vocabulary names and keys, and fits the task and input."""
    rank = INPUT_KINDS[input_kind]
    assert set(config) <= set(vocab.SECTIONS)
    model = config["model"]
    assert set(model) == MODEL_KEYS[model["family"]]
    assert model["activation"] in vocab.ACTIVATIONS
    assert model["family"] == "mlp" or rank >= 2
    for section in vocab.NAMED_SECTIONS:
        options = config[section]
        assert set(options) <= set(vocab.allowed_keys(section, options["name"]))
    assert config["loss"]["name"] in vocab.LOSSES_BY_TASK[task]
    assert config["schedule"].get("mode", "triangular") in vocab.CYCLIC_MODES
    for section in vocab.FLAT_SECTIONS:
        assert set(config[section]) <= set(vocab.allowed_keys(section))
    augmentation = config["regularization"].get("augmentation", {"name": "none"})
    assert set(augmentation) <= {"name", *vocab.AUGMENTATIONS[augmentation["name"]]}
    assert rank in vocab.AUGMENTATION_INPUT_RANKS[augmentation["name"]]


def option_label(value: Any) -> Any:
    """The label of a sub-tree option as it appears in a config: its name, family or op."""
    if not isinstance(value, dict):
        return value
    return next((value[key] for key in ("name", "family", "op") if key in value), None)


def find_value(config: dict[str, Any], path: str) -> tuple[bool, Any]:
    """``(found, value)`` at a parameter path such as ``optimizer[sgd].momentum``.

    A ``key[label]`` step only goes on when the option labelled ``label`` was taken; on a
    list (a repeat), ``key[3]`` goes to item 3 when the list has one.
    """
    value: Any = config
    for key, brackets in re.findall(r"([^.\[\]]+)((?:\[[^\]]+\])*)", path):
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
        for label in re.findall(r"\[([^\]]+)\]", brackets):
            if isinstance(value, list) and label.isdigit() and int(label) < len(value):
                value = value[int(label)]
            elif isinstance(value, list) or str(option_label(value)) != label:
                return False, None
    return True, value


@pytest.fixture
def vocabulary_check() -> Callable[[dict[str, Any], str, str], None]:
    """Asserts a config uses only vocabulary names and fits its task and input kind."""
    return check_vocabulary


@pytest.fixture
def value_at() -> Callable[[dict[str, Any], str], tuple[bool, Any]]:
    """Finds the value at a parameter path in a config: ``(found, value)``."""
    return find_value


@pytest.fixture
def label_of() -> Callable[[Any], Any]:
    """The label a choice option shows in a config (its name or family, else itself)."""
    return option_label
