"""BackgroundTracker: writes leave the caller's thread, in order, and nothing is lost."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from automl_nn.errors import TrackingError, TrackingWriteError
from automl_nn.tracking import BackgroundTracker, MlflowTracker, NullTracker, TrackingCallback

PARENT_TAG = "mlflow.parentRunId"


class GatedTracker(NullTracker):
    """Records each call; its writes wait while the gate is shut, or raise when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.failing_trials: set[str] = set()
        self.closed_with: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        self.calls = state["calls"]

    def trial_started(
        self, trial_id: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None
    ) -> None:
        self._write("trial_started", trial_id, dict(params))

    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        self._write("trial_metrics", trial_id, dict(metrics), step)

    def trial_ended(self, trial_id: str, status: str, reason: str | None = None) -> None:
        self._write("trial_ended", trial_id, status, reason)

    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        self._write("set_trial_tags", trial_id, dict(tags))

    def close_search(self, status: str = "FINISHED") -> None:
        self.closed_with = status

    def _write(self, name: str, trial_id: str, *args: Any) -> None:
        self.gate.wait(timeout=10)
        if trial_id in self.failing_trials:
            raise RuntimeError(f"store refused {name} of {trial_id}")
        self.calls.append((name, trial_id, *args))


def test_queued_calls_return_before_the_write_and_flush_waits_for_them() -> None:
    inner = GatedTracker()
    tracker = BackgroundTracker(inner)
    inner.gate.clear()  # the store is slow

    tracker.trial_started("t1", {"optimizer.lr": 0.1})
    tracker.trial_metrics("t1", {"val_loss": 0.5, "fit_status": "running"}, step=1)
    tracker.trial_ended("t1", "completed")
    assert inner.calls == []  # the caller did not wait

    inner.gate.set()
    tracker.flush()
    assert inner.calls == [
        ("trial_started", "t1", {"optimizer.lr": 0.1}),
        ("trial_metrics", "t1", {"val_loss": 0.5}, 1),  # numbers only, as every tracker logs
        ("trial_ended", "t1", "completed", None),
    ]
    tracker.close_search()


def test_arguments_are_copied_when_queued() -> None:
    inner = GatedTracker()
    tracker = BackgroundTracker(inner)
    inner.gate.clear()
    params = {"optimizer.lr": 0.1}
    tags = {"automl_nn.node_id": "a"}
    tracker.trial_started("t1", params)
    tracker.set_trial_tags("t1", tags)
    params["optimizer.lr"], tags["automl_nn.node_id"] = 9.0, "b"
    inner.gate.set()
    tracker.close_search()
    assert inner.calls == [
        ("trial_started", "t1", {"optimizer.lr": 0.1}),
        ("set_trial_tags", "t1", {"automl_nn.node_id": "a"}),
    ]


def test_a_failed_write_is_raised_by_the_next_wait_and_the_rest_still_run() -> None:
    inner = GatedTracker()
    inner.failing_trials = {"bad"}
    tracker = BackgroundTracker(inner)
    tracker.trial_started("bad", {})
    tracker.trial_started("good", {})

    with pytest.raises(TrackingWriteError, match="store refused trial_started of bad"):
        tracker.flush()
    assert inner.calls == [("trial_started", "good", {})]
    tracker.flush()  # raised once: the error is not repeated
    tracker.trial_started("bad", {})
    with pytest.raises(TrackingError, match="of bad"):
        tracker.close_search("FINISHED")
    assert inner.closed_with == "FINISHED"  # the search's run is closed all the same


def test_a_write_that_raises_system_exit_does_not_stop_the_writer() -> None:
    class Exiting(GatedTracker):
        def trial_started(
            self, trial_id: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None
        ) -> None:
            if trial_id == "exit":
                raise SystemExit(3)
            super().trial_started(trial_id, params, tags)

    inner = Exiting()
    tracker = BackgroundTracker(inner)
    tracker.trial_started("exit", {})
    tracker.trial_started("after", {})
    with pytest.raises(TrackingError):
        tracker.flush()
    assert inner.calls == [("trial_started", "after", {})]
    tracker.close_search()


def test_bad_status_fails_in_the_callers_thread() -> None:
    tracker = BackgroundTracker(GatedTracker())
    with pytest.raises(Exception, match="status"):
        tracker.trial_ended("t1", "crashed")
    with pytest.raises(Exception, match="status"):
        tracker.close_search("DONE")


def test_pickled_with_ray_callbacks_it_waits_and_leaves_the_thread_behind() -> None:
    inner = GatedTracker()
    tracker = BackgroundTracker(inner)
    callback = TrackingCallback(tracker, flatten=dict)
    tracker.trial_started("t1", {})

    copy = pickle.loads(pickle.dumps(callback))

    assert inner.calls == [("trial_started", "t1", {})]  # written before it was pickled
    assert isinstance(copy.tracker, BackgroundTracker)
    copy.tracker.trial_started("t2", {})
    copy.tracker.close_search()
    assert copy.tracker.inner.calls[-1] == ("trial_started", "t2", {})


