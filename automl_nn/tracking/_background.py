"""Tracking off Ray Tune's event loop: a tracker's writes run in one background thread, in order.

Ray Tune calls its callbacks on the driver's event loop, between scheduling trials. A write to
MLflow there (a sqlite commit, an HTTP request) holds up every trial waiting to be started or
told to go on. :class:`BackgroundTracker` queues the calls that answer nothing (a trial's
start, its metrics, its end, tags) and one thread sends them, in the order they were made,
while the loop goes on. Calls that answer (``open_search``, ``child_run_id``, ``log_model``,
...) first wait for the queue, so they see every write made before them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from automl_nn.errors import TrackingWriteError
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

# Calls waiting at most; a caller blocks past it (a slow store slows the search down rather
# than fill the driver's memory).
MAX_QUEUED_CALLS = 10_000

logger = logging.getLogger(__name__)

_Call = Callable[[], None]


class BackgroundTracker(Tracker):
    """Runs ``inner``'s writes in a background thread, in the order they are made.

    Queued (the call returns at once): :meth:`trial_started`, :meth:`trial_metrics`,
    :meth:`trial_ended`, :meth:`set_trial_tags`, :meth:`search_metrics` and
    :meth:`set_search_tags`; their arguments are copied when queued. Every other method waits
    until the queue is empty (:meth:`flush`) and then calls ``inner`` itself.

    A queued call that raises does not stop the ones after it; the first such error is raised
    again, as :class:`TrackingWriteError`, by the next call that waits. :meth:`close_search` waits
    for everything and stops the thread; a tracker used after it starts a new one.

    Args:
        inner: the tracker that writes (an :class:`MlflowTracker`, or a
            :class:`BufferedTracker` around one).

    Example::

        tracker = BackgroundTracker(MlflowTracker("sqlite:///mlflow.db", "demo"))
        tracker.open_search({"searcher": "random"})   # waits: returns the parent run id
        tracker.trial_started("t1", {"optimizer.lr": 0.1})         # queued
        tracker.trial_metrics("t1", {"val_loss": 0.4}, step=1)      # queued
        tracker.flush()                    # every call so far is in MLflow now
        tracker.close_search()
    """

    def __init__(self, inner: Tracker) -> None:
        self.inner = inner
        self._calls: queue.Queue[_Call | None] = queue.Queue(maxsize=MAX_QUEUED_CALLS)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Ray Tune pickles its callbacks (and this with them) into the experiment folder; the
        # queue and the thread stay with this process.
        self.wait()
        return {"inner": self.inner}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["inner"])  # type: ignore[misc]

    @property
    def parent_run_id(self) -> str | None:
        return self.inner.parent_run_id

    def open_search(
        self,
        params: Mapping[str, Scalar],
        tags: Mapping[str, str] | None = None,
        text_artifacts: Mapping[str, str] | None = None,
    ) -> str | None:
        self.flush()
        return self.inner.open_search(params, tags, text_artifacts)

    def trial_started(
        self, trial_id: str, params: Mapping[str, Scalar], tags: Mapping[str, str] | None = None
    ) -> None:
        params, tags = dict(params), dict(tags or {})
        self._queue(lambda: self.inner.trial_started(trial_id, params, tags))

    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        numbers = finite_metrics(metrics)
        self._queue(lambda: self.inner.trial_metrics(trial_id, numbers, step))

    def trial_ended(self, trial_id: str, status: str, reason: str | None = None) -> None:
        check_trial_status(status)
        self._queue(lambda: self.inner.trial_ended(trial_id, status, reason))

    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        tags = dict(tags)
        self._queue(lambda: self.inner.set_trial_tags(trial_id, tags))

    def child_run_id(self, trial_id: str) -> str | None:
        self.flush()
        return self.inner.child_run_id(trial_id)

    def search_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        numbers = finite_metrics(metrics)
        self._queue(lambda: self.inner.search_metrics(numbers, step))

    def set_search_tags(self, tags: Mapping[str, str]) -> None:
        tags = dict(tags)
        self._queue(lambda: self.inner.set_search_tags(tags))

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> None:
        self.flush()
        self.inner.log_artifact(local_path, artifact_path)

    def log_figure(self, figure: Figure, name: str) -> None:
        self.flush()
        self.inner.log_figure(figure, name)

    def log_model(
        self,
        model: torch.nn.Module,
        *,
        input_example: np.ndarray,
        registered_model_name: str | None = None,
        name: str = "model",
    ) -> str | None:
        self.flush()
        return self.inner.log_model(
            model,
            input_example=input_example,
            registered_model_name=registered_model_name,
            name=name,
        )

    def end_lost_trials(self, known_trial_ids: set[str]) -> list[str]:
        self.flush()
        return self.inner.end_lost_trials(known_trial_ids)

    def close_search(self, status: str = "FINISHED") -> None:
        check_search_status(status)
        try:
            self.flush()
        finally:
            self._stop_thread()
            self.inner.close_search(status)

    def flush(self) -> None:
        """Wait until every queued call ran; raise the first error one of them raised."""
        self.wait()
        self.inner.flush()
        error, self._error = self._error, None
        if error is not None:
            raise TrackingWriteError(
                f"a tracking call failed in the background: {error}"
            ) from error

    def wait(self) -> None:
        """Wait until every queued call ran; an error stays for the next :meth:`flush`."""
        if self._thread is not None:
            self._calls.join()
        self.inner.wait()

    def _queue(self, call: _Call) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="automl_nn-tracking", daemon=True
                )
                self._thread.start()
        self._calls.put(call)

    def _work(self) -> None:
        while True:
            call = self._calls.get()
            try:
                if call is None:
                    return
                call()
            # Kept for the caller; the calls after it still run. BaseException too (a SystemExit
            # from a library): a dead thread would leave every later flush waiting forever.
            except BaseException as error:
                logger.warning("a tracking call failed in the background: %s", error)
                if self._error is None:
                    self._error = error
            finally:
                self._calls.task_done()

    def _stop_thread(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._calls.put(None)
            thread.join()
