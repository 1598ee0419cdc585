"""Regularized (aging) evolution (Real et al., 2019) over a space's decision sequences.

A member is a decision sequence of ``Space.decisions(num_bins)`` (numeric ranges as bins)
with its reward (the metric, negated for ``mode="min"``). The first ``population_size``
suggestions are random; after that each suggestion is a child: the best of
``sample_size`` members drawn at random (a tournament), with one active decision changed to
another option. When a finished trial joins a full population, the oldest member dies.
"""

from __future__ import annotations

import pickle
import random
from collections import deque
from typing import Any

from ray.tune.search import Searcher

from automl_nn.errors import ConfigError
from automl_nn.searchers._registry import SearcherSettings, register_searcher
from automl_nn.searchers._sequences import (
    Option,
    at_least,
    check_decidable,
    check_option_values,
    decide_in_order,
    read_options,
    reward_of,
)
from automl_nn.space import Space, active_decisions

EVOLUTION_OPTIONS: dict[str, Option] = {
    "population_size": Option(16, at_least(2), "an integer >= 2"),
    "sample_size": Option(4, at_least(1), "an integer >= 1"),
    "num_bins": Option(8, at_least(2), "an integer >= 2"),
}

Member = tuple[list[int], float]  # a decision sequence and its reward


class EvolutionSearcher(Searcher):
    """Aging evolution: tournament selection, one mutation per child, the oldest dies.

    Works asynchronously: a child is bred from the population as it is when Ray asks, and
    joins it when its trial ends. While the population is still empty (every early trial
    still running or dropped), suggestions stay random.

    A trial stopped early by the scheduler joins with its last reported metric. Trials that
    failed, or ended without a finite metric (a diverged loss), are dropped: they never join
    the population.

    Args:
        space: the search space (not fixed).
        metric: the metric whose final value is a member's reward.
        mode: ``max``, or ``min`` (the reward is then the negated metric).
        seed: seeds every random draw.
        population_size: members kept; also the number of random first suggestions.
        sample_size: members drawn for each tournament (at most ``population_size``).
        num_bins: bins per numeric range.

    Example:
        >>> from automl_nn.space import Space, choice
        >>> space = Space.from_dict({"training": {"batch_size": choice([32, 64])}})
        >>> searcher = EvolutionSearcher(
        ...     space, "val_accuracy", "max", population_size=2, sample_size=2
        ... )
        >>> config = searcher.suggest("trial_1")
        >>> searcher.on_trial_complete("trial_1", {"val_accuracy": 0.9})
        >>> [reward for _, reward in searcher.population]
        [0.9]
    """

    def __init__(
        self,
        space: Space,
        metric: str,
        mode: str,
        seed: int = 0,
        *,
        population_size: int = EVOLUTION_OPTIONS["population_size"].default,
        sample_size: int = EVOLUTION_OPTIONS["sample_size"].default,
        num_bins: int = EVOLUTION_OPTIONS["num_bins"].default,
    ) -> None:
        options = {
            "population_size": population_size,
            "sample_size": sample_size,
            "num_bins": num_bins,
        }
        check_evolution_options(options, f"{type(self).__name__}.")
        check_decidable(space, "evolution")
        super().__init__(metric=metric, mode=mode)
        self.space = space
        self.num_bins = num_bins
        self.decisions = space.decisions(num_bins)
        self.population_size = population_size
        self.sample_size = sample_size
        self.rng = random.Random(seed)
        self.population: deque[Member] = deque()  # oldest first
        self.history: list[Member] = []  # every member that ever joined, in order
        self.pending: dict[str, list[int]] = {}

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        # Random members until population_size trials have joined (Real et al. start from a
        # full population); counting suggestions instead would breed from the first few.
        if len(self.history) < self.population_size:
            choices = self._random_sequence()
        else:
            choices = self._mutate(self._tournament_winner())
        self.pending[trial_id] = choices
        return self.space.config_from_decisions(choices, self.num_bins)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """The trial joins the population (the oldest dies if full); failed ones are dropped."""
        choices = self.pending.pop(trial_id, None)
        reward = None if error else reward_of(result, self.metric, self.mode)
        if choices is None or reward is None:
            return
        self.population.append((choices, reward))
        self.history.append((choices, reward))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as file:
            pickle.dump(self._state(), file)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as file:
            state = pickle.load(file)
        self.rng.setstate(state["rng"])
        self.population = deque(state["population"])
        self.history = state["history"]
        self.pending = state["pending"]

    def _state(self) -> dict[str, Any]:
        return {
            "rng": self.rng.getstate(),
            "population": list(self.population),
            "history": self.history,
            "pending": self.pending,
        }

    def _random_sequence(self) -> list[int]:
        return decide_in_order(self.decisions, self._random_option)

    def _random_option(self, index: int) -> int:
        return self.rng.randrange(len(self.decisions[index].options))

    def _tournament_winner(self) -> list[int]:
        size = min(self.sample_size, len(self.population))
        contestants = self.rng.sample(list(self.population), size)
        return max(contestants, key=lambda member: member[1])[0]

    def _mutate(self, parent: list[int]) -> list[int]:
        """Change one active decision to another option; newly active ones draw at random."""
        active = active_decisions(self.decisions, parent)
        was_active = set(active)
        # Every decision has at least two options (one-option choices decide nothing).
        target = self.rng.choice(active)
        others = [k for k in range(len(self.decisions[target].options)) if k != parent[target]]
        new_option = self.rng.choice(others)

        def pick(index: int) -> int:
            if index == target:
                return new_option
            return parent[index] if index in was_active else self._random_option(index)

        return decide_in_order(self.decisions, pick)


def check_evolution_options(options: dict[str, Any], field_prefix: str) -> None:
    """Each option in its range, and a tournament no larger than the population."""
    check_option_values(options, EVOLUTION_OPTIONS, field_prefix)
    if options["sample_size"] > options["population_size"]:
        raise ConfigError(
            f"{field_prefix}sample_size",
            options["sample_size"],
            f"an integer from 1 to population_size ({options['population_size']})",
        )


def _check_evolution(settings: SearcherSettings) -> None:
    check_evolution_options(read_options(settings, EVOLUTION_OPTIONS), "searcher_options.")
    check_decidable(settings.space, "evolution")


@register_searcher("evolution", options=tuple(EVOLUTION_OPTIONS), check=_check_evolution)
def make_evolution(settings: SearcherSettings) -> Searcher:
    return EvolutionSearcher(
        settings.space,
        settings.metric,
        settings.mode,
        settings.seed,
        **read_options(settings, EVOLUTION_OPTIONS),
    )
