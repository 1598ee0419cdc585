"""search() end to end on real Ray and a real MLflow store: structure, statuses, results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

import automl_nn
from automl_nn import SearchResult, search
from automl_nn.training import model_device, predict
from tests.api.conftest import TINY_SPACE, parent_and_children

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ray_session")]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, ray_session) -> tuple[SearchResult, str]:
    """One small search shared by the structure tests."""
    folder = tmp_path_factory.mktemp("search")
    uri = f"sqlite:///{folder}/mlflow.db"
    import os

    previous = os.getcwd()
    os.chdir(folder)
    try:
        result = search(
            "wine",
            TINY_SPACE,
            searcher="random",
            scheduler="fifo",
            num_trials=4,
            max_epochs=3,
            tracking_uri=uri,
            experiment="tests",
            storage_path=str(folder / "runs"),
            registered_model_name="wine-classifier",
            verbose=False,
        )
    finally:
        os.chdir(previous)
    return result, uri


def test_one_parent_run_and_one_child_run_per_trial(finished) -> None:
    result, uri = finished
    parents, children = parent_and_children(uri)
    assert len(parents) == 1 and len(children) == 4
    assert parents[0].info.run_id == result.mlflow_parent_run_id
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {result.mlflow_parent_run_id}
    assert sorted(c.data.tags["automl_nn.trial_id"] for c in children) == sorted(
        result.leaderboard.trial_id
    )


def test_one_metric_point_per_reported_epoch(finished) -> None:
    result, uri = finished
    client = MlflowClient(uri)
    _, children = parent_and_children(uri)
    for child in children:
        points = client.get_metric_history(child.info.run_id, "val_accuracy")
        assert [p.step for p in points] == [1, 2, 3]
        assert len(client.get_metric_history(child.info.run_id, "train_loss")) == 3


def test_child_runs_carry_the_flat_config_and_final_status(finished) -> None:
    _, uri = finished
    _, children = parent_and_children(uri)
    for child in children:
        params = child.data.params
        assert params["model.family"] == "mlp"
        assert params["optimizer.name"] in ("sgd", "adam")
        assert child.data.tags["automl_nn.status"] == "completed"


def test_conditional_parameters_never_appear_without_their_parent_option(finished) -> None:
    _, uri = finished
    _, children = parent_and_children(uri)
    for child in children:
        has_momentum = "optimizer.momentum" in child.data.params
        assert has_momentum == (child.data.params["optimizer.name"] == "sgd")


def test_parent_run_holds_settings_artifacts_tags_and_best_model(finished) -> None:
    result, uri = finished
    client = MlflowClient(uri)
    parent = client.get_run(result.mlflow_parent_run_id)
    assert parent.data.params["searcher"] == "random"
    assert parent.data.params["num_trials"] == "4"
    assert parent.data.tags["automl_nn.searcher"] == "random"
    assert parent.data.tags["automl_nn.dataset"] == "wine"
    assert parent.data.tags["automl_nn.version"] == automl_nn.__version__
    assert parent.data.tags["automl_nn.best_trial_id"] == result.best_trial_id
    artifacts = {a.path for a in client.list_artifacts(result.mlflow_parent_run_id)}
    assert {"space.yaml", "data.json", "leaderboard.csv", "learning_curves.png"} <= artifacts
    # The registry's alias names the version: models:/wine-classifier@best_trial_model.
    best = client.get_model_version_by_alias("wine-classifier", "best_trial_model")
    assert best.run_id == result.mlflow_parent_run_id


def test_search_result_leaderboard_and_best(finished) -> None:
    result, _ = finished
    board = result.leaderboard
    assert len(board) == 4
    assert {"trial_id", "status", "epochs", "seconds", "val_accuracy"} <= set(board.columns)
    assert board.val_accuracy.is_monotonic_decreasing
    assert result.best_metric == board.val_accuracy.iloc[0]
    assert result.best_config["model"]["family"] == "mlp"
    assert Path(result.experiment_path).is_dir()
    assert set(board.device) == {"cpu"}  # no GPU asked for: the CPU, even on a GPU machine
    # Each trial's rate at each epoch, from Ray's reports: what retrain_best replays.
    for trial_id, epochs in zip(board.trial_id, board.epochs, strict=True):
        rates = result.trial_learning_rates(trial_id)
        assert rates is not None and len(rates) == epochs and all(rate > 0 for rate in rates)


def test_retrain_best_tests_on_the_held_out_split_and_logs_it(finished, tmp_path) -> None:
    result, uri = finished
    final = result.retrain_best(epochs=3)
    assert {"test_accuracy", "test_f1", "test_loss"} <= set(final.test_metrics)
    client = MlflowClient(uri)
    parent = client.get_run(result.mlflow_parent_run_id)
    assert parent.data.metrics["test_accuracy"] == pytest.approx(
        final.test_metrics["test_accuracy"]
    )
    # The final model is the newest version, under its own alias; the best trial's keeps its.
    final_version = client.get_model_version_by_alias("wine-classifier", "final_model")
    best_version = client.get_model_version_by_alias("wine-classifier", "best_trial_model")
    assert int(final_version.version) > int(best_version.version)
    assert final_version.run_id == result.mlflow_parent_run_id
    folder = result.export(tmp_path / "export")
    scripted = torch.jit.load(str(folder / "model.pt"))
    x = result.data.x_test[:5]
    assert torch.allclose(scripted(x), predict(final.model, x), atol=1e-5)
    assert json.loads((folder / "config.json").read_text())["config"]["model"]["family"] == "mlp"


def test_asha_stops_some_trials_early_and_tags_them(store) -> None:
    # One trial at a time: which trials ASHA stops then depends on the seed alone, not on
    # which of two concurrent trials a loaded machine lets reach a rung first.
    result = search(
        "wine", TINY_SPACE, searcher="random", scheduler="asha", num_trials=8, max_epochs=9,
        max_concurrent=1, seed=1, **store,
    )  # fmt: skip
    stopped = result.leaderboard[result.leaderboard.status == "stopped_early"]
    assert len(stopped) >= 1
    assert (stopped.epochs < 9).all()
    _, children = parent_and_children(store["tracking_uri"], store["experiment"])
    tags = {c.data.tags["automl_nn.trial_id"]: c.data.tags["automl_nn.status"] for c in children}
    assert all(tags[trial] == "stopped_early" for trial in stopped.trial_id)


def test_a_time_budget_stops_the_search_cleanly_with_a_result(store) -> None:
    result = search(
        "wine", TINY_SPACE, searcher="random", scheduler="fifo", num_trials=1000,
        max_epochs=2, time_budget_s=15, **store,
    )  # fmt: skip
    # Under load a trial may not finish an epoch in time; the search still returns.
    assert len(result.leaderboard) < 1000
    assert result.best_trial_id is None or result.best_metric > 0
    # Trials the budget cut off end like the others: none is left running in MLflow.
    parents, children = parent_and_children(store["tracking_uri"], store["experiment"])
    ended = {c.data.tags["automl_nn.trial_id"]: c.data.tags["automl_nn.status"] for c in children}
    assert ended == dict(zip(result.leaderboard.trial_id, result.leaderboard.status, strict=True))
    assert "running" not in ended.values()
    assert all(c.info.status != "RUNNING" for c in children)
    assert [p.info.status for p in parents] == ["FINISHED"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="PyTorch sees no CUDA GPU here")
def test_gpu_trials_share_the_gpu_train_on_it_and_the_final_model_loads_on_the_cpu(
    store, tmp_path
) -> None:
    result = search(
        "wine", TINY_SPACE, searcher="random", scheduler="fifo", num_trials=2, max_epochs=2,
        resources_per_trial={"cpu": 1, "gpu": 0.5}, **store,
    )  # fmt: skip
    board = result.leaderboard
    assert list(board.status) == ["completed", "completed"]
    assert all(device.startswith("cuda:") for device in board.device)
    final = result.retrain_best(epochs=2, device="cuda")
    assert model_device(final.model).type == "cuda" and "test_accuracy" in final.test_metrics
    assert model_device(logged_final_model(store["tracking_uri"], result, tmp_path)).type == "cpu"
    scripted = torch.jit.load(str(result.export(tmp_path / "export") / "model.pt"))
    x = result.data.x_test[:5]
    assert torch.allclose(scripted(x), predict(final.model, x), atol=1e-4)


def logged_final_model(tracking_uri: str, result: SearchResult, folder: Path) -> torch.nn.Module:
    """The final model the search logged to its parent run, loaded as a user would."""
    import mlflow

    client = MlflowClient(tracking_uri)
    experiment_id = client.get_run(result.mlflow_parent_run_id).info.experiment_id
    (logged,) = [
        model
        for model in client.search_logged_models(experiment_ids=[experiment_id])
        if model.name == "final_model" and model.source_run_id == result.mlflow_parent_run_id
    ]
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=logged.artifact_location, dst_path=str(folder), tracking_uri=tracking_uri
    )
    return mlflow.pytorch.load_model(local)
