"""Helpers over the configs a space produces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config as flat ``dotted.key -> scalar`` pairs, for MLflow params and leaderboards.

    Nested mappings become dotted keys; lists become comma-joined strings.

    Example:
        >>> flatten_config({"optimizer": {"name": "sgd", "lr": 0.1}, "model": {"widths": [64, 32]}})
        {'optimizer.name': 'sgd', 'optimizer.lr': 0.1, 'model.widths': '64,32'}
    """
    return dict(_flat_items(config, ""))


def _flat_items(config: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    items = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items += _flat_items(value, f"{name}.")
        elif isinstance(value, (list, tuple)):
            items.append((name, ",".join(str(item) for item in value)))
        else:
            items.append((name, value))
    return items
