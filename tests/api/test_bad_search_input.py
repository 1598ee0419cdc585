"""Bad search input fails before Ray starts, names the field, and writes nothing to MLflow."""

from __future__ import annotations

import numpy as np
import pytest

from automl_nn import from_arrays, search
from automl_nn.errors import AutomlNNError, ConfigError, DataError, SpaceError, TrackingError
from tests.api.conftest import TINY_SPACE, plan_for, runs_of

CNN_ONLY = {"model": {"family": "cnn"}}
BCE_SPACE = {"loss": {"name": "bce"}}

BAD_INPUTS = [
    ("wine", TINY_SPACE, {"searcher": "hillclimb"}, ConfigError, "searcher"),
    ("wine", TINY_SPACE, {"scheduler": "sometimes"}, ConfigError, "scheduler"),
    ("wine", CNN_ONLY, {}, SpaceError, "model.family"),
    ("wine", {"model": {"family": "chain", "layers": [{"op": "conv3", "width": 8}]}}, {}, SpaceError, "model.layers[0].op"),
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
    ("wine", TINY_SPACE, {"resources_per_trial": {"gpu": 1.5}}, ConfigError, "resources_per_trial.gpu"),
    ("wine", TINY_SPACE, {"resources_per_trial": {"gpu": -0.5}}, ConfigError, "resources_per_trial.gpu"),
    ("wine", TINY_SPACE, {"scheduler": "pbt", "searcher": "optuna"}, ConfigError, "scheduler"),
    ("wine", TINY_SPACE, {"searcher": "nevergrad", "searcher_options": {"optimizer": "NoSuchOpt"}}, ConfigError, "searcher_options.optimizer"),
    ("wine", TINY_SPACE, {"searcher_options": {"sampler": "magic"}}, ConfigError, "searcher_options.sampler"),
    ("wine", TINY_SPACE, {"searcher_options": {"stopped_trials": "failed"}}, ConfigError, "searcher_options.stopped_trials"),
    ("wine", "no_such_space", {}, SpaceError, None),
    ("mnist2d", TINY_SPACE, {}, AutomlNNError, "dataset"),
    ("wine", TINY_SPACE, {"experiment": " "}, ConfigError, "experiment"),
    ("wine", TINY_SPACE, {"max_failures": -1}, ConfigError, "max_failures"),
    ("wine", TINY_SPACE, {"trial_timeout_s": 0}, ConfigError, "trial_timeout_s"),
    ("wine", TINY_SPACE, {"cv_folds": 1}, ConfigError, "cv_folds"),
    ("wine", TINY_SPACE, {"cv_folds": "five"}, ConfigError, "cv_folds"),
    ("wine", TINY_SPACE, {"cv_folds": True}, ConfigError, "cv_folds"),
    ("wine", TINY_SPACE, {"cv_folds": 143}, ConfigError, "cv_folds"),
    ("wine", TINY_SPACE, {"plugins": ["no_such_module_here"]}, ConfigError, "plugins"),
    ("wine", TINY_SPACE, {"registered_model_name": "  "}, ConfigError, "registered_model_name"),
    ("wine", TINY_SPACE, {"searcher": "random", "searcher_options": {"sampler": "tpe"}}, ConfigError, "searcher_options.sampler"),
    ("wine", TINY_SPACE, {"searcher": "rl", "searcher_options": {"lr": 0}}, ConfigError, "searcher_options.lr"),
    ("wine", TINY_SPACE, {"searcher": "rl", "searcher_options": {"batch_size": 0}}, ConfigError, "searcher_options.batch_size"),
    ("wine", {"model": {"family": "mlp"}}, {"searcher": "evolution"}, ConfigError, "space"),
    ("wine", TINY_SPACE, {"num_trials": 2.5}, ConfigError, "num_trials"),
    ("wine", TINY_SPACE, {"seed": "zero"}, ConfigError, "seed"),
    ("wine", {"trainer": {"epochs": 3}}, {}, SpaceError, None),
    ("wine", {"optimizer": {"choice": []}}, {}, SpaceError, None),
    ("wine", {"optimizer": {"name": "adam", "lr": {"uniform": [0.1, 0.01]}}}, {}, SpaceError, None),
    ("wine", {"optimizer": {"name": "adam", "lr": {"loguniform": [0, 0.1]}}}, {}, SpaceError, None),
    ("wine", {"optimizer": {"name": "sgdd"}}, {}, SpaceError, None),
    ("wine", {"optimizer": {"name": "adam", "momentum": 0.9}}, {}, SpaceError, None),
    ("wine", {"model": {"family": "mlp", "activation": "swish"}}, {}, SpaceError, "model.activation"),
    ("wine", {"regularization": {"dropout": 1.5}}, {}, SpaceError, "regularization.dropout"),
    ("wine", {"loss": {"name": "mse"}}, {}, SpaceError, "loss.name"),
    ("diabetes", {"loss": {"name": "cross_entropy"}}, {}, SpaceError, "loss.name"),
    ("wine", {"training": {"batch_size": 0}}, {}, SpaceError, "training.batch_size"),
    ("wine", {"training": {"epochs": 30}}, {}, SpaceError, "training.epochs"),
    ("wine", {"training": {"epochs": {"choice": [10, 30]}}}, {}, SpaceError, "training.epochs"),
    (42, TINY_SPACE, {}, ConfigError, "data"),
]  # fmt: skip

