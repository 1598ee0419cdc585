"""The tracker contract, checked against MLflow on a sqlite file and on a real server."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import matplotlib
import mlflow
import numpy as np
import pytest
import torch
from mlflow.entities import Run
from mlflow.models import Model
from mlflow.tracking import MlflowClient

import automl_nn
from automl_nn.errors import ConfigError, TrackingError
from automl_nn.tracking import (
    REASON_TAG,
    STATUS_TAG,
    TRIAL_ID_TAG,
    TRIAL_NUMBER_TAG,
    TRIAL_STATUSES,
    MlflowTracker,
    NullTracker,
    Tracker,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PARENT_TAG = "mlflow.parentRunId"
MakeTracker = Callable[..., MlflowTracker]


def parents(runs: list[Run]) -> list[Run]:
    return [run for run in runs if PARENT_TAG not in run.data.tags]


def children(runs: list[Run]) -> dict[str, Run]:
    """Trial id -> child run; fails if a trial has two child runs."""
    by_trial: dict[str, Run] = {}
    for run in runs:
        if PARENT_TAG in run.data.tags:
            trial_id = run.data.tags[TRIAL_ID_TAG]
            assert trial_id not in by_trial, f"two child runs for trial {trial_id}"
            by_trial[trial_id] = run
    return by_trial


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def test_one_parent_run_and_one_child_run_per_trial(make_tracker: MakeTracker, runs_of) -> None:
    tracker = make_tracker()
    parent_id = tracker.open_search({"searcher": "random"}, {"mlflow.runName": "my search"})
    for trial_id in ("t1", "t2"):
        tracker.trial_started(trial_id, {"optimizer.name": "sgd"})
    tracker.trial_started("t1", {"optimizer.name": "sgd"})  # a restarted trial keeps its run
    tracker.close_search()

    runs = runs_of()
    assert [run.info.run_id for run in parents(runs)] == [parent_id]
    assert parents(runs)[0].info.run_name == "my search"
    child_runs = children(runs)
    assert sorted(child_runs) == ["t1", "t2"]
    for trial_id, run in child_runs.items():
        assert run.data.tags[PARENT_TAG] == parent_id
        assert run.info.run_name == trial_id
        assert tracker.child_run_id(trial_id) == run.info.run_id
    assert tracker.parent_run_id == parent_id
    assert tracker.child_run_id("never started") is None


def test_tags_given_at_a_trial_start_are_on_its_child_run(
    make_tracker: MakeTracker, runs_of
) -> None:
    tracker = make_tracker()
    tracker.open_search({})
    tracker.trial_started("t1", {"optimizer.name": "sgd"}, {TRIAL_NUMBER_TAG: "0"})
    tracker.trial_started("t2", {"optimizer.name": "adam"})
    tracker.trial_ended("t1", "failed", reason="boom")
    tracker.trial_started("t1", {"optimizer.name": "sgd"}, {TRIAL_NUMBER_TAG: "0"})  # a retry
    tracker.close_search()

    child_runs = children(runs_of())
    assert child_runs["t1"].data.tags[TRIAL_NUMBER_TAG] == "0"
    assert child_runs["t1"].data.tags[STATUS_TAG] == "running"
    assert TRIAL_NUMBER_TAG not in child_runs["t2"].data.tags


def test_one_metric_point_per_step(make_tracker: MakeTracker, client: MlflowClient) -> None:
    tracker = make_tracker()
    tracker.open_search({})
    tracker.trial_started("t1", {})
    tracker.trial_metrics("t1", {"val_loss": 0.9, "train_loss": 1.0}, step=1)
    tracker.trial_metrics("t1", {"val_loss": 0.5, "train_loss": 0.6}, step=2)
    tracker.trial_metrics("t1", {"val_loss": 0.1, "train_loss": 0.2}, step=2)  # repeated step
    tracker.trial_metrics(
        "t1",
        {"val_loss": math.nan, "train_loss": np.float32(0.4), "lr": math.inf, "fit_status": "x"},
        step=3,
    )

    run_id = tracker.child_run_id("t1")
    assert history(client, run_id, "val_loss") == [(1, 0.9), (2, 0.5)]
    assert history(client, run_id, "train_loss") == [(1, 1.0), (2, 0.6), (3, pytest.approx(0.4))]
    assert set(client.get_run(run_id).data.metrics) == {"val_loss", "train_loss"}


def test_search_metrics_have_steps(make_tracker: MakeTracker, client: MlflowClient) -> None:
    tracker = make_tracker()
    parent_id = tracker.open_search({})
    for step in range(3):
        tracker.search_metrics({"reward": step / 2, "entropy": 1.0}, step=step)
    tracker.search_metrics({"reward": 9.0}, step=2)

    assert history(client, parent_id, "reward") == [(0, 0.0), (1, 0.5), (2, 1.0)]
    assert [step for step, _ in history(client, parent_id, "entropy")] == [0, 1, 2]


def test_statuses_and_reasons_are_tags(make_tracker: MakeTracker, runs_of) -> None:
    tracker = make_tracker()
    tracker.open_search({})
    for status in TRIAL_STATUSES:
        tracker.trial_started(status, {})
        tracker.trial_ended(status, status, reason=f"because {status}")
    tracker.trial_started("plain", {})
    assert children(runs_of())["plain"].data.tags[STATUS_TAG] == "running"
    tracker.trial_ended("plain", "completed")

    child_runs = children(runs_of())
    for status in TRIAL_STATUSES:
        run = child_runs[status]
        assert run.data.tags[STATUS_TAG] == status
        assert run.data.tags[REASON_TAG] == f"because {status}"
        expected = {"failed": "FAILED", "timed_out": "FAILED", "lost": "KILLED"}
        assert run.info.status == expected.get(status, "FINISHED")
    assert REASON_TAG not in child_runs["plain"].data.tags
    with pytest.raises(ConfigError, match="status"):
        tracker.trial_ended("plain", "crashed")
    with pytest.raises(ConfigError, match="status"):
        tracker.close_search("DONE")


def test_params_are_flat_complete_and_truncated(make_tracker: MakeTracker, runs_of) -> None:
    tracker = make_tracker()
    tracker.open_search({"searcher": "random", "num_samples": 8})
    many = {f"model.layers.{i}.width": i for i in range(150)}  # more than one MLflow batch
    long_value = "x" * 10_000
    tracker.trial_started(
        "t1", {**many, "optimizer.name": "sgd", "optimizer.lr": 0.05, "notes": long_value}
    )

    runs = runs_of()
    assert parents(runs)[0].data.params == {"searcher": "random", "num_samples": "8"}
    params = children(runs)["t1"].data.params
    assert params["optimizer.lr"] == "0.05"
    assert params["model.layers.149.width"] == "149"
    assert len(params) == 153
    assert len(params["notes"]) <= 6000
    assert params["notes"].startswith("xxx")


def test_search_tags_and_artifacts(
    make_tracker: MakeTracker, client: MlflowClient, tmp_path: Path
) -> None:
    tracker = make_tracker()
    parent_id = tracker.open_search(
        {}, {"automl_nn.task": "multiclass"}, {"space.yaml": "optimizer: sgd\n"}
    )
    tracker.set_search_tags({"automl_nn.best_trial": "t1"})
    tracker.trial_started("t1", {})
    tracker.set_trial_tags("t1", {"automl_nn.best": "true"})
    notes = tmp_path / "leaderboard.csv"
    notes.write_text("trial,val_loss\nt1,0.1\n")
    tracker.log_artifact(str(notes), "tables")
    figure, axes = plt.subplots()
    axes.plot([1, 2], [3, 4])
    tracker.log_figure(figure, "curves.png")
    plt.close(figure)

    tags = client.get_run(parent_id).data.tags
    assert tags["automl_nn.task"] == "multiclass"
    assert tags["automl_nn.best_trial"] == "t1"
    assert client.get_run(tracker.child_run_id("t1")).data.tags["automl_nn.best"] == "true"
    files = {item.path for item in client.list_artifacts(parent_id)}
    assert {"space.yaml", "tables", "curves.png"} <= files
    space = client.download_artifacts(parent_id, "space.yaml", str(tmp_path))
    assert Path(space).read_text() == "optimizer: sgd\n"


def test_log_model_with_signature_and_registration(
    make_tracker: MakeTracker,
    client: MlflowClient,
    tracking_uri: str,
    experiment: str,
    tmp_path: Path,
) -> None:
    tracker = make_tracker()
    parent_id = tracker.open_search({})
    # In train mode: the logged model predicts as in eval mode (no dropout), and the model
    # given keeps its mode.
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.5)).train()
    inputs = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)

    model_uri = tracker.log_model(model, input_example=inputs, registered_model_name=experiment)
    assert model.training
    model.eval()

    logged_model = client.get_logged_model(model_uri.removeprefix("models:/"))
    assert logged_model.source_run_id == parent_id
    assert logged_model.experiment_id == client.get_run(parent_id).info.experiment_id
    # Read through the client: a models:/ URI alone would resolve against the global store.
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=logged_model.artifact_location,
        dst_path=str(tmp_path),
        tracking_uri=tracking_uri,
    )
    # A pt2 graph needs torch alone to load.
    requirements = (Path(local) / "requirements.txt").read_text().split()
    assert f"torch=={torch.__version__.split('+')[0]}" in requirements
    assert not any(line.startswith("automl_nn") for line in requirements)
    signature = Model.load(local).signature
    assert signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, 3)
    assert signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, 2)
    # MLflow's safe format: torch.export's graph, which serves any batch size.
    assert (Path(local) / "data" / "model.pt2").is_file()
    loaded = mlflow.pytorch.load_model(local)
    for rows in (inputs, inputs[:1], np.concatenate([inputs, inputs])[:7]):
        expected = model(torch.as_tensor(rows)).detach().numpy()
        np.testing.assert_allclose(
            loaded(torch.as_tensor(rows)).detach().numpy(), expected, rtol=1e-6
        )
    (version,) = client.search_model_versions(f"name = '{experiment}'")
    assert version.run_id == parent_id
    assert version.source == model_uri
    # The model's name is the registry alias of its newest version: a second log moves it.
    assert client.get_model_version_by_alias(experiment, "model").version == version.version
    tracker.log_model(model, input_example=inputs, registered_model_name=experiment)
    tracker.flush()
    newest = client.get_model_version_by_alias(experiment, "model")
    assert int(newest.version) == int(version.version) + 1


class ValueBranching(torch.nn.Module):
    """A model torch.export cannot trace: its forward branches on the values of its input."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) if x.sum() > 0 else -self.linear(x)


