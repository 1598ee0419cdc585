"""The driver-side bridge from Ray Tune's trial events to a tracker."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.tune import Callback
from ray.tune.result import AUTO_RESULT_KEYS, DEBUG_METRICS

from automl_nn.tracking._tracker import (
    NODE_ID_TAG,
    NODE_IP_TAG,
    TRIAL_NUMBER_TAG,
    Scalar,
    Tracker,
)

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

Flatten = Callable[[Mapping[str, Any]], Mapping[str, Scalar]]

# Result keys that are not metrics: what Ray adds to every result, and ``epoch``, which is
# the step of every metric. The rest of a result is the trainable's own metrics.
NON_METRIC_KEYS: frozenset[str] = frozenset(
    {*AUTO_RESULT_KEYS, *DEBUG_METRICS, "done", "experiment_tag", "should_checkpoint", "epoch"}
)

# The trainable's last ``fit_status`` -> (trial status, reason). A trial that ends while its
# fit still says "running" did not end on its own: the scheduler (or a stop rule) stopped it.
_END_OF_FIT: dict[str, tuple[str, str | None]] = {
    "running": ("stopped_early", "stopped by the scheduler"),
    "completed": ("completed", None),
    "early_stopping": ("completed", "early stopping"),
    "diverged": ("diverged", "the loss became NaN or infinite"),
    "timed_out": ("timed_out", "the trial ran past trial_timeout_s"),
}


class TrackingCallback(Callback):
    """Forwards trial start, results and end from Ray Tune to a :class:`Tracker`.

    Runs in the driver, so workers never talk to the tracking store. The trainable reports a
    string ``fit_status`` in every result (``running``, then ``completed``,
    ``early_stopping`` or ``diverged``); the last one decides how the trial ended.

    Args:
        tracker: where trials are recorded; its search must be open.
        flatten: turns a nested trial config into flat ``{"optimizer.lr": 0.1}`` params.
        tag_nodes: tag each child run with the node its trial runs on (``node_id`` and
            ``node_ip`` of its results), again when a retried trial moves. Worth its one
            extra write per trial on a cluster; on one machine every trial has the same node.

    Attributes:
        trial_statuses: trial id -> ``running`` or one of :data:`TRIAL_STATUSES`.
        trial_reasons: trial id -> why it ended that way (None when it needs no words).
        trial_results: trial id -> every result Ray reported for it (without ``config``).

    Example::

        callback = TrackingCallback(tracker, flatten=flatten_config)
        tune.Tuner(trainable, run_config=tune.RunConfig(callbacks=[callback])).fit()
        callback.trial_statuses  # {'a1b2c_00000': 'completed', 'a1b2c_00001': 'stopped_early'}
    """

    def __init__(self, tracker: Tracker, flatten: Flatten, *, tag_nodes: bool = True):
        self.tracker = tracker
        self._flatten = flatten
        self.tag_nodes = tag_nodes
        self.trial_statuses: dict[str, str] = {}
        self.trial_reasons: dict[str, str | None] = {}
        self.trial_results: dict[str, list[dict[str, Any]]] = {}
        self._trial_nodes: dict[str, str] = {}  # trial id -> the node its child run names

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self.tracker.trial_started(
            trial.trial_id, self._flatten(trial.config), _number_tag(trials, trial)
        )
        self.trial_statuses[trial.trial_id] = "running"
        self.trial_reasons[trial.trial_id] = None

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        kept = {key: value for key, value in result.items() if key != "config"}
        self.trial_results.setdefault(trial.trial_id, []).append(kept)
        if self.tag_nodes:
            self._tag_node(trial.trial_id, result)
        metrics = {key: value for key, value in kept.items() if key not in NON_METRIC_KEYS}
        step = int(result.get("epoch", result["training_iteration"]))
        self.tracker.trial_metrics(trial.trial_id, metrics, step)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        fit_status = trial.last_result.get("fit_status", "completed")
        self._end(trial.trial_id, *_END_OF_FIT.get(fit_status, ("completed", None)))

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self._end(trial.trial_id, "failed", _error_message(trial))

    def get_state(self) -> dict[str, Any]:
        """What a restored experiment needs to go on (Ray saves it with the experiment).

        Waits for the tracker first, so a snapshot never holds a result the tracking store
        was not sent; what came after the snapshot, a resumed search runs (and logs) again. A
        write that failed is not raised here, where Ray would end the search over it (or,
        at the last snapshot, log and drop it): the search's next answering call raises it.
        """
        self.tracker.wait()
        return {
            "trial_statuses": dict(self.trial_statuses),
            "trial_reasons": dict(self.trial_reasons),
            "trial_results": {key: list(value) for key, value in self.trial_results.items()},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Take back the state of :meth:`get_state` when Ray restores the experiment."""
        self.trial_statuses = state["trial_statuses"]
        self.trial_reasons = state["trial_reasons"]
        self.trial_results = state["trial_results"]

    def final_status(self, trial: Trial, *, has_results: bool) -> tuple[str, str | None]:
        """The trial's final status and reason: as it ended, or as Ray ended it unannounced."""
        status = self.trial_statuses.get(trial.trial_id)
        if status is not None and status != "running":
            return status, self.trial_reasons.get(trial.trial_id)
        return end_without_callback(trial.status, has_results)

    def end_unfinished_trials(self, trials: list[Trial]) -> None:
        """End the trials Ray Tune stopped without a callback when the experiment ended.

        A time budget that runs out stops the running trials without ``on_trial_complete``;
        their child runs would otherwise keep the status ``running``.
        """
        for trial in trials:
            if self.trial_statuses.get(trial.trial_id) == "running":
                has_results = bool(self.trial_results.get(trial.trial_id))
                self._end(trial.trial_id, *end_without_callback(trial.status, has_results))

    def _tag_node(self, trial_id: str, result: Mapping[str, Any]) -> None:
        """Name the node on the child run when the trial starts there (or moves, on a retry)."""
        node_id = result.get("node_id")
        if not isinstance(node_id, str) or self._trial_nodes.get(trial_id) == node_id:
            return
        self._trial_nodes[trial_id] = node_id
        tags = {NODE_ID_TAG: node_id}
        if isinstance(result.get("node_ip"), str):
            tags[NODE_IP_TAG] = result["node_ip"]
        self.tracker.set_trial_tags(trial_id, tags)

    def _end(self, trial_id: str, status: str, reason: str | None) -> None:
        self.tracker.trial_ended(trial_id, status, reason)
        self.trial_statuses[trial_id] = status
        self.trial_reasons[trial_id] = reason


def end_without_callback(ray_status: str, has_results: bool) -> tuple[str, str]:
    """Status and reason of a trial Ray Tune ended without telling the callbacks.

    Example:
        >>> end_without_callback("TERMINATED", has_results=True)
        ('stopped_early', 'the search budget ran out')
    """
    if ray_status == "ERROR":
        return "failed", "the trial raised an error"
    if not has_results:
        return "stopped_early", "the search budget ran out before its first epoch"
    return "stopped_early", "the search budget ran out"


def _number_tag(trials: list[Trial], trial: Trial) -> dict[str, str]:
    """The trial's number as a tag: Ray Tune keeps its trials in the order they were proposed."""
    with contextlib.suppress(ValueError):
        return {TRIAL_NUMBER_TAG: str(trials.index(trial))}
    return {}


def _error_message(trial: Trial) -> str:
    """The last line of the trial's error file: the exception's type and message."""
    # At on_trial_error Ray has written the error to the driver-side file only.
    path = trial.error_file
    lines = Path(path).read_text().splitlines() if path and Path(path).is_file() else []
    last_lines = [line.strip() for line in lines if line.strip()]
    return last_lines[-1] if last_lines else "the trial raised an error"
