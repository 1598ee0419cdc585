"""Every scheduler builds from its name; each runs a search of the searcher contract."""

from __future__ import annotations

import pytest
from ray.tune.schedulers import (
    AsyncHyperBandScheduler,
    FIFOScheduler,
    MedianStoppingRule,
    PopulationBasedTraining,
)

from automl_nn.errors import ConfigError
from automl_nn.schedulers import list_schedulers, make_scheduler
from tests.searchers.test_searcher_contract import SCHEDULER_OF_SEARCHER

EXPECTED_TYPES = {
    "fifo": FIFOScheduler,
    "asha": AsyncHyperBandScheduler,
    "hyperband": AsyncHyperBandScheduler,
    "median": MedianStoppingRule,
    "pbt": PopulationBasedTraining,
}


def test_registry_names_every_scheduler() -> None:
    assert list_schedulers() == sorted(EXPECTED_TYPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_factory_builds_the_ray_scheduler(name: str) -> None:
    assert isinstance(make_scheduler(name, max_epochs=16), EXPECTED_TYPES[name])


def test_asha_counts_epochs_up_to_max_epochs() -> None:
    asha = make_scheduler("asha", max_epochs=16)
    assert asha._time_attr == "training_iteration"
    assert asha._max_t == 16
    assert asha._reduction_factor == 3


def test_hyperband_halves_in_several_brackets_of_growing_grace_periods() -> None:
    hyperband = make_scheduler("hyperband", max_epochs=27)
    asha = make_scheduler("asha", max_epochs=27)
    grace_periods = sorted(min(rung[0] for rung in b._rungs) for b in hyperband._brackets)
    assert grace_periods == [3, 9, 27]
    assert len(asha._brackets) == 1


def test_pbt_perturbs_learning_rate_and_regularization_only() -> None:
    pbt = make_scheduler("pbt", max_epochs=10)
    mutations = pbt._hyperparam_mutations
    assert set(mutations) == {"optimizer", "regularization"}
    assert set(mutations["optimizer"]) == {"lr"}
    assert not {"batch_norm", "dropout"} & set(mutations["regularization"])


def test_unknown_scheduler_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="asha, fifo, hyperband, median, pbt"):
        make_scheduler("sometimes", max_epochs=3)


def test_every_scheduler_runs_a_search_of_the_searcher_contract() -> None:
    """Each runs end to end there, paired with a searcher (one search fewer per scheduler)."""
    assert set(SCHEDULER_OF_SEARCHER.values()) == set(list_schedulers())
