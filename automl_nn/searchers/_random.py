"""Random search and grid search over a Space, as Ray Tune Searchers."""

from __future__ import annotations

import pickle
import random
from typing import Any

from ray.tune.search import Searcher

from automl_nn.errors import ConfigError
from automl_nn.searchers._registry import SearcherSettings, register_searcher
from automl_nn.space import Space

# A grid larger than this is almost surely a mistake (a choice-heavy space under "grid").
MAX_GRID_SIZE = 100_000


class RandomSearcher(Searcher):
    """Independent random configs of a Space (conditionals respected), seedable.

    Example:
        >>> from automl_nn.space import load_space
        >>> searcher = RandomSearcher(load_space("quick"), "val_loss", "min", seed=0)
        >>> searcher.suggest("a") == RandomSearcher(load_space("quick"), "val_loss", "min",
        ...                                           seed=0).suggest("a")
        True
    """

    def __init__(self, space: Space, metric: str, mode: str, seed: int = 0) -> None:
        super().__init__(metric=metric, mode=mode)
        self.space = space
        self.rng = random.Random(seed)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        return self.space.sample(self.rng)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Random search learns nothing from results."""

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as file:
            pickle.dump({"rng": self.rng.getstate()}, file)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as file:
            self.rng.setstate(pickle.load(file)["rng"])


class GridSearcher(Searcher):
    """Every config of the grid (``grid`` and ``choice`` nodes), in order, then FINISHED.

    Numeric ranges are drawn at random for each grid point, as Ray Tune's grid_search does.
    """

    def __init__(self, space: Space, metric: str, mode: str, seed: int = 0) -> None:
        super().__init__(metric=metric, mode=mode)
        self.configs = space.grid_configs(random.Random(seed))
        self.next_index = 0

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self.next_index >= len(self.configs):
            return Searcher.FINISHED
        self.next_index += 1
        return self.configs[self.next_index - 1]

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Grid search learns nothing from results."""

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as file:
            pickle.dump({"configs": self.configs, "next_index": self.next_index}, file)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as file:
            state = pickle.load(file)
        self.configs, self.next_index = state["configs"], state["next_index"]


@register_searcher("random")
def make_random(settings: SearcherSettings) -> Searcher:
    return RandomSearcher(settings.space, settings.metric, settings.mode, settings.seed)


def _check_grid(settings: SearcherSettings) -> None:
    size = settings.space.grid_size()
    if size > MAX_GRID_SIZE:
        raise ConfigError("space", f"a grid of {size} configs", f"at most {MAX_GRID_SIZE} configs")


@register_searcher("grid", check=_check_grid)
def make_grid(settings: SearcherSettings) -> Searcher:
    return GridSearcher(settings.space, settings.metric, settings.mode, settings.seed)