def test_a_model_torch_export_cannot_trace_is_logged_as_pickle_and_says_why(
    make_tracker: MakeTracker, client: MlflowClient, tracking_uri: str, tmp_path: Path
) -> None:
    tracker = make_tracker()
    tracker.open_search({})
    model, inputs = ValueBranching(), np.ones((4, 3), dtype=np.float32)
    with pytest.warns(UserWarning, match="logged to MLflow as pickle.*torch.export failed"):
        model_uri = tracker.log_model(model, input_example=inputs, name="branching")
    logged_model = client.get_logged_model(model_uri.removeprefix("models:/"))
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=logged_model.artifact_location,
        dst_path=str(tmp_path),
        tracking_uri=tracking_uri,
    )
    assert not (Path(local) / "data" / "model.pt2").exists()
    requirements = (Path(local) / "requirements.txt").read_text().split()
    assert f"automl_nn=={automl_nn.__version__}" in requirements  # unpickling needs its classes
    loaded = mlflow.pytorch.load_model(local)
    assert isinstance(loaded, ValueBranching)
    for sign in (1.0, -1.0):
        rows = torch.full((2, 3), sign)
        assert torch.equal(loaded(rows), model(rows))


def test_close_search_stops_trials_left_open(make_tracker: MakeTracker, runs_of) -> None:
    tracker = make_tracker()
    tracker.open_search({})
    tracker.trial_started("done", {})
    tracker.trial_ended("done", "completed")
    tracker.trial_started("interrupted", {})
    tracker.close_search("KILLED")

    runs = runs_of()
    assert parents(runs)[0].info.status == "KILLED"
    assert children(runs)["interrupted"].info.status == "KILLED"
    assert children(runs)["done"].info.status == "FINISHED"


