"""TrackingCallback on a real Ray Tune run: child runs, metrics and how each trial ended."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import ray
from mlflow.tracking import MlflowClient
from ray import tune

from automl_nn.tracking import (
    NODE_ID_TAG,
    NODE_IP_TAG,
    REASON_TAG,
    STATUS_TAG,
    TRIAL_ID_TAG,
    TRIAL_NUMBER_TAG,
    BackgroundTracker,
    MlflowTracker,
    NullTracker,
    TrackingCallback,
)

pytestmark = pytest.mark.integration

EPOCHS = 3
# How each trial's fit goes, by config["kind"], and how the trial must be recorded.
EXPECTED = {
    "completed": ("completed", None, "FINISHED"),
    "early_stopping": ("completed", "early stopping", "FINISHED"),
    "scheduler_stop": ("stopped_early", "stopped by the scheduler", "FINISHED"),
    "diverged": ("diverged", "the loss became NaN or infinite", "FINISHED"),
    "error": ("failed", "ValueError: boom", "FAILED"),
}


def trainable(config: dict[str, Any]) -> None:
    """Reports like the real trainable: ``fit_status`` in every result, its end in the last."""
    kind = config["kind"]
    node_id = ray.get_runtime_context().get_node_id()
    for epoch in range(1, EPOCHS + 1):
        if kind == "error" and epoch == 2:
            raise ValueError("boom")
        last = epoch == EPOCHS and kind != "scheduler_stop"
        val_loss = math.nan if last and kind == "diverged" else 1.0 / epoch
        tune.report(
            {
                "epoch": epoch,
                "train_loss": 2.0 / epoch,
                "val_loss": val_loss,
                "lr": config["optimizer"]["lr"],
                "fit_status": kind if last else "running",
                "node_id": node_id,
            }
        )
        if kind == "completed" and epoch == 2:  # a replayed epoch is not logged twice
            tune.report(
                {"epoch": epoch, "val_loss": 99.0, "fit_status": "running", "node_id": node_id}
            )


def scheduler_stop(trial_id: str, result: dict[str, Any]) -> bool:
    """Stands in for a scheduler: stops one trial while its fit still says running."""
    return result["config"]["kind"] == "scheduler_stop" and result["training_iteration"] >= 2


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@pytest.fixture(scope="module")
def tracked_search(
    ray_session: None, sqlite_tracking_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MlflowTracker, TrackingCallback]:
    """A grid of trials, one per kind, tracked as a search tracks them: in the background."""
    folder = tmp_path_factory.mktemp("tune")
    tracker = MlflowTracker(
        sqlite_tracking_uri, "callback", artifact_location=str(folder / "artifacts")
    )
    background = BackgroundTracker(tracker)
    background.open_search({"searcher": "grid"})
    callback = TrackingCallback(background, flatten)
    tune.Tuner(
        trainable,
        param_space={"kind": tune.grid_search(list(EXPECTED)), "optimizer": {"lr": 0.1}},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(
            storage_path=str(folder), stop=scheduler_stop, callbacks=[callback], verbose=0
        ),
    ).fit()
    background.close_search()
    return tracker, callback


def child_runs(tracker: MlflowTracker) -> dict[str, Any]:
    """config kind -> child run."""
    client = MlflowClient(tracker.tracking_uri)
    experiment_id = client.get_run(tracker.parent_run_id).info.experiment_id
    runs = client.search_runs(
        [experiment_id], f"tags.`mlflow.parentRunId` = '{tracker.parent_run_id}'"
    )
    return {run.data.params["kind"]: run for run in runs}


def test_one_child_run_per_trial_with_its_flat_config(tracked_search) -> None:
    tracker, callback = tracked_search
    runs = child_runs(tracker)
    assert sorted(runs) == sorted(EXPECTED)
    for run in runs.values():
        assert run.data.params["optimizer.lr"] == "0.1"
        assert tracker.child_run_id(run.data.tags[TRIAL_ID_TAG]) == run.info.run_id
    assert sorted(callback.trial_statuses) == sorted(
        r.data.tags[TRIAL_ID_TAG] for r in runs.values()
    )


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_how_each_trial_ended(tracked_search, kind: str) -> None:
    tracker, callback = tracked_search
    status, reason, run_status = EXPECTED[kind]
    run = child_runs(tracker)[kind]
    assert run.data.tags[STATUS_TAG] == status
    assert run.data.tags.get(REASON_TAG) == reason
    assert run.info.status == run_status
    trial_id = run.data.tags[TRIAL_ID_TAG]
    assert callback.trial_statuses[trial_id] == status
    assert callback.trial_reasons[trial_id] == reason


def test_metrics_per_epoch_without_ray_bookkeeping(tracked_search) -> None:
    tracker, callback = tracked_search
    client = MlflowClient(tracker.tracking_uri)
    run = child_runs(tracker)["completed"]
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.0), (2, 0.5), (3, 1.0 / 3)]
    assert set(run.data.metrics) == {"train_loss", "val_loss", "lr"}
    diverged = child_runs(tracker)["diverged"]
    assert [m.step for m in client.get_metric_history(diverged.info.run_id, "val_loss")] == [1, 2]
    results = callback.trial_results[run.data.tags[TRIAL_ID_TAG]]
    assert [result["epoch"] for result in results] == [1, 2, 2, 3]
    assert "config" not in results[0]


def test_each_child_run_names_the_node_its_trial_ran_on(tracked_search) -> None:
    tracker, _ = tracked_search
    node = next(node for node in ray.nodes() if node["Alive"])
    for run in child_runs(tracker).values():
        assert run.data.tags[NODE_ID_TAG] == node["NodeID"]
        assert run.data.tags[NODE_IP_TAG] == node["NodeManagerAddress"]


def test_state_survives_an_experiment_restore(tracked_search) -> None:
    tracker, callback = tracked_search
    restored = TrackingCallback(tracker, flatten)
    restored.set_state(callback.get_state())
    assert restored.trial_statuses == callback.trial_statuses
    assert restored.trial_reasons == callback.trial_reasons
    assert restored.trial_results == callback.trial_results


class TagRecorder(NullTracker):
    """Keeps the tags set on each trial's child run."""

    def __init__(self) -> None:
        self.tags: list[tuple[str, dict[str, str]]] = []

    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        self.tags.append((trial_id, dict(tags)))


