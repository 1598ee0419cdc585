"""MLflow tracking of a search: a parent run per search, a child run per trial.

Only the Ray driver writes to MLflow: :class:`TrackingCallback` forwards each trial's start,
epochs and end to a :class:`Tracker`, which writes the child runs under the search's parent
run so the MLflow UI compares trials side by side.

Example::

    from automl_nn.tracking import MlflowTracker, TrackingCallback

    tracker = MlflowTracker("sqlite:///mlflow.db", experiment="wine")
    tracker.open_search({"searcher": "random", "num_samples": 20})
    callback = TrackingCallback(tracker, flatten=flatten_config)
    tune.Tuner(trainable, run_config=tune.RunConfig(callbacks=[callback])).fit()
    tracker.close_search("FINISHED")

Wrapped in :class:`BufferedTracker`, a search goes on while the tracking server is down: what
could not be sent waits in the search folder until the server answers (or ``automl-nn sync``).
Wrapped in :class:`BackgroundTracker`, the writes leave Ray Tune's event loop for a thread of
their own (a search's trials do not wait on MLflow).
"""

from __future__ import annotations

from automl_nn.tracking._background import BackgroundTracker
from automl_nn.tracking._buffered import (
    PENDING_FILE,
    BufferedTracker,
    PendingTracking,
    ReplayOutcome,
    TrackingOutageWarning,
    send_pending_tracking,
)
from automl_nn.tracking._callback import NON_METRIC_KEYS, TrackingCallback
from automl_nn.tracking._mlflow import MlflowTracker
from automl_nn.tracking._tracker import (
    FAILED_TRIAL_STATUSES,
    NODE_ID_TAG,
    NODE_IP_TAG,
    REASON_TAG,
    SEARCH_STATUSES,
    STATUS_TAG,
    TRIAL_ID_TAG,
    TRIAL_NUMBER_TAG,
    TRIAL_STATUSES,
    NullTracker,
    Tracker,
    finite_metrics,
)
from automl_nn.tracking._uri import SERVER_TIMEOUT_S, check_tracking_uri, resolve_tracking_uri

__all__ = [
    "FAILED_TRIAL_STATUSES",
    "NODE_ID_TAG",
    "NODE_IP_TAG",
    "NON_METRIC_KEYS",
    "PENDING_FILE",
    "REASON_TAG",
    "SEARCH_STATUSES",
    "SERVER_TIMEOUT_S",
    "STATUS_TAG",
    "TRIAL_ID_TAG",
    "TRIAL_NUMBER_TAG",
    "TRIAL_STATUSES",
    "BackgroundTracker",
    "BufferedTracker",
    "MlflowTracker",
    "NullTracker",
    "PendingTracking",
    "ReplayOutcome",
    "Tracker",
    "TrackingCallback",
    "TrackingOutageWarning",
    "check_tracking_uri",
    "finite_metrics",
    "resolve_tracking_uri",
    "send_pending_tracking",
]