def test_reopened_search_keeps_child_runs_and_steps(
    make_tracker: MakeTracker, client: MlflowClient, runs_of
) -> None:
    first = make_tracker()
    parent_id = first.open_search({"searcher": "random"})
    first.trial_started("t1", {"optimizer.lr": 0.1})
    first.trial_metrics("t1", {"val_loss": 0.9}, step=1)
    first.trial_metrics("t1", {"val_loss": 0.8}, step=2)
    first.search_metrics({"reward": 1.0}, step=0)
    first.close_search("KILLED")

    resumed = make_tracker(parent_run_id=parent_id)
    assert resumed.open_search({"searcher": "random", "resumed": True}) == parent_id
    assert resumed.child_run_id("t1") == first.child_run_id("t1")
    assert client.get_run(parent_id).info.status == "RUNNING"
    resumed.trial_started("t1", {"optimizer.lr": 0.1})
    resumed.trial_metrics("t1", {"val_loss": 0.7}, step=2)  # replayed from a checkpoint
    resumed.trial_metrics("t1", {"val_loss": 0.6}, step=3)
    resumed.search_metrics({"reward": 5.0}, step=0)
    resumed.trial_ended("t1", "completed")
    resumed.trial_started("t2", {"optimizer.lr": 0.2})
    resumed.trial_ended("t2", "completed")
    resumed.close_search()

    runs = runs_of()
    assert [run.info.run_id for run in parents(runs)] == [parent_id]
    assert parents(runs)[0].data.params == {"searcher": "random", "resumed": "True"}
    assert sorted(children(runs)) == ["t1", "t2"]
    t1 = children(runs)["t1"].info.run_id
    assert history(client, t1, "val_loss") == [(1, 0.9), (2, 0.8), (3, 0.6)]
    assert history(client, parent_id, "reward") == [(0, 1.0)]
    assert client.get_run(t1).info.status == "FINISHED"