MALFORMED_DATA = [
    (lambda: from_arrays(np.full((30, 3), np.nan), np.arange(30) % 2), "X[0]"),
    (lambda: from_arrays(np.ones((30, 3)), np.arange(29) % 2), "len(y)"),
    (lambda: from_arrays(np.ones((30, 3)), np.arange(30) % 3, num_classes=2), "y"),
    (lambda: from_arrays(np.ones((30, 3)) * np.inf, np.arange(30) % 2), "X[0]"),
]


@pytest.mark.parametrize(("make_data", "field"), MALFORMED_DATA)
def test_malformed_data_is_refused_before_ray_starts(store, make_data, field) -> None:
    import ray

    was_running = ray.is_initialized()
    with pytest.raises(DataError) as caught:
        search(make_data(), TINY_SPACE, **store)
    assert caught.value.field == field
    assert ray.is_initialized() == was_running
    assert runs_of(store["tracking_uri"], store["experiment"]) == []


def test_broken_yaml_names_the_file_and_line(store, tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("optimizer:\n  name: adam\n  lr: [0.1\n")
    with pytest.raises(SpaceError, match="broken.yaml"):
        search("wine", str(path), **store)
    assert runs_of(store["tracking_uri"], store["experiment"]) == []


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


NODE_2CPU = {"CPU": 2.0}
NODE_GPU = {"CPU": 8.0, "GPU": 1.0}


def test_per_trial_resources_must_fit_one_node(store) -> None:
    from automl_nn.api import check_trial_fits_a_node

    check_trial_fits_a_node(plan_for(store), [NODE_2CPU])
    check_trial_fits_a_node(
        plan_for(store, resources_per_trial={"gpu": 0.5}), [NODE_2CPU, NODE_GPU]
    )
    # 4 CPUs and a GPU exist in all, but no node has both: the trial would never start.
    wide = plan_for(store, resources_per_trial={"cpu": 3, "gpu": 1})
    with pytest.raises(ConfigError, match=r"2 CPU, 0 GPU; 2 CPU, 1 GPU") as caught:
        check_trial_fits_a_node(wide, [NODE_2CPU, {"CPU": 2.0, "GPU": 1.0}])
    assert caught.value.field == "resources_per_trial"
    check_trial_fits_a_node(wide, [NODE_2CPU, NODE_GPU])
    with pytest.raises(ConfigError, match="0 GPU"):
        check_trial_fits_a_node(plan_for(store, resources_per_trial={"gpu": 0.25}), [NODE_2CPU])


def test_on_a_named_cluster_an_unfit_trial_only_warns(store) -> None:
    from automl_nn.api import check_trial_fits_a_node

    plan = plan_for(store, resources_per_trial={"gpu": 1})
    plan.ray_address = "ray://head:10001"  # an autoscaler may still add a GPU node
    with pytest.warns(UserWarning, match="autoscaler"):
        check_trial_fits_a_node(plan, [NODE_2CPU])


@pytest.mark.parametrize("resources", [{"gpu": 8}, {"cpu": 3}])
def test_a_trial_the_local_ray_cannot_hold_is_refused_before_any_run(
    store, ray_session, resources
) -> None:
    with pytest.raises(ConfigError, match="at most what one Ray node has") as caught:
        search("wine", TINY_SPACE, **store, resources_per_trial=resources)
    assert caught.value.field == "resources_per_trial"
    assert runs_of(store["tracking_uri"], store["experiment"]) == []
