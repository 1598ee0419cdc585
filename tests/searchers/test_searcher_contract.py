"""The contract every registered searcher passes (a new one is tested once it registers)."""

from __future__ import annotations

import logging
import math
import random
import warnings

import pytest

from automl_nn import load_dataset, search
from automl_nn.searchers import SearcherSettings, list_searchers, make_searcher
from automl_nn.space import Space
from automl_nn.trainable import trial_config
from automl_nn.training import check_config
from tests.api.conftest import TINY_SPACE

SEARCHERS = list_searchers()


# Large enough a grid (4 widths x 2 optimizers) for every test to draw from.
CONTRACT_SPACE = {
    **TINY_SPACE,
    "model": {"family": "mlp", "depth": 1, "width": {"choice": [8, 16, 32, 64]}},
}


def tiny_space() -> Space:
    return Space.from_dict(CONTRACT_SPACE).specialize("multiclass", "tabular")


def settings(seed: int = 0) -> SearcherSettings:
    return SearcherSettings(tiny_space(), "val_accuracy", "max", seed=seed, num_trials=12)


def drive(searcher, count: int, start: int = 0) -> list[dict]:
    """Suggest and complete ``count`` trials with a reward that prefers small lr."""
    configs = []
    for index in range(start, start + count):
        trial_id = f"trial_{index}"
        config = searcher.suggest(trial_id)
        assert isinstance(config, dict), f"{trial_id}: {config!r}"
        configs.append(config)
        reward = 1.0 / (1.0 + config["optimizer"]["lr"] * 10)
        searcher.on_trial_complete(trial_id, {"val_accuracy": reward, "training_iteration": 1})
    return configs


@pytest.mark.parametrize("name", SEARCHERS)
def test_suggestions_are_configs_the_space_can_produce(name: str) -> None:
    data = load_dataset("wine")
    for config in drive(make_searcher(name, settings()), 4):
        assert set(config) == set(CONTRACT_SPACE)
        assert config["model"]["family"] == "mlp"
        check_config(trial_config(config, 2), data)


@pytest.mark.parametrize("name", SEARCHERS)
def test_conditional_parameters_follow_their_option(name: str) -> None:
    for config in drive(make_searcher(name, settings()), 4):
        assert ("momentum" in config["optimizer"]) == (config["optimizer"]["name"] == "sgd")


@pytest.mark.parametrize("name", SEARCHERS)
def test_a_diverged_trial_is_taken_without_a_warning_and_the_search_goes_on(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    searcher = make_searcher(name, settings())
    assert isinstance(searcher.suggest("diverged"), dict)
    with (
        caplog.at_level(logging.WARNING, logger="ray"),
        warnings.catch_warnings(record=True) as raised,
    ):
        warnings.simplefilter("always")
        searcher.on_trial_complete("diverged", {"val_accuracy": math.nan, "training_iteration": 1})
        assert len(drive(searcher, 3, start=1)) == 3
    assert [record.getMessage() for record in caplog.records] == []
    assert [str(warning.message) for warning in raised] == []


@pytest.mark.parametrize("name", SEARCHERS)
def test_same_seed_same_suggestions(name: str) -> None:
    first = drive(make_searcher(name, settings(seed=7)), 4)
    second = drive(make_searcher(name, settings(seed=7)), 4)
    assert first == second


@pytest.mark.parametrize("name", SEARCHERS)
def test_restored_searcher_goes_on_like_the_original(name: str, tmp_path) -> None:
    original = make_searcher(name, settings(seed=3))
    drive(original, 3)
    path = str(tmp_path / "searcher.pkl")
    original.save(path)
    restored = make_searcher(name, settings(seed=99))
    restored.restore(path)
    random.seed(0)
    expected = drive(original, 2, start=3)
    random.seed(0)
    assert drive(restored, 2, start=3) == expected


# Each end-to-end search runs one scheduler too, so every scheduler runs a real search without
# one of its own (tests/schedulers checks that the pairs cover them all). PBT takes the random
# searcher only; a searcher registered later runs with fifo.
SCHEDULER_OF_SEARCHER = {
    "random": "pbt",
    "grid": "fifo",
    "optuna": "asha",
    "nevergrad": "hyperband",
    "evolution": "median",
    "rl": "fifo",
}
# Small enough that evolution mutates and rl updates its controller within the search's trials.
LEARNING_OPTIONS = {"evolution": {"population_size": 2, "sample_size": 2}, "rl": {"batch_size": 2}}


@pytest.mark.integration
@pytest.mark.parametrize("name", SEARCHERS)
def test_every_searcher_runs_a_small_search_end_to_end(name: str, ray_session, tmp_path) -> None:
    scheduler = SCHEDULER_OF_SEARCHER.get(name, "fifo")
    result = search(
        "wine", TINY_SPACE, searcher=name, searcher_options=LEARNING_OPTIONS.get(name),
        scheduler=scheduler, num_trials=4, max_epochs=3, seed=2,
        storage_path=str(tmp_path), tracking=False, verbose=False,
    )  # fmt: skip
    board = result.leaderboard
    assert len(board) == 4
    if scheduler == "fifo":
        assert set(board.status) == {"completed"} and (board.epochs == 3).all()
    else:  # a scheduler may stop a trial early
        assert set(board.status) <= {"completed", "stopped_early"}
        assert board.epochs.between(1, 3).all()
    assert result.best_trial_id is not None
    assert result.best_config["model"]["family"] == "mlp"
