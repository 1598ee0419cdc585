"""Bad search input fails before Ray starts, names the field, and writes nothing to MLflow."""

from __future__ import annotations

import pytest

from automl_nn import from_arrays, search
from automl_nn.errors import AutomlNNError, ConfigError, SpaceError, TrackingError
from tests.api.conftest import TINY_SPACE, runs_of

CNN_ONLY = {"model": {"family": "cnn"}}
BCE_SPACE = {"loss": {"name": "bce"}}

BAD_INPUTS = [
    ("wine", TINY_SPACE, {"searcher": "hillclimb"}, ConfigError, "searcher"),
    ("wine", TINY_SPACE, {"scheduler": "sometimes"}, ConfigError, "scheduler"),
    ("wine", CNN_ONLY, {}, SpaceError, "model.family"),
    ("digits", BCE_SPACE, {}, SpaceError, "loss.name"),
    ("wine", TINY_SPACE, {"metric": "val_r2"}, ConfigError, "metric"),
    ("wine", TINY_SPACE, {"mode": "up"}, ConfigError, "mode"),
    ("wine", TINY_SPACE, {"num_trials": 0}, ConfigError, "num_trials"),
    ("wine", TINY_SPACE, {"num_trials": -3}, ConfigError, "num_trials"),
    ("wine", TINY_SPACE, {"max_epochs": 0}, ConfigError, "max_epochs"),
    ("wine", TINY_SPACE, {"time_budget_s": 0}, ConfigError, "time_budget_s"),
    ("wine", TINY_SPACE, {"time_budget_s": -5}, ConfigError, "time_budget_s"),
    ("wine", TINY_SPACE, {"max_concurrent": 0}, ConfigError, "max_concurrent"),
    ("wine", TINY_SPACE, {"resources_per_trial": {"cpu": 0}}, ConfigError, "resources_per_trial.cpu"),
    ("wine", TINY_SPACE, {"resources_per_trial": {"tpu": 1}}, ConfigError, "resources_per_trial.tpu"),
    ("wine", TINY_SPACE, {"scheduler": "pbt", "searcher": "optuna"}, ConfigError, "scheduler"),
    ("wine", TINY_SPACE, {"searcher": "nevergrad", "searcher_options": {"optimizer": "NoSuchOpt"}}, ConfigError, "searcher_options.optimizer"),
    ("wine", TINY_SPACE, {"searcher_options": {"sampler": "magic"}}, ConfigError, "searcher_options.sampler"),
    ("wine", "no_such_space", {}, SpaceError, None),
    ("mnist2d", TINY_SPACE, {}, AutomlNNError, "dataset"),
    ("wine", TINY_SPACE, {"experiment": " "}, ConfigError, "experiment"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "space", "settings", "error", "field"), BAD_INPUTS)
def test_bad_input_is_refused_before_ray_starts(store, data, space, settings, error, field) -> None:
    import ray

    was_running = ray.is_initialized()
    with pytest.raises(error) as caught:
        search(data, space, **{**store, **settings})
    if field is not None:
        assert caught.value.field == field and field in str(caught.value)
    assert ray.is_initialized() == was_running
    assert runs_of(store["tracking_uri"], store["experiment"]) == []


def test_unreachable_tracking_server_is_refused(store) -> None:
    with pytest.raises(TrackingError, match="tracking_uri"):
        search("wine", TINY_SPACE, **{**store, "tracking_uri": "http://127.0.0.1:9"})


def test_unwritable_storage_path_is_refused(store, tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="storage_path"):
        search("wine", TINY_SPACE, **{**store, "storage_path": str(blocker / "runs")})
    assert runs_of(store["tracking_uri"], store["experiment"]) == []


def test_a_2d_only_space_on_sequences_names_the_data(store) -> None:
    import numpy as np

    data = from_arrays(np.zeros((40, 5), dtype=np.float32), np.arange(40) % 2, name="flat")
    with pytest.raises(SpaceError, match="flat"):
        search(data, CNN_ONLY, **store)


def test_negative_max_failures_is_refused(store) -> None:
    with pytest.raises(ConfigError, match="max_failures"):
        search("wine", TINY_SPACE, **store, max_failures=-1)


def plan_for(store, **settings):
    from automl_nn.api import plan_search

    defaults = dict(
        searcher="random", scheduler="fifo", num_trials=1, time_budget_s=None, max_epochs=1,
        metric=None, mode=None, seed=0, max_concurrent=None, resources_per_trial=None,
        tracking_uri=store["tracking_uri"], experiment="tests", ray_address=None,
        storage_path=store["storage_path"], registered_model_name=None, searcher_options=None,
    )  # fmt: skip
    return plan_search("wine", TINY_SPACE, **{**defaults, **settings})


def test_a_local_unshared_storage_path_is_refused_on_a_cluster(store) -> None:
    from automl_nn.api import check_storage_reaches_every_node

    plan = plan_for(store)
    check_storage_reaches_every_node(plan, alive_nodes=1)
    with pytest.raises(ConfigError, match="every one of the 3 nodes") as caught:
        check_storage_reaches_every_node(plan, alive_nodes=3)
    assert caught.value.field == "storage_path"
    check_storage_reaches_every_node(plan_for(store, shared_storage=True), alive_nodes=3)
    check_storage_reaches_every_node(
        plan_for(store, storage_path="s3://bucket/runs"), alive_nodes=3
    )


def test_search_folder_names_never_leave_the_storage_folder(store) -> None:
    plan = plan_for(store, experiment="../../etc/passwd")
    assert plan.folder.startswith(plan.storage_path + "/")
    assert ".." not in plan.search_name and "/" not in plan.search_name