@dataclass
class StandInTrial:
    trial_id: str
    config: dict[str, Any]


@pytest.mark.parametrize("tag_nodes", [True, False])
def test_node_tags_when_asked_once_per_node_a_trial_runs_on(tag_nodes: bool) -> None:
    recorder = TagRecorder()
    callback = TrackingCallback(recorder, flatten, tag_nodes=tag_nodes)
    trial = StandInTrial("t1", {})
    callback.on_trial_start(0, [], trial)
    # Retried after its node was lost, the trial goes on on node b.
    for epoch, node in enumerate(["a", "a", "b", "b"], start=1):
        result = {"epoch": epoch, "val_loss": 1.0, "node_id": node, "node_ip": f"10.0.0.{node}"}
        callback.on_trial_result(0, [], trial, {**result, "training_iteration": epoch})

    expected = [("t1", {NODE_ID_TAG: node, NODE_IP_TAG: f"10.0.0.{node}"}) for node in ("a", "b")]
    assert recorder.tags == (expected if tag_nodes else [])


class StartRecorder(NullTracker):
    """Keeps the tags each trial's child run was opened with."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, str]]] = []

    def trial_started(
        self, trial_id: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None
    ) -> None:
        self.started.append((trial_id, dict(tags or {})))


def test_a_trial_opens_its_run_with_its_number_in_the_searchers_order() -> None:
    recorder = StartRecorder()
    callback = TrackingCallback(recorder, flatten)
    trials = [StandInTrial(f"t{number}", {"lr": number}) for number in range(3)]
    for trial in (trials[2], trials[0]):  # the third proposal may start first
        callback.on_trial_start(0, trials, trial)
    assert recorder.started == [("t2", {TRIAL_NUMBER_TAG: "2"}), ("t0", {TRIAL_NUMBER_TAG: "0"})]
