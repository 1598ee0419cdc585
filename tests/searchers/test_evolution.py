"""Regularized evolution (searcher="evolution"): it finds, ages, mutates once, resumes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from automl_nn.errors import ConfigError
from automl_nn.searchers import EvolutionSearcher, SearcherSettings, make_searcher
from automl_nn.space import Space, active_decisions
from tests.searchers.conftest import (
    METRIC,
    NUM_BINS,
    PROBLEM_SPACE,
    FakeTune,
    producible_configs,
    reward,
)


def evolution(seed: int = 0, mode: str = "max", **options: int) -> EvolutionSearcher:
    settings = SearcherSettings(
        PROBLEM_SPACE, METRIC, mode, seed, options={"num_bins": NUM_BINS, **options}
    )
    searcher = make_searcher("evolution", settings)
    assert isinstance(searcher, EvolutionSearcher)
    return searcher


def test_evolution_finds_the_best_config() -> None:
    tune = FakeTune(evolution())
    found = [config for config in tune.run(250) if reward(config) == 1.0]
    assert found


def test_the_same_seed_gives_the_same_suggestions() -> None:
    first, second, other = (FakeTune(evolution(seed)).run(40) for seed in (3, 3, 4))
    assert first == second
    assert first != other


def test_a_restored_search_continues_the_same_evolution(tmp_path: Path) -> None:
    expected = FakeTune(evolution(seed=5, population_size=8)).run(40)

    interrupted = FakeTune(evolution(seed=5, population_size=8))
    configs = interrupted.run(20)  # children already, with a trial still running
    interrupted.searcher.save(str(tmp_path / "evolution.pkl"))
    interrupted.searcher = evolution(seed=99, population_size=8)
    interrupted.searcher.restore(str(tmp_path / "evolution.pkl"))
    configs += interrupted.run(20)

    assert configs == expected


def test_suggestions_are_configs_of_the_space_with_conditionals_kept() -> None:
    producible = producible_configs()
    for config in FakeTune(evolution(seed=1, population_size=4)).run(80):
        assert json.dumps(config, sort_keys=True) in producible
        optimizer = config["optimizer"]
        assert ("momentum" in optimizer) == (optimizer["name"] == "sgd")


def test_a_child_changes_one_decision_of_the_tournament_winner() -> None:
    # With the whole population in every tournament, the winner is its best member.
    searcher = evolution(seed=2, population_size=2, sample_size=2)
    decisions = searcher.decisions
    rng = random.Random(0)
    for number in range(40):
        best = max(searcher.population, key=lambda member: member[1], default=None)
        trial_id = f"trial_{number}"
        searcher.suggest(trial_id)
        if number >= 2:
            child, parent = searcher.pending[trial_id], best[0]
            kept = set(active_decisions(decisions, parent)) & set(
                active_decisions(decisions, child)
            )
            assert len([i for i in kept if child[i] != parent[i]]) == 1
        searcher.on_trial_complete(trial_id, {METRIC: rng.random()})


def test_no_child_is_bred_before_the_population_is_full() -> None:
    searcher = evolution(seed=4, population_size=3, sample_size=2)
    tournaments = []
    pick = searcher._tournament_winner
    searcher._tournament_winner = lambda: tournaments.append(1) or pick()
    for trial_id in "abcde":  # five running at once, as a wide cluster would ask
        searcher.suggest(trial_id)
    searcher.on_trial_complete("a", {METRIC: 0.5})
    searcher.on_trial_complete("b", error=True)  # a failure does not join
    searcher.on_trial_complete("c", {METRIC: 0.7})
    searcher.suggest("f")
    assert tournaments == []
    searcher.on_trial_complete("d", {METRIC: 0.6})
    searcher.suggest("g")
    assert tournaments == [1]


def test_the_oldest_member_dies_when_a_child_joins() -> None:
    searcher = evolution(population_size=4)
    FakeTune(searcher, concurrency=1).run(10)
    assert len(searcher.history) == 10
    assert list(searcher.population) == searcher.history[-4:]


@pytest.mark.parametrize(
    "outcome",
    [
        {"error": True},
        {"result": None},
        {"result": {"other": 1.0}},
        {"result": {METRIC: float("nan")}},
    ],
    ids=["failed", "never_ran", "no_metric", "diverged"],
)
def test_trials_without_a_finite_metric_are_dropped(outcome: dict) -> None:
    searcher = evolution()
    searcher.suggest("a")
    searcher.on_trial_complete("a", **outcome)
    assert not searcher.population and not searcher.history and not searcher.pending


def test_mode_min_ranks_by_the_negated_metric() -> None:
    searcher = evolution(mode="min")
    searcher.suggest("a")
    searcher.on_trial_complete("a", {METRIC: 0.3})
    assert [reward for _, reward in searcher.population] == [-0.3]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"population_size": 1}, "population_size"),
        ({"population_size": "big"}, "population_size"),
        ({"sample_size": 0}, "sample_size"),
        ({"sample_size": 1.5}, "sample_size"),
        ({"population_size": 4, "sample_size": 5}, "sample_size"),
        ({"num_bins": 1}, "num_bins"),
    ],
)
def test_bad_options_name_the_field(options: dict, field: str) -> None:
    with pytest.raises(ConfigError) as error:
        evolution(**options)
    assert error.value.field == f"searcher_options.{field}"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"population_size": 1}, "population_size"),
        ({"population_size": 4, "sample_size": 5}, "sample_size"),
    ],
)
def test_evolution_built_directly_refuses_the_same_values(options: dict, field: str) -> None:
    with pytest.raises(ConfigError) as error:
        EvolutionSearcher(PROBLEM_SPACE, METRIC, "max", **options)
    assert error.value.field == f"EvolutionSearcher.{field}"


def test_a_fixed_space_is_refused() -> None:
    fixed = Space.from_dict({"optimizer": {"name": "adam", "lr": 0.001}})
    with pytest.raises(ConfigError) as error:
        make_searcher("evolution", SearcherSettings(fixed, METRIC, "max"))
    assert error.value.field == "space"
    with pytest.raises(ConfigError) as error:
        EvolutionSearcher(fixed, METRIC, "max")
    assert error.value.field == "space"
