"""The model-family registry and the checks every model config passes through."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from automl_nn.errors import ConfigError, DataError, one_of
from automl_nn.models import _rules
from automl_nn.models._rules import Rule

Builder = Callable[[dict[str, Any], tuple[int, ...], int, float, bool], nn.Module]
# Checks a family's checked keys against the input shape; raises ConfigError naming the key.
InputCheck = Callable[[dict[str, Any], tuple[int, ...]], None]

# Keys every family may hold; a family lists them in its defaults to take them.
_COMMON_RULES: dict[str, Rule] = {"activation": _rules.activation}

_INPUT_KINDS: dict[int, str] = {1: "tabular (F,)", 2: "sequence (C, L)", 3: "image (C, H, W)"}


@dataclass(frozen=True)
class _ModelFamily:
    name: str
    builder: Builder
    defaults: dict[str, Any]
    input_ranks: tuple[int, ...]
    rules: dict[str, Rule]
    input_check: InputCheck | None = None


_FAMILIES: dict[str, _ModelFamily] = {}


def register_model_family(
    name: str,
    *,
    defaults: dict[str, Any],
    input_ranks: tuple[int, ...],
    rules: Mapping[str, Rule] | None = None,
    input_check: InputCheck | None = None,
) -> Callable[[Builder], Builder]:
    """Register a model builder under ``name`` (a decorator, as in timm).

    The builder is called as ``builder(config, input_shape, num_outputs, dropout, batch_norm)``
    with ``config`` holding exactly the keys of ``defaults``, already checked, and returns an
    ``nn.Module`` that maps ``(batch, *input_shape)`` to ``(batch, num_outputs)`` logits.

    Args:
        name: the value of ``model.family`` that selects the builder.
        defaults: every key the family takes, with its default value.
        input_ranks: the per-sample input ranks the family fits (1 tabular, 2 sequence,
            3 image).
        rules: a rule per key of ``defaults`` (see ``automl_nn.models._rules``); ``activation``
            has a shared rule and needs none.
        input_check: for keys whose valid values depend on the input (a chain layer's op),
            ``input_check(keys, input_shape)`` raises ConfigError when they do not fit; it
            runs in :func:`check_model_config`, so a search refuses such a space before Ray
            starts instead of failing its trials.

    Returns:
        A decorator that registers the builder and returns it unchanged.

    Raises:
        ValueError: ``name`` is taken, or a key of ``defaults`` has no rule.

    Example:
        >>> from torch import nn
        >>> @register_model_family("linear", defaults={}, input_ranks=(1,))  # doctest: +SKIP
        ... def build_linear(config, input_shape, num_outputs, dropout, batch_norm):
        ...     return nn.Linear(input_shape[0], num_outputs)
    """
    all_rules = {**_COMMON_RULES, **(rules or {})}
    missing = sorted(set(defaults) - set(all_rules))
    if name in _FAMILIES:
        raise ValueError(f"model family {name!r} is already registered")
    if missing:
        raise ValueError(f"model family {name!r}: keys without a rule: {', '.join(missing)}")

    def register(builder: Builder) -> Builder:
        family_rules = {key: all_rules[key] for key in defaults}
        _apply_rules(family_rules, defaults)  # a bad default is a bug: fail at import
        _FAMILIES[name] = _ModelFamily(
            name, builder, copy.deepcopy(defaults), tuple(input_ranks), family_rules, input_check
        )
        return builder

    return register


def list_model_families(input_rank: int | None = None) -> list[str]:
    """Names of the registered model families, sorted.

    Args:
        input_rank: when given, only the families that fit inputs of this per-sample rank
            (1 tabular, 2 sequence, 3 image).

    Example:
        >>> list_model_families()
        ['cell', 'chain', 'cnn', 'mlp', 'resnet']
        >>> list_model_families(input_rank=1)
        ['chain', 'mlp']
    """
    return sorted(
        name
        for name, family in _FAMILIES.items()
        if input_rank is None or input_rank in family.input_ranks
    )


def model_family_defaults(name: str) -> dict[str, Any]:
    """The keys of model family ``name`` with their default values (a fresh copy).

    Example:
        >>> model_family_defaults("mlp")
        {'depth': 2, 'width': 128, 'widths': None, 'activation': 'relu'}
    """
    return copy.deepcopy(_family(name).defaults)


def check_model_config(
    model_config: Mapping[str, Any], input_shape: tuple[int, ...]
) -> dict[str, Any]:
    """Check a ``model`` config section against the input it will see; fill in defaults.

    Integer keys come back as ``int`` (``3.0`` and ``numpy.int64(3)`` are accepted). Nothing
    is checked against the spatial size of the input, because no setting can shrink it to
    nothing: convolutions pad to keep the size (stride rounds up), and pooling stops once a
    spatial dimension is below 2.

    Args:
        model_config: the ``model`` section: ``family`` plus any of the family's keys.
        input_shape: per-sample input shape without the batch dimension: ``(F,)`` tabular,
            ``(C, L)`` sequence, ``(C, H, W)`` image.

    Returns:
        A new dict: ``family`` and every key of the family, given or default.

    Raises:
        ConfigError: unknown or missing family, a family that does not fit the input rank,
            an unknown key, a value out of range, or one that does not fit the input (a
            chain layer's op). The message names the field.
        DataError: ``input_shape`` is not a non-empty tuple of positive integers.

    Example:
        >>> check_model_config({"family": "cnn", "depth": 2}, (1, 40))["depth"]
        2
        >>> check_model_config({"family": "cnn"}, (13,))
        Traceback (most recent call last):
        ...
        automl_nn.errors.ConfigError: model.family = 'cnn' is not valid: expected ...
    """
    if not isinstance(model_config, Mapping):
        raise ConfigError("model", model_config, "a mapping with a 'family' key")
    family = _family(model_config.get("family"))
    _check_input_rank(family, _checked_input_shape(input_shape))
    given = {key: value for key, value in model_config.items() if key != "family"}
    unknown = sorted(set(given) - set(family.defaults), key=str)
    if unknown:
        valid = one_of(["family", *family.defaults])
        raise ConfigError(
            f"model.{unknown[0]}", given[unknown[0]], f"a key of family {family.name!r}: {valid}"
        )
    checked = _apply_rules(family.rules, {**family.defaults, **given})
    if family.input_check is not None:
        family.input_check(checked, tuple(int(size) for size in input_shape))
    return {"family": family.name, **checked}


def build_from_family(
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_outputs: int,
    dropout: float,
    batch_norm: bool,
) -> nn.Module:
    """Call the builder of a config already passed through :func:`check_model_config`."""
    keys = {key: value for key, value in config.items() if key != "family"}
    return _FAMILIES[config["family"]].builder(keys, input_shape, num_outputs, dropout, batch_norm)


def _family(name: Any) -> _ModelFamily:
    if not isinstance(name, str) or name not in _FAMILIES:
        raise ConfigError("model.family", name, one_of(_FAMILIES))
    return _FAMILIES[name]


def _checked_input_shape(input_shape: Any) -> tuple[int, ...]:
    valid = (
        isinstance(input_shape, (tuple, list))
        and len(input_shape) > 0
        and all(_rules.as_integer(size) is not None and size >= 1 for size in input_shape)
    )
    if not valid:
        raise DataError("input_shape", input_shape, "a non-empty tuple of integers >= 1")
    return tuple(int(size) for size in input_shape)


def _check_input_rank(family: _ModelFamily, input_shape: tuple[int, ...]) -> None:
    rank = len(input_shape)
    if rank in family.input_ranks:
        return
    fitting = list_model_families(rank)
    supported = ", ".join(_input_kind(r) for r in family.input_ranks)
    raise ConfigError(
        "model.family",
        family.name,
        f"a family for {_input_kind(rank)} input of shape {input_shape} "
        f"({one_of(fitting) if fitting else 'none is registered'}); "
        f"{family.name!r} supports {supported} input only",
    )


def _input_kind(rank: int) -> str:
    return _INPUT_KINDS.get(rank, f"rank-{rank}")


def _apply_rules(rules: dict[str, Rule], config: dict[str, Any]) -> dict[str, Any]:
    return {key: rules[key](f"model.{key}", value) for key, value in config.items()}
