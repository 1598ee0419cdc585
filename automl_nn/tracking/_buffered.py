"""Tracking that outlives an MLflow outage: what cannot be sent waits on disk, in order.

When the tracking server stops answering, :class:`BufferedTracker` keeps every tracking call
in ``pending_tracking.jsonl`` in the search folder, warns once, and sends the calls, in order,
when the server answers again. What is still there when the search ends is sent by
``automl-nn sync FOLDER`` (:func:`send_pending_tracking`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from mlflow.tracking import MlflowClient

from automl_nn.tracking._mlflow import MlflowTracker
from automl_nn.tracking._tracker import (
    Scalar,
    Tracker,
    check_search_status,
    check_trial_status,
    finite_metrics,
)

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.figure import Figure

PENDING_FILE = "pending_tracking.jsonl"
# How many lines of PENDING_FILE were sent: marked after each one, so a crash mid-flush
# never sends an operation twice.
_SENT_FILE = "pending_tracking.sent"
# Copies of artifacts, figures and models that wait with their operations.
_FILES_FOLDER = "pending_tracking_files"
FLUSH_INTERVAL_S = 10.0
# MLflow's client retries a request 7 times with exponential backoff and waits up to 120 s for
# each answer: minutes per call while the server is down. A buffered call fails at once
# instead (what failed is kept, not lost). A variable the user set wins.
FAST_FAILING_HTTP_ENV: dict[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
# What a server that is down, unreachable or overloaded raises, somewhere in the chain of
# MLflow's MlflowException: refused or timed-out connections, and retries exhausted on
# 429/5xx answers (requests' RetryError).
_UNREACHABLE: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.RetryError,
    ConnectionError,
    TimeoutError,
)
_REPLAYABLE = frozenset(
    {
        "trial_started",
        "trial_metrics",
        "trial_ended",
        "set_trial_tags",
        "search_metrics",
        "set_search_tags",
        "log_artifact",
        "log_saved_model",
        "end_lost_trials",
        "close_search",
    }
)

logger = logging.getLogger(__name__)


class TrackingOutageWarning(UserWarning):
    """The tracking server does not answer; tracking data waits on disk."""


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) says the server did not answer.

    Example:
        >>> is_unreachable(RuntimeError("x"))
        False
        >>> is_unreachable(ConnectionRefusedError())
        True
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNREACHABLE):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def fast_failing_http() -> Iterator[None]:
    """Within the block, MLflow's HTTP client gives up on a silent server at once.

    Sets :data:`FAST_FAILING_HTTP_ENV` where the environment does not set them, and removes
    them again on the way out, so the rest of the process keeps MLflow's own retries.
    """
    added = {key: value for key, value in FAST_FAILING_HTTP_ENV.items() if key not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@dataclass
class ReplayOutcome:
    """What one replay of the pending operations did.

    Attributes:
        sent: operation name -> how many were sent.
        rejected: ``"operation: error"`` for each the server refused (they are dropped).
        remaining: operations still on disk because the server stopped answering.
    """

    sent: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)
    remaining: int = 0


class PendingTracking:
    """The tracking operations of a search that wait on disk, oldest first.

    One JSON line per operation in ``folder/pending_tracking.jsonl``: its name and its
    arguments. Files an operation needs (an artifact, a figure, a model) are copied next to
    it, and named relative to ``folder``, so the folder can move before it is sent.

    Args:
        folder: the search folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / PENDING_FILE
        self._sent_path = folder / _SENT_FILE
        self.count = len(self._operations()) - self._sent()
        if self.path.exists() and not self.count:
            self._clear()  # every line was sent, then a crash came before the file was removed

    def append(self, operation: str, args: Mapping[str, Any]) -> None:
        """Keep one operation after the others."""
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"op": operation, "args": dict(args)}, default=str)
        with self.path.open("a") as stream:
            stream.write(line + "\n")
        self.count += 1

    def new_files_folder(self) -> Path:
        """A fresh folder for the files of one operation."""
        folder = self.folder / _FILES_FOLDER / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        return folder

    def relative(self, path: Path) -> str:
        """``path`` as an operation names it: relative to the search folder."""
        return str(path.relative_to(self.folder))

    def replay(self, tracker: Tracker) -> ReplayOutcome:
        """Send the pending operations in order to ``tracker``, each one once.

        Stops at the first one the server does not answer; the rest stays on disk. An
        operation the server refuses is dropped and named in the outcome.
        """
        operations = self._operations()
        outcome = ReplayOutcome()
        try:  # a kept call may have reached the store before its answer was lost
            tracker.resync()
        except Exception as error:
            if not is_unreachable(error):
                raise
            outcome.remaining = self.count = len(operations) - self._sent()
            return outcome
        for index in range(self._sent(), len(operations)):
            name, args = operations[index]["op"], operations[index]["args"]
            try:
                self._apply(tracker, name, args)
                outcome.sent[name] += 1
            except Exception as error:
                if is_unreachable(error):
                    outcome.remaining = self.count = len(operations) - index
                    return outcome
                outcome.rejected.append(f"{name}: {' '.join(str(error).split())}")
            self._mark_sent(index + 1)
        self._clear()
        return outcome

    def _apply(self, tracker: Tracker, name: str, args: dict[str, Any]) -> None:
        if name not in _REPLAYABLE:
            raise ValueError(f"{name!r} is not a tracking operation")
        if name == "log_artifact":
            tracker.log_artifact(str(self.folder / args["local_path"]), args["artifact_path"])
        elif name == "log_saved_model":
            self._log_saved_model(tracker, **args)
        else:
            getattr(tracker, name)(**args)

    def _log_saved_model(
        self,
        tracker: Tracker,
        model_file: str,
        input_example_file: str,
        registered_model_name: str | None,
        name: str,
    ) -> None:
        import numpy as np
        import torch

        tracker.log_model(
            torch.load(self.folder / model_file, weights_only=False),
            input_example=np.load(self.folder / input_example_file),
            registered_model_name=registered_model_name,
            name=name,
        )

    def _operations(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def _sent(self) -> int:
        return int(self._sent_path.read_text()) if self._sent_path.exists() else 0

    def _mark_sent(self, lines: int) -> None:
        partial = self._sent_path.with_suffix(".partial")
        partial.write_text(str(lines))
        partial.replace(self._sent_path)  # atomic: a crash leaves the old count or the new

    def _clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self._sent_path.unlink(missing_ok=True)
        shutil.rmtree(self.folder / _FILES_FOLDER, ignore_errors=True)
        self.count = 0


class BufferedTracker(Tracker):
    """An :class:`MlflowTracker` that keeps going when the tracking server stops answering.

    Every call goes to ``inner``. When one fails because the server does not answer, it is
    kept in ``buffer_dir/pending_tracking.jsonl`` (artifacts, figures and models as files
    beside it), a :class:`TrackingOutageWarning` says so once, and every later call is kept
    after it, in order (a trial's start before its metrics). At most every
    ``flush_interval_s`` seconds the kept calls are sent again, so a dead server costs one
    failed request per interval, not one per metric; once they are all sent, calls go
    straight through again. :meth:`close_search` tries a last time and, if calls are left,
    says to run ``automl-nn sync buffer_dir``.

    MLflow's HTTP client is made to give up at once around each call (see
    :func:`fast_failing_http`). :meth:`open_search` is not kept: a search does not start
    without its parent run. A model logged during an outage is saved into ``buffer_dir``
    (pickled with its class, as MLflow's own pickle format does) and logged when the calls
    are sent, so :meth:`log_model` returns None then. Methods that answer (:meth:`child_run_id`)
    answer from what ``inner`` knows: a trial started during an outage has no run id yet.

    Args:
        inner: the tracker that writes to MLflow.
        buffer_dir: where kept calls wait: the search folder, which ``automl-nn sync`` reads.
        flush_interval_s: seconds between tries to send kept calls.

    Example::

        tracker = BufferedTracker(MlflowTracker("http://127.0.0.1:5000", "demo"), search_folder)
        tracker.open_search({"searcher": "random"})
        tracker.trial_started("t1", {"optimizer.lr": 0.1})  # the server may be down: kept
        tracker.trial_metrics("t1", {"val_loss": 0.4}, step=1)
        tracker.close_search()  # sends what was kept, or says to run automl-nn sync
    """

    def __init__(
        self,
        inner: MlflowTracker,
        buffer_dir: str | Path,
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self.inner = inner
        self.pending = PendingTracking(Path(buffer_dir))
        self.flush_interval_s = flush_interval_s
        self._next_flush = 0.0  # time.monotonic() of the next try to send kept calls

    @property
    def parent_run_id(self) -> str | None:
        return self.inner.parent_run_id

    def open_search(
        self,
        params: Mapping[str, Scalar],
        tags: Mapping[str, str] | None = None,
        text_artifacts: Mapping[str, str] | None = None,
    ) -> str | None:
        run_id = self.inner.open_search(params, tags, text_artifacts)
        with fast_failing_http():
            self._flush(force=True)  # calls a resumed search left on disk come first
        return run_id

    def trial_started(
        self, trial_id: str, params: Mapping[str, Scalar], tags: Mapping[str, str] | None = None
    ) -> None:
        self._call("trial_started", trial_id=trial_id, params=dict(params), tags=dict(tags or {}))

    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        self._call("trial_metrics", trial_id=trial_id, metrics=finite_metrics(metrics), step=step)

    def trial_ended(self, trial_id: str, status: str, reason: str | None = None) -> None:
        check_trial_status(status)
        self._call("trial_ended", trial_id=trial_id, status=status, reason=reason)

    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        self._call("set_trial_tags", trial_id=trial_id, tags=dict(tags))

    def child_run_id(self, trial_id: str) -> str | None:
        return self.inner.child_run_id(trial_id)

    def search_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        self._call("search_metrics", metrics=finite_metrics(metrics), step=step)

    def set_search_tags(self, tags: Mapping[str, str]) -> None:
        self._call("set_search_tags", tags=dict(tags))

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> None:
        self._send_or_keep(
            lambda: self.inner.log_artifact(local_path, artifact_path),
            lambda: ("log_artifact", self._copied_artifact(local_path, artifact_path)),
        )

    def log_figure(self, figure: Figure, name: str) -> None:
        self._send_or_keep(
            lambda: self.inner.log_figure(figure, name),
            lambda: ("log_artifact", self._saved_figure(figure, name)),
        )

    def log_model(
        self,
        model: torch.nn.Module,
        *,
        input_example: np.ndarray,
        registered_model_name: str | None = None,
        name: str = "model",
    ) -> str | None:
        saved = {"registered_model_name": registered_model_name, "name": name}
        return self._send_or_keep(
            lambda: self.inner.log_model(model, input_example=input_example, **saved),
            lambda: ("log_saved_model", self._saved_model(model, input_example) | saved),
        )

    def end_lost_trials(self, known_trial_ids: set[str]) -> list[str]:
        # Kept, it runs when sent, once the trials started during the outage have their runs;
        # until then no trial is known to be lost.
        lost = self._send_or_keep(
            lambda: self.inner.end_lost_trials(known_trial_ids),
            lambda: ("end_lost_trials", {"known_trial_ids": sorted(known_trial_ids)}),
        )
        return lost or []

    def close_search(self, status: str = "FINISHED") -> None:
        check_search_status(status)
        self._call("close_search", status=status)
        if self.pending.count:
            with fast_failing_http():
                self._flush(force=True)
        if self.pending.count:
            warnings.warn(
                f"{self.pending.count} tracking operations could not be sent to MLflow at "
                f"{self.inner.tracking_uri}; they are kept in {self.pending.path}: run "
                f"`automl-nn sync {self.pending.folder}` once the server answers",
                TrackingOutageWarning,
                stacklevel=2,
            )

    def _call(self, operation: str, **args: Any) -> None:
        self._send_or_keep(
            lambda: getattr(self.inner, operation)(**args), lambda: (operation, args)
        )

    def _send_or_keep(
        self, send: Callable[[], Any], kept: Callable[[], tuple[str, Mapping[str, Any]]]
    ) -> Any:
        """``send()``'s answer; or, when calls wait or the server does not answer, keep it."""
        with fast_failing_http():
            self._flush()
            if not self.pending.count:
                try:
                    return send()
                except Exception as error:
                    if not is_unreachable(error):
                        raise
                    self._outage_begins()
            self.pending.append(*kept())
        return None

    def _flush(self, force: bool = False) -> None:
        """Send the kept calls, when there are some and it is time to try."""
        if not self.pending.count or (not force and time.monotonic() < self._next_flush):
            return
        outcome = self.pending.replay(self.inner)
        for rejected in outcome.rejected:
            warnings.warn(f"MLflow refused a kept {rejected}", TrackingOutageWarning, stacklevel=2)
        if outcome.remaining:
            self._next_flush = time.monotonic() + self.flush_interval_s
        else:
            logger.info(
                "MLflow at %s answers again: sent %d kept tracking operations",
                self.inner.tracking_uri,
                sum(outcome.sent.values()),
            )

    def _outage_begins(self) -> None:
        self._next_flush = time.monotonic() + self.flush_interval_s
        warnings.warn(
            f"MLflow at {self.inner.tracking_uri} is not answering; keeping tracking data in "
            f"{self.pending.path}; it is sent when the server is back or by "
            f"`automl-nn sync {self.pending.folder}`",
            TrackingOutageWarning,
            stacklevel=2,
        )

    def _copied_artifact(self, local_path: str, artifact_path: str | None) -> dict[str, Any]:
        source = Path(local_path)
        copy = self.pending.new_files_folder() / source.name
        if source.is_dir():
            shutil.copytree(source, copy)
        else:
            shutil.copy2(source, copy)
        return {"local_path": self.pending.relative(copy), "artifact_path": artifact_path}

    def _saved_figure(self, figure: Figure, name: str) -> dict[str, Any]:
        # The figure becomes the artifact file ``name``, as MlflowClient.log_figure names it.
        path = self.pending.new_files_folder() / Path(name).name
        figure.savefig(path)
        folder = str(Path(name).parent)
        return {"local_path": self.pending.relative(path), "artifact_path": _folder_or_none(folder)}

    def _saved_model(self, model: torch.nn.Module, input_example: np.ndarray) -> dict[str, str]:
        import mlflow.pytorch.pickle_module
        import numpy as np
        import torch

        folder = self.pending.new_files_folder()
        torch.save(model, folder / "model.pt", pickle_module=mlflow.pytorch.pickle_module)
        np.save(folder / "input_example.npy", input_example)
        return {
            "model_file": self.pending.relative(folder / "model.pt"),
            "input_example_file": self.pending.relative(folder / "input_example.npy"),
        }


def send_pending_tracking(
    folder: Path, tracking_uri: str, experiment: str, parent_run_id: str
) -> ReplayOutcome:
    """Send what a search kept on disk during an outage to its parent run (``automl-nn sync``).

    Re-attaches to the search's parent run (trials keep their child runs, points already in
    the store are not written again) and replays ``folder/pending_tracking.jsonl`` in order.
    A run this opens again is closed again with its former status unless the replay closes
    it. Run it after the search ended: the search's own process sends what it kept itself.

    Returns:
        What was sent; ``remaining`` counts what stays on disk because the server does not
        answer (then nothing is changed on disk).

    Example::

        outcome = send_pending_tracking(folder, "http://127.0.0.1:5000", "demo", run_id)
        outcome.sent  # Counter({'trial_metrics': 12, 'trial_started': 2, ...})
    """
    pending = PendingTracking(folder)
    if not pending.count:
        return ReplayOutcome()
    with fast_failing_http():
        try:
            status_before = MlflowClient(tracking_uri).get_run(parent_run_id).info.status
            tracker = MlflowTracker(tracking_uri, experiment, parent_run_id=parent_run_id)
            tracker.open_search({})
        except Exception as error:
            if not is_unreachable(error):
                raise
            return ReplayOutcome(remaining=pending.count)
        outcome = pending.replay(tracker)
        if status_before != "RUNNING" and not (outcome.sent["close_search"] or outcome.remaining):
            tracker.close_search(status_before)
    return outcome


def _folder_or_none(folder: str) -> str | None:
    return None if folder in ("", ".") else folder
