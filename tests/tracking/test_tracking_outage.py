"""Tracking through an MLflow outage: a real server's port goes down, then comes back."""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pytest
import requests
import torch
from mlflow.tracking import MlflowClient

from automl_nn import search
from automl_nn.cli import main
from automl_nn.tracking import (
    PENDING_FILE,
    BufferedTracker,
    MlflowTracker,
    NullTracker,
    PendingTracking,
    TrackingOutageWarning,
)
from tests.api.conftest import TINY_SPACE
from tests.plugins import forget_plugin
from tests.tracking.hold import HELD_FAMILY, hold_flag, release
from tests.tracking.test_tracker_contract import children, history, parents

if TYPE_CHECKING:
    from tests.conftest import ServerOutage

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Seconds the server stays down at least before it comes back.
OUTAGE_S = 3
# Seconds the outage of a search waits for its child run, then for a call kept on disk.
TRIAL_WAIT_S = 120
# Registers the model family whose trials wait (imported by the search, never at collection).
HELD_PLUGIN = "tests.tracking.held_families"


class FlakyTracker(NullTracker):
    """Records the metrics it receives; refuses the connection for one step, or refuses a step."""

    def __init__(self, unreachable_at: int | None = None, refused_at: int | None = None):
        self.unreachable_at = unreachable_at
        self.refused_at = refused_at
        self.steps: list[int] = []

    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        if step == self.unreachable_at:
            raise requests.ConnectionError("connection refused")
        if step == self.refused_at:
            raise ValueError(f"step {step} is not valid")
        self.steps.append(step)


def kept_metrics(folder: Path, steps: range) -> PendingTracking:
    pending = PendingTracking(folder)
    for step in steps:
        pending.append("trial_metrics", {"trial_id": "t1", "metrics": {"loss": 1.0}, "step": step})
    return pending


def test_a_replay_cut_short_goes_on_where_it_stopped_sending_each_call_once(
    tmp_path: Path,
) -> None:
    tracker = FlakyTracker(unreachable_at=3)
    outcome = kept_metrics(tmp_path, range(1, 5)).replay(tracker)
    assert (outcome.sent, outcome.remaining) == (Counter(trial_metrics=2), 2)

    tracker.unreachable_at = None
    later = PendingTracking(tmp_path)  # a new process reads what is left
    assert later.count == 2
    assert later.replay(tracker).sent == Counter(trial_metrics=2)
    assert tracker.steps == [1, 2, 3, 4]
    assert list(tmp_path.iterdir()) == []  # sent: nothing is left on disk


def test_a_call_the_server_refuses_is_dropped_and_named(tmp_path: Path) -> None:
    outcome = kept_metrics(tmp_path, range(1, 4)).replay(FlakyTracker(refused_at=2))
    assert outcome.sent == Counter(trial_metrics=2)
    assert outcome.rejected == ["trial_metrics: step 2 is not valid"]
    assert not (tmp_path / PENDING_FILE).exists()


class AnswerLostClient:
    """An MlflowClient whose chosen requests reach the store, then time out on the way back."""

    def __init__(self, client: MlflowClient, lose: set[tuple[str, Any]]) -> None:
        self.client = client
        self.lose = lose  # ("create_run", trial id) and ("log_batch", metric value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def create_run(self, experiment_id: str, **kwargs: Any) -> Any:
        run = self.client.create_run(experiment_id, **kwargs)
        self._answer(("create_run", (kwargs.get("tags") or {}).get("automl_nn.trial_id")))
        return run

    def log_batch(self, run_id: str, metrics: Any = (), **kwargs: Any) -> None:
        self.client.log_batch(run_id, metrics=metrics, **kwargs)
        for metric in metrics:
            self._answer(("log_batch", metric.value))

    def _answer(self, call: tuple[str, Any]) -> None:
        if call in self.lose:
            self.lose.discard(call)
            raise requests.Timeout("read timed out")


def test_calls_that_landed_before_their_answer_was_lost_are_not_sent_twice(
    tmp_path: Path,
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    lost = {("create_run", "t1"), ("log_batch", 2.0)}
    inner = MlflowTracker(uri, "lost")
    inner._client = AnswerLostClient(inner._client, lost)
    tracker = BufferedTracker(inner, tmp_path, flush_interval_s=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrackingOutageWarning)
        tracker.open_search({"searcher": "random"})
        tracker.trial_started("t1", {"optimizer.lr": 0.1})  # created, answer lost: kept
        tracker.trial_metrics("t1", {"loss": 1.0}, step=1)  # replays the start first
        tracker.trial_started("t2", {"optimizer.lr": 0.2})
        tracker.trial_metrics("t2", {"loss": 2.0}, step=1)  # logged, answer lost: kept
        tracker.trial_ended("t2", "completed")  # replays the metrics first
        tracker.trial_ended("t1", "completed")
        tracker.close_search()

    assert lost == set()  # both answers were lost on the way
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("lost").experiment_id])
    by_trial = children(runs)  # fails on a second child run for a trial
    assert sorted(by_trial) == ["t1", "t2"]
    assert history(client, by_trial["t1"].info.run_id, "loss") == [(1, 1.0)]
    assert history(client, by_trial["t2"].info.run_id, "loss") == [(1, 2.0)]
    assert {run.info.status for run in runs} == {"FINISHED"}
    assert not (tmp_path / PENDING_FILE).exists()


def outage_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, TrackingOutageWarning)]


def calls_during_outage(tracker: BufferedTracker) -> list[Callable[[], object]]:
    """A trial that ends, a trial that starts, artifacts and a model, all while down."""
    figure, axis = plt.subplots()
    axis.plot([1, 2], [0.9, 0.8])
    model = torch.nn.Linear(3, 2)
    return [
        lambda: tracker.trial_metrics("t1", {"val_loss": 0.8}, step=2),
        lambda: tracker.trial_metrics("t1", {"val_loss": 0.8}, step=2),  # a repeat: sent once
        lambda: tracker.trial_ended("t1", "completed"),
        lambda: tracker.trial_started("t2", {"optimizer.lr": 0.01}),
        lambda: tracker.trial_metrics("t2", {"val_loss": 0.7}, step=1),
        lambda: tracker.trial_metrics("t2", {"val_loss": 0.6}, step=2),
        lambda: tracker.set_trial_tags("t2", {"automl_nn.best": "true"}),
        lambda: tracker.log_figure(figure, "plots/curves.png"),
        lambda: tracker.log_model(
            model, input_example=np.zeros((2, 3), dtype=np.float32), name="best_model"
        ),
    ]


@pytest.mark.integration
def test_an_outage_is_kept_on_disk_with_one_warning_and_sent_when_the_server_is_back(
    mlflow_server_outage: ServerOutage, tmp_path: Path
) -> None:
    server = mlflow_server_outage
    experiment = f"outage-{uuid.uuid4().hex[:8]}"
    tracker = BufferedTracker(MlflowTracker(server.uri, experiment), tmp_path, flush_interval_s=0)
    parent_id = tracker.open_search({"searcher": "random"})
    tracker.trial_started("t1", {"optimizer.lr": 0.1})
    tracker.trial_metrics("t1", {"val_loss": 0.9}, step=1)
    server.down()
    pending = tmp_path / PENDING_FILE
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lines_kept = []
        for call in calls_during_outage(tracker):
            call()  # never raises
            lines_kept.append(len(pending.read_text().splitlines()))
        assert tracker.child_run_id("t2") is None  # t2 has no run yet
        server.up()
        tracker.search_metrics({"best_val_loss": 0.6}, step=0)  # sends what was kept first
        tracker.close_search()

    assert lines_kept == list(range(1, len(lines_kept) + 1))
    [warning] = outage_warnings(caught)
    assert f"MLflow at {server.uri} is not answering" in warning
    assert f"`automl-nn sync {tmp_path}`" in warning
    assert list(tmp_path.iterdir()) == []

    client = MlflowClient(server.uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    [parent] = parents(runs)
    assert (parent.info.run_id, parent.info.status) == (parent_id, "FINISHED")
    assert parent.data.metrics == {"best_val_loss": 0.6}
    child_runs = children(runs)
    assert sorted(child_runs) == ["t1", "t2"]
    assert tracker.child_run_id("t2") == child_runs["t2"].info.run_id
    assert history(client, child_runs["t1"].info.run_id, "val_loss") == [(1, 0.9), (2, 0.8)]
    assert history(client, child_runs["t2"].info.run_id, "val_loss") == [(1, 0.7), (2, 0.6)]
    assert child_runs["t1"].data.tags["automl_nn.status"] == "completed"
    assert child_runs["t1"].info.status == "FINISHED"
    assert child_runs["t2"].data.tags["automl_nn.best"] == "true"
    assert child_runs["t2"].info.status == "KILLED"  # never ended: closed with the search
    figures = client.list_artifacts(parent_id, "plots")
    assert [artifact.path for artifact in figures] == ["plots/curves.png"]
    models = client.search_logged_models([parent.info.experiment_id])
    assert [model.name for model in models] == ["best_model"]


class Outage(threading.Thread):
    """An outage a search cannot outrun, however loaded the machine.

    The search's trials wait before their first epoch (:data:`HELD_PLUGIN`).
    Once the search's first child run exists, the server goes down and the trials are let
    go, so every epoch is written while it is down; it comes back once the search has kept a
    call on disk (and at least :data:`OUTAGE_S` later).
    """

    def __init__(self, server: ServerOutage, experiment: str, hold: int, storage: Path) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.experiment = experiment
        self.hold = hold
        self.storage = storage
        self.stopped = threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            self._wait_for_a_child_run()
            self.server.down()
            self.stopped.set()
            release(self.hold)
            time.sleep(OUTAGE_S)
            self._wait_for_a_kept_call()
            self.server.up()
        except BaseException as error:  # told to the test, which runs in another thread
            self.errors.append(error)
        finally:
            release(self.hold)  # never leave the trials waiting

    def _wait_for_a_child_run(self) -> None:
        client = MlflowClient(self.server.uri)
        query = "tags.`mlflow.parentRunId` != ''"
        self._wait_until(
            lambda: bool(
                (found := client.get_experiment_by_name(self.experiment))
                and client.search_runs([found.experiment_id], query, max_results=1)
            ),
            "a child run",
        )

    def _wait_for_a_kept_call(self) -> None:
        kept = f"*/{PENDING_FILE}"  # in the search's folder, one level under the storage
        self._wait_until(lambda: any(self.storage.glob(kept)), f"a {PENDING_FILE}")

    @staticmethod
    def _wait_until(happened: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TRIAL_WAIT_S
        while not happened():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} in {TRIAL_WAIT_S} s")
            time.sleep(0.2)


@pytest.fixture
def hold() -> Iterator[int]:
    """A fresh hold for the trials of one search; the family and its flag are gone after."""
    number = uuid.uuid4().int % 10**9 + 1
    yield number
    hold_flag(number).unlink(missing_ok=True)
    forget_plugin(HELD_PLUGIN, HELD_FAMILY)


@pytest.mark.integration
@pytest.mark.usefixtures("ray_session")
def test_a_search_goes_on_through_an_outage_and_every_epoch_reaches_mlflow_once(
    mlflow_server_outage: ServerOutage, tmp_path: Path, hold: int
) -> None:
    server = mlflow_server_outage
    experiment = f"outage-search-{uuid.uuid4().hex[:8]}"
    space = {**TINY_SPACE, "model": {"family": HELD_FAMILY, "hold": hold,
                                     "width": {"choice": [8, 16]}}}  # fmt: skip
    outage = Outage(server, experiment, hold, tmp_path)
    outage.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = search(
            "wine", space, searcher="random", scheduler="fifo", num_trials=4, max_epochs=3,
            tracking_uri=server.uri, experiment=experiment, storage_path=str(tmp_path),
            plugins=[HELD_PLUGIN], verbose=False,
        )  # fmt: skip
    outage.join()
    assert outage.errors == [] and outage.stopped.is_set()
    warned = outage_warnings(caught)
    assert len([message for message in warned if "is not answering" in message]) == 1
    folder = Path(result.experiment_path)
    if (folder / PENDING_FILE).exists():  # the search ended before the server was back
        assert any(f"`automl-nn sync {folder}`" in message for message in warned[1:])
        assert main(["sync", str(folder)]) == 0
    assert not (folder / PENDING_FILE).exists()

    client = MlflowClient(server.uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert [parent.info.status for parent in parents(runs)] == ["FINISHED"]
    child_runs = children(runs)
    assert sorted(child_runs) == sorted(result.leaderboard.trial_id) and len(child_runs) == 4
    for trial_id, epochs in result.histories.items():
        run_id = child_runs[trial_id].info.run_id
        for metric in ("train_loss", "val_loss", "val_accuracy"):
            steps = [point.step for point in client.get_metric_history(run_id, metric)]
            assert sorted(steps) == list(epochs["epoch"]), (trial_id, metric)
