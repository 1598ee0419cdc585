"""A synthetic problem for the searchers over decision sequences, and a stand-in for Ray.

The reward of a config is the share of the target config's values it matches, so the best
decision sequence is known: the one whose config is the target.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from ray.tune.search import Searcher

from automl_nn.space import Space, active_decisions, choice, flatten_config, integer, loguniform

METRIC = "score"
NUM_BINS = 4

# Five choices and an int range; momentum exists only under sgd, lr is searched only under adam.
PROBLEM_SPACE = Space.from_dict(
    {
        "model": {"family": "mlp", "width": choice([8, 16, 32, 64]), "depth": integer(1, 4)},
        "optimizer": choice(
            [
                {"name": "sgd", "lr": 0.1, "momentum": choice([0.0, 0.5, 0.9])},
                {"name": "adam", "lr": loguniform(1e-4, 1e-1)},
            ]
        ),
        "training": {"batch_size": choice([16, 32, 64])},
        "regularization": {"dropout": choice([0.0, 0.1, 0.2, 0.3])},
    }
)
TARGET = {
    "model": {"family": "mlp", "width": 32, "depth": 3},
    "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
    "training": {"batch_size": 64},
    "regularization": {"dropout": 0.2},
}

# A tiny space of real trials on the wine data set: fast, with a conditional.
WINE_SPACE = {
    "model": {"family": "mlp", "depth": 1, "width": {"choice": [8, 16]}},
    "optimizer": {
        "choice": [
            {"name": "sgd", "lr": {"loguniform": [1e-3, 0.5]}, "momentum": {"uniform": [0.0, 0.9]}},
            {"name": "adam", "lr": {"loguniform": [1e-4, 0.05]}},
        ]
    },
    "training": {"batch_size": 32},
}


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The controller's tensors are tiny: threads only fight over the busy test machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def reward(config: dict[str, Any]) -> float:
    """The share of the target's values that ``config`` matches (1.0 for the target)."""
    flat, target = flatten_config(config), flatten_config(TARGET)
    return sum(flat.get(key) == value for key, value in target.items()) / len(target)


@functools.cache
def all_sequences() -> dict[tuple[int, ...], str]:
    """Every decision sequence of the problem (inactive positions 0), with its config as JSON."""
    decisions = PROBLEM_SPACE.decisions(NUM_BINS)
    sequences = set()
    for combo in itertools.product(*(range(len(d.options)) for d in decisions)):
        active = set(active_decisions(decisions, combo))
        sequences.add(tuple(c if i in active else 0 for i, c in enumerate(combo)))
    return {
        s: json.dumps(PROBLEM_SPACE.config_from_decisions(s, NUM_BINS), sort_keys=True)
        for s in sorted(sequences)
    }


def target_sequence() -> list[int]:
    """The decision sequence whose config is the target."""
    (best,) = [s for s, config in all_sequences().items() if reward(json.loads(config)) == 1]
    return list(best)


def producible_configs() -> set[str]:
    """Every config the problem's decision sequences make, as sorted JSON."""
    return set(all_sequences().values())


class FakeTune:
    """Drives a Searcher as Ray Tune does: ``concurrency`` trials run, the oldest ends first.

    Example:
        >>> tune = FakeTune(searcher)  # doctest: +SKIP
        >>> configs = tune.run(10)  # doctest: +SKIP
    """

    def __init__(
        self,
        searcher: Searcher,
        concurrency: int = 2,
        score: Callable[[dict[str, Any]], float] = reward,
    ) -> None:
        self.searcher = searcher
        self.concurrency = concurrency
        self.score = score
        self.running: deque[tuple[str, dict[str, Any]]] = deque()
        self.num_started = 0

    def run(self, num_trials: int) -> list[dict[str, Any]]:
        """Start ``num_trials`` more trials; return their configs in order."""
        configs = []
        for _ in range(num_trials):
            configs.append(self.start())
            if len(self.running) >= self.concurrency:
                self.finish_oldest()
        return configs

    def start(self) -> dict[str, Any]:
        trial_id = f"trial_{self.num_started}"
        self.num_started += 1
        config = self.searcher.suggest(trial_id)
        self.running.append((trial_id, config))
        return config

    def finish_oldest(self) -> None:
        trial_id, config = self.running.popleft()
        self.searcher.on_trial_complete(trial_id, {METRIC: self.score(config)})