def test_a_ray_snapshot_of_the_callback_state_waits_for_the_writes() -> None:
    inner = GatedTracker()
    tracker = BackgroundTracker(inner)
    callback = TrackingCallback(tracker, flatten=dict)
    inner.gate.clear()
    tracker.trial_started("t1", {})
    threading.Timer(0.2, inner.gate.set).start()

    callback.get_state()

    assert inner.calls == [("trial_started", "t1", {})]
    tracker.close_search()


def test_a_ray_snapshot_does_not_raise_a_failed_write_the_next_flush_does() -> None:
    # Raised inside Ray's snapshot, the error would end the search (or, at the last
    # snapshot, be logged by Ray and lost).
    inner = GatedTracker()
    inner.failing_trials = {"bad"}
    tracker = BackgroundTracker(inner)
    callback = TrackingCallback(tracker, flatten=dict)
    tracker.trial_started("bad", {})
    tracker.trial_started("good", {})

    state = callback.get_state()
    pickle.dumps(callback)  # Ray pickles the callbacks with the snapshot, too

    assert inner.calls == [("trial_started", "good", {})] and "trial_statuses" in state
    with pytest.raises(TrackingError, match="of bad"):
        tracker.flush()


def ray_trial(trial_id: str, status: str) -> Any:
    return SimpleNamespace(trial_id=trial_id, status=status, config={})


def test_trials_ray_stopped_without_a_callback_are_ended_by_what_they_reported() -> None:
    # A time budget that runs out stops the running trials without on_trial_complete.
    inner = GatedTracker()
    callback = TrackingCallback(inner, flatten=dict)
    trials = [ray_trial(name, "TERMINATED") for name in ("done", "cut", "unreported")]
    trials.append(ray_trial("broken", "ERROR"))
    for trial in trials:
        callback.on_trial_start(0, trials, trial)
    callback.trial_results["cut"] = [{"epoch": 1}]
    callback.trial_results["done"] = [{"epoch": 1}]
    callback._end("done", "completed", None)

    callback.end_unfinished_trials(trials)

    ended = {call[1]: call[2:] for call in inner.calls if call[0] == "trial_ended"}
    assert ended == {
        "done": ("completed", None),
        "cut": ("stopped_early", "the search budget ran out"),
        "unreported": ("stopped_early", "the search budget ran out before its first epoch"),
        "broken": ("failed", "the trial raised an error"),
    }
    assert set(callback.trial_statuses.values()) == {"completed", "stopped_early", "failed"}


def store_contents(uri: str, experiment: str) -> list[dict[str, Any]]:
    """Every run of an experiment, without ids and times: what a user sees in MLflow."""
    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    runs: list[Run] = list(client.search_runs([found.experiment_id]))
    contents = []
    for run in runs:
        tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
        histories = {
            key: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)]
            for key in run.data.metrics
        }
        contents.append(
            {
                "is_child": PARENT_TAG in run.data.tags,
                "name": run.info.run_name,
                "status": run.info.status,
                "params": run.data.params,
                "tags": tags,
                "metrics": {key: sorted(points) for key, points in histories.items()},
            }
        )
    return sorted(contents, key=lambda run: (run["is_child"], run["name"]))


def a_search(tracker: Any) -> None:
    """The calls a search makes, trials interleaved as Ray Tune interleaves them."""
    tracker.open_search({"searcher": "random"}, {"mlflow.runName": "search"})
    for trial in ("t1", "t2", "t3"):
        tracker.trial_started(trial, {"optimizer.lr": 0.1, "model.family": "mlp"})
    for step in (1, 2, 3):
        for trial in ("t1", "t2", "t3"):
            tracker.trial_metrics(trial, {"val_loss": 1 / step, "lr": 0.1 * step}, step)
        tracker.set_trial_tags("t2", {"automl_nn.node_id": f"node-{step}"})
    tracker.trial_ended("t1", "completed")
    tracker.trial_ended("t2", "stopped_early", "stopped by the scheduler")
    tracker.trial_ended("t3", "failed", "ValueError: boom")
    tracker.set_search_tags({"automl_nn.best_trial_id": "t1"})
    tracker.search_metrics({"best_val_loss": 1 / 3}, step=0)
    tracker.close_search("FINISHED")


def test_mlflow_gets_exactly_what_a_direct_tracker_writes(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    make: Callable[[str], MlflowTracker] = lambda experiment: MlflowTracker(  # noqa: E731
        uri, experiment, artifact_location=str(tmp_path / experiment)
    )
    a_search(make("direct"))
    a_search(BackgroundTracker(make("background")))

    background = store_contents(uri, "background")
    assert background == store_contents(uri, "direct")
    assert len(background) == 4 and background[1]["metrics"]["val_loss"] == [
        (1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3)),
    ]  # fmt: skip
