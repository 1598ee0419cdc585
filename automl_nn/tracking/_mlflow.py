"""The MLflow tracker: a parent run per search, a child run per trial, by explicit run ids."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlflow.entities import Metric, Param, Run, RunTag
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.tracking._tracking_service.utils import _use_tracking_uri
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow.utils.validation import (
    MAX_PARAM_VAL_LENGTH,
    MAX_PARAMS_TAGS_PER_BATCH,
    MAX_TAG_VAL_LENGTH,
)

from automl_nn.errors import TrackingError
from automl_nn.tracking._model_format import PICKLE, PT2, export_problem, is_export_error
from automl_nn.tracking._tracker import (
    FAILED_TRIAL_STATUSES,
    REASON_TAG,
    STATUS_TAG,
    TRIAL_ID_TAG,
    Scalar,
    Tracker,
    check_search_status,
    check_trial_status,
    finite_metrics,
)
from automl_nn.tracking._uri import check_tracking_uri, resolve_tracking_uri

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.figure import Figure

_ELLIPSIS = "..."


class MlflowTracker(Tracker):
    """Writes a search to MLflow: one parent run, one child run per trial nested under it.

    Every call names its run explicitly (``MlflowClient``), so several searches in one driver
    never share MLflow's global active-run state. A tracker built with ``parent_run_id`` re-opens
    that search: trials that already have a child run (found by their ``automl_nn.trial_id``
    tag) keep it, and steps already logged are not logged again.

    Args:
        tracking_uri: where runs go; None means MLflow's default (see
            :func:`resolve_tracking_uri`).
        experiment: the MLflow experiment of a new search (created when missing).
        parent_run_id: the run of a search to re-open (resume) instead of starting a new one.
        artifact_location: where a newly created experiment keeps its artifacts; None lets
            the store decide (``./mlruns`` next to a local database, the server's root).

    Example::

        tracker = MlflowTracker("sqlite:///mlflow.db", "demo")
        run_id = tracker.open_search({"searcher": "random"}, {"mlflow.runName": "demo"})
        tracker.trial_started("t1", {"optimizer.name": "sgd", "optimizer.lr": 0.1})
        tracker.trial_metrics("t1", {"val_loss": 0.4, "val_accuracy": 0.9}, step=1)
        tracker.trial_ended("t1", "completed")
        tracker.close_search("FINISHED")

        resumed = MlflowTracker("sqlite:///mlflow.db", "demo", parent_run_id=run_id)
        resumed.open_search({"searcher": "random"})  # the same run, t1 keeps its child run
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "automl_nn",
        *,
        parent_run_id: str | None = None,
        artifact_location: str | None = None,
    ):
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.experiment = experiment
        self._artifact_location = artifact_location
        self._client = MlflowClient(self.tracking_uri)
        self._parent_run_id = parent_run_id
        self._experiment_id: str | None = None
        self._children: dict[str, str] = {}  # trial id -> child run id
        self._open_trials: set[str] = set()
        self._logged: dict[str, set[tuple[str, int]]] = {}  # run id -> (metric, step) written

    @property
    def parent_run_id(self) -> str | None:
        return self._parent_run_id

    def open_search(
        self,
        params: Mapping[str, Scalar],
        tags: Mapping[str, str] | None = None,
        text_artifacts: Mapping[str, str] | None = None,
    ) -> str:
        check_tracking_uri(self.tracking_uri)
        if self._parent_run_id is None:
            run = self._client.create_run(self._experiment_id_by_name(), tags=dict(tags or {}))
            self._parent_run_id = run.info.run_id
            self._experiment_id = run.info.experiment_id
            self._logged[self._parent_run_id] = set()
            self._log_params_and_tags(self._parent_run_id, params)
        else:
            run = self._reopen(self._parent_run_id)
            self._experiment_id = run.info.experiment_id
            self._children = self._find_child_runs()
            self._log_params_and_tags(run.info.run_id, params, tags or {}, run.data.params)
        for file_name, text in (text_artifacts or {}).items():
            self._client.log_text(self._parent_run_id, text, file_name)
        return self._parent_run_id

    def trial_started(
        self, trial_id: str, params: Mapping[str, Scalar], tags: Mapping[str, str] | None = None
    ) -> None:
        run_id = self._children.get(trial_id)
        if run_id is None:
            parent_run_id, experiment_id = self._search()
            run = self._client.create_run(
                experiment_id,
                run_name=trial_id,
                tags={
                    **(tags or {}),
                    MLFLOW_PARENT_RUN_ID: parent_run_id,
                    TRIAL_ID_TAG: trial_id,
                    STATUS_TAG: "running",
                },
            )
            run_id = self._children[trial_id] = run.info.run_id
            self._logged[run_id] = set()
            self._log_params_and_tags(run_id, params)
        else:  # the trial restarts (resume, retry after a failure, a paused trial goes on)
            run = self._reopen(run_id)
            if REASON_TAG in run.data.tags:
                self._client.delete_tag(run_id, REASON_TAG)
            restarted = {**(tags or {}), STATUS_TAG: "running"}
            self._log_params_and_tags(run_id, params, restarted, run.data.params)
        self._open_trials.add(trial_id)

    def trial_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> None:
        self._log_metrics(self._trial_run_id(trial_id), metrics, step)

    def trial_ended(self, trial_id: str, status: str, reason: str | None = None) -> None:
        check_trial_status(status)
        run_id = self._trial_run_id(trial_id)
        tags = {STATUS_TAG: status} | ({REASON_TAG: reason} if reason else {})
        self._log_params_and_tags(run_id, tags=tags)
        self._client.set_terminated(run_id, _run_status(status))
        self._open_trials.discard(trial_id)

    def set_trial_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        self._log_params_and_tags(self._trial_run_id(trial_id), tags=tags)

    def resync(self) -> None:
        """Re-read the search's child runs; re-read logged points when next needed.

        Without it, a kept ``trial_started`` whose first send timed out after the server had
        created the child run would create a second one, and kept metrics that had landed
        would be logged twice.
        """
        if self._parent_run_id is None:
            return
        self._children = self._find_child_runs()
        self._logged = {}  # _log_metrics reads each run's points from the store again

    def child_run_id(self, trial_id: str) -> str | None:
        return self._children.get(trial_id)

    def search_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        self._log_metrics(self._search()[0], metrics, step)

    def set_search_tags(self, tags: Mapping[str, str]) -> None:
        self._log_params_and_tags(self._search()[0], tags=tags)

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> None:
        self._client.log_artifact(self._search()[0], local_path, artifact_path)

    def log_figure(self, figure: Figure, name: str) -> None:
        self._client.log_figure(self._search()[0], figure, name)

    def log_model(
        self,
        model: torch.nn.Module,
        *,
        input_example: np.ndarray,
        registered_model_name: str | None = None,
        name: str = "model",
    ) -> str:
        import mlflow.pytorch  # imports torch: paid only by a search that logs a model

        run_id, experiment_id = self._search()
        # Creating the logged model ourselves ties it to this search's experiment and run;
        # left to mlflow.pytorch, it would follow the global active experiment instead.
        logged_model = self._client.create_logged_model(
            experiment_id, name=name, source_run_id=run_id
        )

        def log_as(serialization_format: str) -> str:
            # mlflow.pytorch writes through MLflow's global tracking URI (artifacts, registry).
            with _use_tracking_uri(self.tracking_uri):
                logged = mlflow.pytorch.log_model(
                    model,
                    name=name,
                    run_id=run_id,
                    model_id=logged_model.model_id,
                    signature=infer_signature(input_example, _predict(model, input_example)),
                    input_example=input_example,
                    registered_model_name=registered_model_name,
                    serialization_format=serialization_format,
                    # Named here, MLflow skips inferring them (seconds of import tracing).
                    pip_requirements=_model_requirements(serialization_format),
                )
            if registered_model_name is not None:
                # The alias follows the newest version: models:/NAME@final_model is the
                # latest search's final model, whatever its version number.
                self._client.set_registered_model_alias(
                    registered_model_name, name, logged.registered_model_version
                )
            return logged.model_uri

        # The graph is traced as the model predicts: dropout off, batch norm's running stats.
        with _in_eval_mode(model):
            problem = export_problem(model, input_example)
            if problem is None:
                try:
                    return log_as(PT2)
                except Exception as error:
                    if not is_export_error(error):
                        raise
                    problem = f"torch.export failed: {type(error).__name__}"  # in MLflow's save
            warnings.warn(
                f"the model {name!r} is logged to MLflow as pickle, not as torch.export's "
                f"pt2: {problem}. Loading it unpickles it and needs its classes.",
                stacklevel=2,
            )
            return log_as(PICKLE)

    def end_lost_trials(self, known_trial_ids: set[str]) -> list[str]:
        lost = sorted(set(self._children) - set(known_trial_ids))
        for trial_id in lost:
            self.trial_ended(
                trial_id,
                "lost",
                "its driver stopped before Ray Tune recorded the trial; the resumed search "
                "did not continue it",
            )
        return lost

    def close_search(self, status: str = "FINISHED") -> None:
        check_search_status(status)
        # Trials the search never ended (it was interrupted) stop with it; resume re-opens them.
        for trial_id in sorted(self._open_trials):
            self._client.set_terminated(self._children[trial_id], "KILLED")
        self._open_trials.clear()
        self._client.set_terminated(self._search()[0], status)

    def _experiment_id_by_name(self) -> str:
        experiment = self._client.get_experiment_by_name(self.experiment)
        if experiment is None:
            return self._client.create_experiment(self.experiment, self._artifact_location)
        if experiment.lifecycle_stage == "deleted":
            raise TrackingError(
                f"experiment = {self.experiment!r} is not valid: it was deleted; expected an "
                "active experiment (restore it with `mlflow experiments restore`) or a new name"
            )
        return experiment.experiment_id

    def _reopen(self, run_id: str) -> Run:
        try:
            run = self._client.get_run(run_id)
        except MlflowException as error:
            raise TrackingError(
                f"parent_run_id = {run_id!r} is not valid: no such run at "
                f"{self.tracking_uri!r}; expected the id of a run in that store"
            ) from error
        if run_id not in self._logged:
            self._logged[run_id] = set(self._points_in_store(run))
        self._client.update_run(run_id, status="RUNNING")
        return run

    def _points_in_store(self, run: Run) -> Iterator[tuple[str, int]]:
        for key in run.data.metrics:
            for metric in self._client.get_metric_history(run.info.run_id, key):
                yield key, metric.step

    def _find_child_runs(self) -> dict[str, str]:
        """Trial id -> child run id of every child run of the search, from the store."""
        parent_run_id, experiment_id = self._search()
        children: dict[str, str] = {}
        page_token = None
        while True:
            page = self._client.search_runs(
                [experiment_id],
                filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent_run_id}'",
                page_token=page_token,
            )
            for run in page:
                if TRIAL_ID_TAG in run.data.tags:
                    children[run.data.tags[TRIAL_ID_TAG]] = run.info.run_id
            page_token = page.token
            if not page_token:
                return children

    def _log_metrics(self, run_id: str, metrics: Mapping[str, Any], step: int) -> None:
        if run_id not in self._logged:  # a re-attached search's trial this tracker never opened
            self._logged[run_id] = set(self._points_in_store(self._client.get_run(run_id)))
        logged = self._logged[run_id]
        fresh = {key: v for key, v in finite_metrics(metrics).items() if (key, step) not in logged}
        if not fresh:
            return
        timestamp = int(time.time() * 1000)
        self._client.log_batch(
            run_id, metrics=[Metric(key, v, timestamp, step) for key, v in fresh.items()]
        )
        logged.update((key, step) for key in fresh)

    def _log_params_and_tags(
        self,
        run_id: str,
        params: Mapping[str, Scalar] | None = None,
        tags: Mapping[str, str] | None = None,
        logged_params: Mapping[str, str] | None = None,
    ) -> None:
        # MLflow params are write-once: a re-opened run only gets the keys it lacks.
        new_params = [
            Param(key, _truncate(str(value), MAX_PARAM_VAL_LENGTH))
            for key, value in (params or {}).items()
            if key not in (logged_params or {})
        ]
        new_tags = [
            RunTag(key, _truncate(str(value), MAX_TAG_VAL_LENGTH))
            for key, value in (tags or {}).items()
        ]
        for start in range(0, max(len(new_params), len(new_tags)), MAX_PARAMS_TAGS_PER_BATCH):
            end = start + MAX_PARAMS_TAGS_PER_BATCH
            self._client.log_batch(run_id, params=new_params[start:end], tags=new_tags[start:end])

    def _search(self) -> tuple[str, str]:
        """Run id and experiment id of the open search."""
        if self._parent_run_id is None or self._experiment_id is None:
            raise TrackingError("the search has no MLflow run yet: call open_search first")
        return self._parent_run_id, self._experiment_id

    def _trial_run_id(self, trial_id: str) -> str:
        if trial_id not in self._children:
            raise TrackingError(f"trial {trial_id!r} has no MLflow run: call trial_started first")
        return self._children[trial_id]


def _run_status(trial_status: str) -> str:
    """MLflow's run status for a trial status."""
    if trial_status == "lost":
        return "KILLED"
    return "FAILED" if trial_status in FAILED_TRIAL_STATUSES else "FINISHED"


def _model_requirements(serialization_format: str) -> list[str]:
    """What loading a logged model needs: torch (without its +cpu label), and for a pickled
    model this package too (a pt2 graph needs none of its classes).

    Read from the modules that run, not the installed distributions: a source tree on
    ``PYTHONPATH`` has no metadata, and ``ray job submit --working-dir .`` runs the checkout
    it shipped whatever version the cluster's image installed.
    """
    import torch

    import automl_nn

    torch_version = torch.__version__.split("+")[0]
    if serialization_format == PT2:
        return [f"torch=={torch_version}"]
    return [f"torch=={torch_version}", f"automl_nn=={automl_nn.__version__}"]


def _predict(model: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    import torch

    device = next(model.parameters(), torch.empty(0)).device
    with _in_eval_mode(model), torch.no_grad():
        outputs = model(torch.as_tensor(inputs, device=device))
    return outputs.cpu().numpy()


@contextmanager
def _in_eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """The model in eval mode inside the block, in the mode it had after it."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS
