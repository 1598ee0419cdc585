"""The tracker interface: what the driver tells a tracking store about one search."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automl_nn.errors import ConfigError, one_of

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.figure import Figure

# How a trial ended. The first three are normal ends; the MLflow run of the last two is FAILED.
TRIAL_STATUSES: tuple[str, ...] = (
    "completed", "stopped_early", "diverged", "failed", "timed_out", "lost",
)  # fmt: skip
FAILED_TRIAL_STATUSES: tuple[str, ...] = ("failed", "timed_out")
# How a search ended, in MLflow's own words.
SEARCH_STATUSES: tuple[str, ...] = ("FINISHED", "FAILED", "KILLED")

TRIAL_ID_TAG = "automl_nn.trial_id"
# The order in which the searcher proposed the trial (0, 1, ...): the leaderboard's last tie-break.
TRIAL_NUMBER_TAG = "automl_nn.trial_number"
STATUS_TAG = "automl_nn.status"
REASON_TAG = "automl_nn.reason"
# Where a trial last ran: Ray's node id and the node's IP address.
NODE_ID_TAG = "automl_nn.node_id"
NODE_IP_TAG = "automl_nn.node_ip"

Scalar = str | int | float | bool | None


class Tracker(ABC):
    """Records one search: a parent run for the search, a child run per trial.

    Every method is called from the Ray driver only. A search calls :meth:`open_search`
    first and :meth:`close_search` last; each trial calls :meth:`trial_started`, then
    :meth:`trial_metrics` once per epoch, then :meth:`trial_ended`.

    Example:
        >>> tracker = NullTracker()
        >>> tracker.open_search({"searcher": "random"})
        >>> tracker.trial_started("t1", {"optimizer.name": "sgd"})
        >>> tracker.trial_metrics("t1", {"val_loss": 0.5}, step=1)
        >>> tracker.trial_ended("t1", "completed")
        >>> tracker.close_search()
    """

    @property
    @abstractmethod
    def parent_run_id(self) -> str | None:
        """Id of the search's run, or None before :meth:`open_search` (or when not tracking)."""

    @abstractmethod
    def open_search(
        self,
        params: Mapping[str, Scalar],
        tags: Mapping[str, str] | None = None,
        text_artifacts: Mapping[str, str] | None = None,
    ) -> str | None:
        """Open (or re-open) the search's run and return its id.

        Args:
            params: search settings (searcher, scheduler, budgets, ...), flat.
            tags: run tags; ``mlflow.runName`` names the run.
            text_artifacts: file name -> text, e.g. ``{"space.yaml": ...}``.
        """

    @abstractmethod
    def trial_started(
        self, trial_id: str, params: Mapping[str, Scalar], tags: Mapping[str, str] | None = None
    ) -> None:
        """Open the child run of a trial (or re-open it when the trial restarts).

        Args:
            trial_id: Ray's trial id.
            params: the trial's config, flattened to dotted keys.
            tags: run tags set as the run is created (no extra write), e.g. the trial's
                number under ``TRIAL_NUMBER_TAG``.
        """

    @abstractmethod
    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        """Log a trial's metrics at one step.

        Non-numeric and non-finite values are dropped, and a (metric, step) point already
        written is not written again, so a repeated call is a no-op.
        """

    @abstractmethod
    def trial_ended(self, trial_id: str, status: str, reason: str | None = None) -> None:
        """Close a trial's child run.

        Args:
            trial_id: Ray's trial id.
            status: one of :data:`TRIAL_STATUSES`.
            reason: why it ended that way, in words (kept as a tag).
        """

    @abstractmethod
    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        """Tag a trial's child run (for example the best trial of the search)."""

    @abstractmethod
    def child_run_id(self, trial_id: str) -> str | None:
        """Id of a trial's child run, or None if the trial has none."""

    @abstractmethod
    def search_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        """Log metrics of the search itself (e.g. a controller's reward) at one step."""

    @abstractmethod
    def set_search_tags(self, tags: Mapping[str, str]) -> None:
        """Tag the search's run."""

    @abstractmethod
    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> None:
        """Copy a local file or folder into the search's run (under ``artifact_path``)."""

    @abstractmethod
    def log_figure(self, figure: Figure, name: str) -> None:
        """Save a matplotlib figure into the search's run as ``name`` (e.g. ``trials.png``)."""

    @abstractmethod
    def log_model(
        self,
        model: torch.nn.Module,
        *,
        input_example: np.ndarray,
        registered_model_name: str | None = None,
        name: str = "model",
    ) -> str | None:
        """Log a trained model on the search's run and return its model URI.

        The model is logged as it predicts (in eval mode) and keeps its own mode. MLflow gets
        it in the ``pt2`` format where torch.export traces it for any batch size, else as
        pickle with a warning that says why.

        Args:
            model: the model; its signature is inferred from ``input_example`` and its output.
            input_example: a few input rows, of the dtype the model expects.
            registered_model_name: also register the model under this name when given, and
                point the registered model's alias ``name`` at the new version
                (``models:/NAME@final_model`` loads the newest final model).
            name: the model's name within the run.
        """

    @abstractmethod
    def close_search(self, status: str = "FINISHED") -> None:
        """Close the search's run with one of :data:`SEARCH_STATUSES`."""

    def flush(self) -> None:
        """Return once every call made so far is written (a tracker that queues waits here)."""
        return None

    def resync(self) -> None:
        """Re-read from the store what this tracker remembers of its runs.

        After a call whose answer was lost (a request that timed out after the server acted
        on it), that memory lags behind the store; a tracker that keeps one refreshes it here.
        """
        return None

    def wait(self) -> None:
        """Like :meth:`flush`, but a write that failed is not raised here: the next flush does.

        For callers that must not fail (Ray Tune's experiment snapshot).
        """
        return None

    def end_lost_trials(self, known_trial_ids: set[str]) -> list[str]:
        """End child runs of trials the experiment does not know (status ``lost``).

        A driver killed between creating a trial's child run and Ray Tune's next snapshot
        leaves a child run that a resumed search never continues. Returns their trial ids.
        """
        return []


class NullTracker(Tracker):
    """Tracking turned off: every call is accepted and nothing is written.

    Example:
        >>> NullTracker().open_search({"searcher": "random"}) is None
        True
    """

    @property
    def parent_run_id(self) -> None:
        return None

    def open_search(
        self,
        params: Mapping[str, Scalar],
        tags: Mapping[str, str] | None = None,
        text_artifacts: Mapping[str, str] | None = None,
    ) -> None:
        return None

    def trial_started(
        self, trial_id: str, params: Mapping[str, Scalar], tags: Mapping[str, str] | None = None
    ) -> None:
        return None

    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        return None

    def trial_ended(self, trial_id: str, status: str, reason: str | None = None) -> None:
        check_trial_status(status)

    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        return None

    def child_run_id(self, trial_id: str) -> None:
        return None

    def search_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        return None

    def set_search_tags(self, tags: Mapping[str, str]) -> None:
        return None

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> None:
        return None

    def log_figure(self, figure: Figure, name: str) -> None:
        return None

    def log_model(
        self,
        model: torch.nn.Module,
        *,
        input_example: np.ndarray,
        registered_model_name: str | None = None,
        name: str = "model",
    ) -> None:
        return None

    def close_search(self, status: str = "FINISHED") -> None:
        check_search_status(status)


def check_trial_status(status: str) -> None:
    """Raise ConfigError unless ``status`` is one of :data:`TRIAL_STATUSES`."""
    if status not in TRIAL_STATUSES:
        raise ConfigError("status", status, one_of(TRIAL_STATUSES))


def check_search_status(status: str) -> None:
    """Raise ConfigError unless ``status`` is one of :data:`SEARCH_STATUSES`."""
    if status not in SEARCH_STATUSES:
        raise ConfigError("status", status, one_of(SEARCH_STATUSES))


def finite_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The real, finite numbers of ``metrics`` as floats (bools, strings, NaN, inf dropped).

    Example:
        >>> finite_metrics({"loss": 0.5, "acc": float("nan"), "status": "running", "ok": True})
        {'loss': 0.5}
    """
    return {
        key: float(value)
        for key, value in metrics.items()
        if _is_real_number(value) and math.isfinite(value)
    }


def _is_real_number(value: Any) -> bool:
    # numpy floats and ints register as numbers.Real (numpy bools do not); a bool is a flag.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
