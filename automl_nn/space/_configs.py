"""Helpers over the configs a space produces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config as flat ``dotted.key -> scalar`` pairs, for MLflow params and leaderboards.

    Nested mappings become dotted keys; a list of mappings (a chain's ``layers``) is keyed
    by position, and any other list becomes a comma-joined string.

    Example:
        >>> flatten_config({"optimizer": {"name": "sgd", "lr": 0.1}, "model": {"widths": [64, 32]}})
        {'optimizer.name': 'sgd', 'optimizer.lr': 0.1, 'model.widths': '64,32'}
        >>> flatten_config({"model": {"layers": [{"op": "conv3", "width": 16}, {"op": "skip"}]}})
        {'model.layers.0.op': 'conv3', 'model.layers.0.width': 16, 'model.layers.1.op': 'skip'}
    """
    return dict(_flat_items(config, ""))


def _flat_items(config: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    items = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items += _flat_items(value, f"{name}.")
        elif _is_list_of_mappings(value):
            items += _flat_items(dict(enumerate(value)), f"{name}.")
        elif isinstance(value, (list, tuple)):
            items.append((name, ",".join(str(item) for item in value)))
        else:
            items.append((name, value))
    return items


def _is_list_of_mappings(value: Any) -> bool:
    is_list = isinstance(value, (list, tuple)) and len(value) > 0
    return is_list and all(isinstance(item, Mapping) for item in value)
