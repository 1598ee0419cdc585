"""``automl-nn show``: a search's leaderboard read back from MLflow, where the search left it.

A search is a parent run (no ``mlflow.parentRunId`` tag) whose params hold the search
settings (``metric``, ``mode``, ...); each trial is a child run tagged with its trial id and
status, with the trial's config as params and one metric point per epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.file_utils import local_file_uri_to_path
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from automl_nn._cli_report import EXTRA_METRICS
from automl_nn.errors import ConfigError, TrackingError, one_of
from automl_nn.results import CONFIG_PREFIX, TIE_BREAK_METRIC, sorted_leaderboard
from automl_nn.tracking import (
    STATUS_TAG,
    TRIAL_ID_TAG,
    TRIAL_NUMBER_TAG,
    check_tracking_uri,
    resolve_tracking_uri,
)


@dataclass(frozen=True)
class StoredSearch:
    """A search as MLflow holds it.

    Attributes:
        experiment: the MLflow experiment name.
        parent_run_id: the search's parent run.
        run_name: the parent run's name (the search folder's name).
        metric: the optimized metric; ``mode``: ``min`` or ``max``.
        leaderboard: one row per child run, best first: ``trial_id``, ``status``,
            ``epochs``, the last value of ``metric`` (and of :data:`EXTRA_METRICS`), and the
            trial's config under ``config.`` columns.
    """

    experiment: str
    parent_run_id: str
    run_name: str
    metric: str
    mode: str
    leaderboard: pd.DataFrame


def read_search(
    experiment: str, tracking_uri: str | None = None, run_id: str | None = None
) -> StoredSearch:
    """The latest search of ``experiment`` (or the one of parent run ``run_id``) from MLflow.

    The leaderboard is ranked as the search ranked it: by the metric, failed trials last,
    cross-validated trials tied on the metric by ``val_log_loss``; what is still tied goes
    to the trial the searcher proposed first (its ``automl_nn.trial_number`` tag; a search
    logged before the tag existed: the trial that started first).

    Raises:
        TrackingError: the store cannot be reached or holds no runs.
        ConfigError: no such experiment, or ``run_id`` is not a search of it.

    Example::

        search = read_search("automl_nn", "sqlite:///mlflow.db")
        search.leaderboard[["trial_id", "status", search.metric]]
    """
    client = _client(resolve_tracking_uri(tracking_uri))
    experiment_id = _experiment_id(client, experiment)
    parent = _parent_run(client, experiment_id, experiment, run_id)
    metric, mode = (parent.data.params.get(key) for key in ("metric", "mode"))
    if metric is None or mode not in ("min", "max"):
        raise ConfigError(
            "--run", parent.info.run_id, "the parent run of an automl_nn search (metric, mode)"
        )
    tie_break = logged_tie_break(parent.data.params)
    children = sorted(_child_runs(client, parent), key=_proposal_order)
    ranking = (metric, tie_break) if tie_break else (metric,)
    rows = [_trial_row(client, child, ranking) for child in children]
    leaderboard = sorted_leaderboard(pd.DataFrame(rows), metric, mode, tie_break=tie_break)
    return StoredSearch(
        experiment=experiment,
        parent_run_id=parent.info.run_id,
        run_name=parent.info.run_name or parent.info.run_id,
        metric=metric,
        mode=mode,
        leaderboard=leaderboard,
    )


def logged_tie_break(params: dict[str, str]) -> str | None:
    """The tie-break a search logged, or for a search logged before it did, the rule it ran.

    Searches before 2026-11-27 logged only ``cv_folds``; a cross-validated one broke ties by
    ``val_log_loss`` (a regression search has none, so the metric alone ranks it).

    Example:
        >>> logged_tie_break({"tie_break": "None", "cv_folds": "5"}), logged_tie_break({})
        (None, None)
        >>> logged_tie_break({"cv_folds": "5"})
        'val_log_loss'
    """
    if "tie_break" in params:
        return None if params["tie_break"] == "None" else params["tie_break"]
    return TIE_BREAK_METRIC if params.get("cv_folds", "").isdigit() else None


def _client(uri: str) -> MlflowClient:
    """A client of an existing store: reading must not create an empty database or folder."""
    check_tracking_uri(uri)
    scheme = urlparse(uri).scheme
    if scheme == "sqlite":
        local = Path(unquote(uri.removeprefix("sqlite:///").partition("?")[0]))
    elif scheme in ("file", ""):
        local = Path(local_file_uri_to_path(uri))
    else:
        return MlflowClient(uri)
    if not local.exists():
        raise TrackingError(
            f"tracking_uri = {uri!r} is not valid: no MLflow store there; expected the "
            "--tracking-uri the search tracked to"
        )
    return MlflowClient(uri)


def _experiment_id(client: MlflowClient, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is None or experiment.lifecycle_stage == "deleted":
        names = [found.name for found in client.search_experiments()]
        raise ConfigError("experiment", name, one_of(names) if names else "an experiment name")
    return experiment.experiment_id


def _parent_run(
    client: MlflowClient, experiment_id: str, experiment: str, run_id: str | None
) -> Run:
    if run_id is None:
        latest = client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` IS NULL",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not latest:
            raise TrackingError(f"experiment {experiment!r} holds no search (no parent run)")
        return latest[0]
    try:
        run = client.get_run(run_id)
    except MlflowException:
        run = None
    if (
        run is None
        or run.info.experiment_id != experiment_id
        or MLFLOW_PARENT_RUN_ID in run.data.tags
    ):
        raise ConfigError("--run", run_id, f"the parent run of a search in {experiment!r}")
    return run


def _child_runs(client: MlflowClient, parent: Run) -> list[Run]:
    runs: list[Run] = []
    page_token = None
    while True:
        page = client.search_runs(
            [parent.info.experiment_id],
            filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent.info.run_id}'",
            page_token=page_token,
        )
        runs.extend(page)
        page_token = page.token
        if not page_token:
            return runs


def _proposal_order(run: Run) -> tuple[float, int]:
    """The trial's number (the searcher's order), then its start time; untagged runs last."""
    number = run.data.tags.get(TRIAL_NUMBER_TAG, "")
    return (int(number) if number.isdigit() else math.inf, run.info.start_time or 0)


def _trial_row(client: MlflowClient, run: Run, ranking: tuple[str, ...]) -> dict[str, object]:
    """One trial's row: id, status, epochs, metric, tie-break (where logged), val_loss, config."""
    metric, *tie_break = ranking
    # Every metric is logged once per epoch with the epoch as its step.
    history = client.get_metric_history(run.info.run_id, metric)
    row: dict[str, object] = {
        "trial_id": run.data.tags.get(TRIAL_ID_TAG, run.info.run_name),
        "status": run.data.tags.get(STATUS_TAG, run.info.status.lower()),
        "epochs": max((point.step for point in history), default=0),
    }
    for name in (metric, *EXTRA_METRICS):
        row[name] = run.data.metrics.get(name, math.nan)
    row.update({name: run.data.metrics[name] for name in tie_break if name in run.data.metrics})
    row.update({CONFIG_PREFIX + key: _value(text) for key, text in run.data.params.items()})
    return row


def _value(text: str) -> object:
    """A param as the number it was, where it was one (MLflow keeps params as text)."""
    try:
        return float(text) if any(mark in text for mark in ".eE") else int(text)
    except ValueError:
        return text