def test_reopening_an_unknown_run_fails(make_tracker: MakeTracker) -> None:
    tracker = make_tracker(parent_run_id="0123456789abcdef0123456789abcdef")
    with pytest.raises(TrackingError, match="parent_run_id"):
        tracker.open_search({})


def test_a_deleted_experiment_fails(
    make_tracker: MakeTracker, client: MlflowClient, experiment: str
) -> None:
    client.delete_experiment(client.create_experiment(experiment))
    with pytest.raises(TrackingError, match=f"experiment = '{experiment}'"):
        make_tracker().open_search({})


def test_calls_before_open_search_fail(make_tracker: MakeTracker) -> None:
    tracker = make_tracker()
    with pytest.raises(TrackingError, match="open_search"):
        tracker.trial_started("t1", {})
    tracker.open_search({})
    with pytest.raises(TrackingError, match="trial_started"):
        tracker.trial_metrics("t1", {"val_loss": 1.0}, step=1)


def test_null_tracker_takes_every_call_and_writes_nothing() -> None:
    tracker = NullTracker()
    assert isinstance(tracker, Tracker)
    assert tracker.open_search({"searcher": "random"}, {}, {"space.yaml": ""}) is None
    tracker.trial_started("t1", {"optimizer.lr": 0.1})
    tracker.trial_metrics("t1", {"val_loss": 0.5}, step=1)
    tracker.set_trial_tags("t1", {"best": "true"})
    tracker.trial_ended("t1", "completed", "done")
    tracker.search_metrics({"reward": 1.0}, step=0)
    tracker.set_search_tags({"best_trial": "t1"})
    tracker.log_artifact("missing.txt")
    tracker.log_figure(plt.figure(), "curves.png")
    plt.close("all")
    model_uri = tracker.log_model(torch.nn.Linear(2, 1), input_example=np.zeros((1, 2), np.float32))
    assert model_uri is None
    assert tracker.parent_run_id is None
    assert tracker.child_run_id("t1") is None
    with pytest.raises(ConfigError):
        tracker.trial_ended("t1", "crashed")
    tracker.close_search("FINISHED")


def test_end_lost_trials_ends_the_child_runs_the_experiment_does_not_know(
    make_tracker: MakeTracker, runs_of
) -> None:
    tracker = make_tracker()
    tracker.open_search({})
    for trial_id in ("kept", "orphan"):
        tracker.trial_started(trial_id, {})
    assert tracker.end_lost_trials({"kept"}) == ["orphan"]
    child_runs = children(runs_of())
    assert child_runs["orphan"].data.tags[STATUS_TAG] == "lost"
    assert child_runs["orphan"].info.status == "KILLED"
    assert child_runs["kept"].data.tags[STATUS_TAG] == "running"
