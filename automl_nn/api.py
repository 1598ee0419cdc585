"""search(): validate everything, run the trials on Ray Tune, track them in MLflow.

The only room that ties the others together (with the trainable it hands to Ray).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_nn import __version__
from automl_nn.errors import ConfigError, SpaceError, one_of
from automl_nn.space import Space, load_space

if TYPE_CHECKING:
    from automl_nn.data import TaskData
    from automl_nn.results import SearchResult

from automl_nn.defaults import (
    AUTO_CV_BELOW_VAL_SAMPLES,
    AUTO_CV_FOLDS,
    DEFAULT_CV_FOLDS,
    DEFAULT_EXPERIMENT,
    DEFAULT_MAX_EPOCHS,
    DEFAULT_MAX_FAILURES,
    DEFAULT_NUM_TRIALS,
    DEFAULT_SCHEDULER,
    DEFAULT_SEARCHER,
    DEFAULT_SPACE,
)

SEARCH_FILE = "automl_nn_search.json"

_MINIMIZED = ("loss", "mse", "mae", "epoch_seconds")
_CLASSIFICATION_METRICS = ("val_accuracy", "val_precision", "val_recall", "val_f1", "val_log_loss")
_REGRESSION_METRICS = ("val_mse", "val_mae", "val_r2")
_COMMON_METRICS = ("train_loss", "val_loss", "lr", "epoch_seconds", "samples_per_second")


def reported_metrics(kind: str) -> tuple[str, ...]:
    """The metric names every trial reports each epoch for a task kind."""
    task_metrics = _REGRESSION_METRICS if kind == "regression" else _CLASSIFICATION_METRICS
    return (*_COMMON_METRICS, *task_metrics)


def default_metric(kind: str) -> str:
    """What a search optimizes when the user names no metric: ``val_mse`` or ``val_accuracy``.

    Both are measured the same way in every trial. ``val_loss`` is not: it is each trial's own
    training loss on the validation split, so Huber's delta, label smoothing or the choice of
    loss change its scale, and a searcher ranking by it rewards the loss that reads smallest.
    """
    return "val_mse" if kind == "regression" else "val_accuracy"


def loss_parameters_searched(space: Space) -> list[str]:
    """Paths of the space's parameters that set the training loss: its name, its settings.

    Example:
        >>> from automl_nn.space import load_space
        >>> loss_parameters_searched(load_space("default").specialize("regression", "tabular"))
        ['loss', 'loss[huber].delta']
    """
    return [path for path in space.parameter_paths() if path.split("[")[0].split(".")[0] == "loss"]


def default_mode(metric: str) -> str:
    """``min`` for losses and errors, ``max`` for everything else."""
    return "min" if metric.endswith(_MINIMIZED) else "max"


@dataclass
class SearchPlan:
    """Everything a search needs, validated; building it starts nothing and writes nothing."""

    data: TaskData
    space: Space
    searcher: str
    scheduler: str
    num_trials: int
    time_budget_s: float | None
    max_epochs: int
    metric: str
    mode: str
    seed: int
    max_concurrent: int | None
    resources: dict[str, float]
    tracking_uri: str | None
    experiment: str
    ray_address: str | None
    storage_path: str
    search_name: str
    registered_model_name: str | None
    searcher_options: dict[str, Any] = field(default_factory=dict)
    tracking: bool = True
    verbose: bool = True
    shared_storage: bool = False
    max_failures: int = 2
    trial_timeout_s: float | None = None
    plugins: tuple[str, ...] = ()
    cv_folds: int | None = None  # None: trials validate on the validation split

    @property
    def remote_storage(self) -> bool:
        """Whether storage is a URI (``s3://``, ``gs://``...) rather than a local folder."""
        return "://" in self.storage_path

    @property
    def folder(self) -> str:
        """The search's own folder (or URI) under the storage path."""
        return f"{self.storage_path.rstrip('/')}/{self.search_name}"

    @property
    def tie_break(self) -> str | None:
        """The metric that orders trials tied on ``metric`` (None: the earlier trial first)."""
        from automl_nn.results import tie_break_for

        return tie_break_for(self.cv_folds, self.data.kind)

    def settings(self) -> dict[str, Any]:
        """The search settings, as logged on the MLflow parent run."""
        return {
            "dataset": self.data.name,
            "searcher": self.searcher,
            "scheduler": self.scheduler,
            "num_trials": self.num_trials,
            "time_budget_s": self.time_budget_s,
            "max_epochs": self.max_epochs,
            "metric": self.metric,
            "mode": self.mode,
            "seed": self.seed,
            "max_concurrent": self.max_concurrent,
            "resources_per_trial": json.dumps(self.resources),
            "space": self.space.source or "python",
            "searcher_options": json.dumps(self.searcher_options, sort_keys=True),
            "storage_path": self.storage_path,
            "search_name": self.search_name,
            "max_failures": self.max_failures,
            "trial_timeout_s": self.trial_timeout_s,
            "plugins": ",".join(self.plugins),
            "cv_folds": self.cv_folds,
            "tie_break": self.tie_break,
        }


def search(
    data: TaskData | str,
    space: Space | dict[str, Any] | str = DEFAULT_SPACE,
    *,
    searcher: str = DEFAULT_SEARCHER,
    scheduler: str = DEFAULT_SCHEDULER,
    num_trials: int = DEFAULT_NUM_TRIALS,
    time_budget_s: float | None = None,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    metric: str | None = None,
    mode: str | None = None,
    seed: int = 0,
    max_concurrent: int | None = None,
    resources_per_trial: dict[str, float] | None = None,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    ray_address: str | None = None,
    storage_path: str | Path | None = None,
    registered_model_name: str | None = None,
    searcher_options: dict[str, Any] | None = None,
    tracking: bool = True,
    shared_storage: bool = False,
    max_failures: int = DEFAULT_MAX_FAILURES,
    trial_timeout_s: float | None = None,
    plugins: Sequence[str] = (),
    verbose: bool = True,
    cv_folds: int | str | None = DEFAULT_CV_FOLDS,
) -> SearchResult:
    """Search architectures and training recipes together; return the trials and the best.

    Everything is validated first (data, space, names, budgets, the tracking store, the
    storage folder): bad input raises an :class:`~automl_nn.errors.AutomlNNError` before
    Ray starts and before anything is written to MLflow. Then one MLflow parent run is
    opened, Ray Tune runs the trials (one child run each, written by the driver), and the
    best trial is tagged, its model logged (and registered when ``registered_model_name`` is
    given), with a leaderboard CSV and a learning-curves PNG on the parent run.

    Args:
        data: a TaskData, or the name of a built-in data set (``automl_nn.list_datasets()``).
        space: a search-space name (``automl_nn.list_spaces()``), a YAML path, a dict tree
            or a :class:`~automl_nn.space.Space`.
        searcher: ``optuna`` (TPE), ``random``, ``grid``, ``nevergrad`` (any Nevergrad
            optimizer), ``evolution`` (regularized evolution) or ``rl`` (an LSTM controller
            trained with REINFORCE); see ``automl_nn.searchers.list_searchers()``.
        scheduler: ``asha``, ``hyperband``, ``median``, ``pbt`` or ``fifo``.
        num_trials: the trial budget.
        time_budget_s: a wall-clock budget; the search stops cleanly at the first budget
            that runs out and still returns a result.
        max_epochs: epochs of a trial that no scheduler stops.
        metric: what to optimize; ``val_accuracy`` for classes, ``val_mse`` for regression
            (metrics every trial measures alike; ``val_loss`` changes with each trial's loss).
        mode: ``max`` or ``min``; inferred from the metric.
        seed: seeds the searcher and every trial's training.
        max_concurrent: trials running at once (default: as many as the resources allow).
        resources_per_trial: ``{"cpu": 1, "gpu": 0}`` by default; fractional GPUs allowed.
        tracking_uri: MLflow tracking URI; None is MLflow's local default.
        experiment: MLflow experiment name (also names the search folder).
        ray_address: None starts a local Ray; ``auto``, ``ray://host:10001`` or
            ``host:port`` joins a cluster.
        storage_path: folder (or ``s3://`` URI) holding one folder per search. On a cluster
            of several nodes it must be reachable from every node: a URI, or a local path
            that is shared (NFS) and marked so with ``shared_storage=True``.
        registered_model_name: register the best trial's model (and the final model of
            :meth:`SearchResult.retrain_best`) in MLflow's registry under this name, each
            version under the alias of its name (``models:/NAME@final_model``).
        searcher_options: searcher settings: ``optimizer`` for nevergrad (NGOpt by
            default); ``sampler`` for optuna (tpe, random, cmaes, gp) and
            ``stopped_trials``, how optuna tells its study of a trial the scheduler stopped
            (``complete``, the default: that epoch's value as final, Ray's OptunaSearch's
            way; ``pruned``: pruned at the epoch it reached, as Optuna's pruners do);
            ``population_size``,
            ``sample_size``, ``num_bins`` for evolution; ``lr``, ``batch_size``,
            ``entropy_weight``, ``baseline_decay``, ``normalize_advantages``, ``hidden_size``,
            ``num_bins``, ``outlier_share`` for rl.
        tracking: False writes nothing to MLflow (the leaderboard is still returned).
        shared_storage: the local ``storage_path`` is on storage every node mounts.
        max_failures: retries of a trial that fails (a lost node, a transient error),
            from its last checkpoint (Ray Tune's FailureConfig).
        trial_timeout_s: a trial training longer than this ends with status ``timed_out``
            (checked between batches); the search goes on.
        plugins: modules every trial imports first, e.g. one that registers your own model
            family with ``automl_nn.models.register_model_family``.
        verbose: print the search folder and live progress.
        cv_folds: ``k`` (>= 2): every trial trains ``k`` models in step on the folds of
            train+val and reports the folds' mean metrics each epoch, so trials are ranked
            by a k-fold estimate over all of train+val (as scikit-learn's ``GridSearchCV``
            ranks them), at ``k`` times the cost. None: trials train on the training split
            and validate on the validation split. ``"auto"`` (the default): 5 folds when the
            validation split has fewer than 250 samples, else None. The test split is never
            part of a fold; the final model is retrained on train+val either way.

    Example::

        result = search("wine", "quick", num_trials=4, max_epochs=5)
        print(result.leaderboard[["trial_id", "status", "val_accuracy"]].head())
    """
    plan = plan_search(
        data,
        space,
        searcher=searcher,
        scheduler=scheduler,
        num_trials=num_trials,
        time_budget_s=time_budget_s,
        max_epochs=max_epochs,
        metric=metric,
        mode=mode,
        seed=seed,
        max_concurrent=max_concurrent,
        resources_per_trial=resources_per_trial,
        tracking_uri=tracking_uri,
        experiment=experiment,
        ray_address=ray_address,
        storage_path=storage_path,
        registered_model_name=registered_model_name,
        searcher_options=searcher_options,
        tracking=tracking,
        shared_storage=shared_storage,
        max_failures=max_failures,
        trial_timeout_s=trial_timeout_s,
        plugins=plugins,
        verbose=verbose,
        cv_folds=cv_folds,
    )
    from automl_nn._runner import run_search

    return run_search(plan)


def plan_search(
    data: TaskData | str,
    space: Space | dict[str, Any] | str,
    *,
    searcher: str,
    scheduler: str,
    num_trials: int,
    time_budget_s: float | None,
    max_epochs: int,
    metric: str | None,
    mode: str | None,
    seed: int,
    max_concurrent: int | None,
    resources_per_trial: dict[str, float] | None,
    tracking_uri: str | None,
    experiment: str,
    ray_address: str | None,
    storage_path: str | Path | None,
    registered_model_name: str | None,
    searcher_options: dict[str, Any] | None,
    tracking: bool = True,
    shared_storage: bool = False,
    max_failures: int = 2,
    trial_timeout_s: float | None = None,
    plugins: Sequence[str] = (),
    verbose: bool = True,
    cv_folds: int | str | None = DEFAULT_CV_FOLDS,
) -> SearchPlan:
    """Validate every input of :func:`search` and return the plan; starts and writes nothing."""
    from automl_nn.data import TaskData, load_dataset
    from automl_nn.schedulers import list_schedulers
    from automl_nn.searchers import SearcherSettings, check_searcher

    plugin_modules = _imported_plugins(plugins)
    task_data = load_dataset(data) if isinstance(data, str) else data
    if not isinstance(task_data, TaskData):
        raise ConfigError("data", type(data).__name__, "a TaskData or a built-in data set name")
    _positive_int("num_trials", num_trials)
    _positive_int("max_epochs", max_epochs)
    _integer("seed", seed)
    _integer("max_failures", max_failures)
    if max_failures < 0:
        raise ConfigError("max_failures", max_failures, "an integer >= 0")
    if max_concurrent is not None:
        _positive_int("max_concurrent", max_concurrent)
    if time_budget_s is not None and not _positive_number(time_budget_s):
        raise ConfigError("time_budget_s", time_budget_s, "a number of seconds > 0, or None")
    if trial_timeout_s is not None and not _positive_number(trial_timeout_s):
        raise ConfigError("trial_timeout_s", trial_timeout_s, "a number of seconds > 0, or None")
    folds = resolve_cv_folds(cv_folds, task_data)
    chosen_metric = metric or default_metric(task_data.kind)
    valid_metrics = reported_metrics(task_data.kind)
    if chosen_metric not in valid_metrics:
        raise ConfigError(
            "metric", chosen_metric, f"a metric the trials report: {one_of(valid_metrics)}"
        )
    chosen_mode = mode or default_mode(chosen_metric)
    if chosen_mode not in ("min", "max"):
        raise ConfigError("mode", chosen_mode, "one of max, min")
    if scheduler not in list_schedulers():
        raise ConfigError("scheduler", scheduler, one_of(list_schedulers()))
    if scheduler == "pbt" and searcher != "random":
        raise ConfigError(
            "scheduler",
            "pbt",
            f"a scheduler other than pbt with searcher {searcher!r}: Ray Tune's PBT explores "
            "by itself and runs with searcher='random' only",
        )
    specialized = _specialized_space(space, task_data, max_epochs)
    _warn_when_val_loss_is_not_comparable(chosen_metric, specialized)
    options = dict(searcher_options or {})
    check_searcher(
        searcher,
        SearcherSettings(specialized, chosen_metric, chosen_mode, seed, num_trials, options),
    )
    resources = _resources(resources_per_trial)
    resolved_uri = _checked_tracking_uri(tracking_uri) if tracking else None
    _check_experiment_name(experiment)
    storage = _writable_storage(storage_path)
    if registered_model_name is not None and not str(registered_model_name).strip():
        raise ConfigError("registered_model_name", registered_model_name, "a non-empty name")
    return SearchPlan(
        data=task_data,
        space=specialized,
        searcher=searcher,
        scheduler=scheduler,
        num_trials=num_trials,
        time_budget_s=None if time_budget_s is None else float(time_budget_s),
        max_epochs=max_epochs,
        metric=chosen_metric,
        mode=chosen_mode,
        seed=seed,
        max_concurrent=max_concurrent,
        resources=resources,
        tracking_uri=resolved_uri,
        experiment=experiment,
        ray_address=ray_address,
        storage_path=storage,
        search_name=_search_name(experiment),
        registered_model_name=registered_model_name,
        searcher_options=options,
        tracking=tracking,
        verbose=verbose,
        shared_storage=bool(shared_storage),
        max_failures=max_failures,
        trial_timeout_s=None if trial_timeout_s is None else float(trial_timeout_s),
        plugins=plugin_modules,
        cv_folds=folds,
    )


def resolve_cv_folds(cv_folds: int | str | None, data: TaskData) -> int | None:
    """The folds each trial cross-validates on (None: the validation split), checked.

    Example:
        >>> from automl_nn import load_dataset
        >>> resolve_cv_folds("auto", load_dataset("wine")), resolve_cv_folds(None, None)
        (5, None)
    """
    if cv_folds is None:
        return None
    if cv_folds == "auto":
        return AUTO_CV_FOLDS if len(data.y_val) < AUTO_CV_BELOW_VAL_SAMPLES else None
    samples = data.train_val_size
    valid = f"'auto', None, or an integer from 2 to the {samples} samples of train+val"
    if not isinstance(cv_folds, int) or isinstance(cv_folds, bool) or not 2 <= cv_folds <= samples:
        raise ConfigError("cv_folds", cv_folds, valid)
    return cv_folds


def _imported_plugins(plugins: Sequence[str]) -> tuple[str, ...]:
    """Import each plugin module here first, so its registrations validate the space."""
    import importlib

    if isinstance(plugins, str):
        plugins = (plugins,)
    for module in plugins:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ConfigError("plugins", module, f"an importable module ({error})") from None
    return tuple(plugins)


def _integer(field_name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(field_name, value, "an integer")


def _positive_int(field_name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(field_name, value, "an integer >= 1")


def _positive_number(value: Any) -> bool:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return is_number and math.isfinite(value) and value > 0


def _specialized_space(
    space: Space | dict[str, Any] | str, data: TaskData, max_epochs: int
) -> Space:
    """Load, specialize for the data, and check that every option builds for this task."""
    from automl_nn.trainable import trial_config
    from automl_nn.training import check_config

    if isinstance(space, Space):
        loaded = space
    elif isinstance(space, dict):
        loaded = Space.from_dict(space)
    elif isinstance(space, (str, Path)):
        loaded = load_space(space)
    else:
        raise ConfigError(
            "space", type(space).__name__, "a space name, a YAML path, a dict or a Space"
        )
    specialized = loaded.specialize(task=data.kind, input_kind=data.input_kind)
    where = str(loaded.source or "space")
    for config in specialized.covering_configs():
        _refuse_searched_epochs(config, max_epochs, where)
        try:
            check_config(trial_config(config, max_epochs), data)
        except ConfigError as error:
            raise SpaceError(
                error.field,
                error.value,
                f"{error.expected} (for data set {data.name!r}, a {data.kind} task with inputs "
                f"of shape {data.input_shape})",
                where=where,
            ) from None
    return specialized


def _refuse_searched_epochs(config: dict[str, Any], max_epochs: int, where: str) -> None:
    """Refuse a space that sets ``training.epochs``, which ``max_epochs`` would replace.

    Every trial trains up to the search's ``max_epochs`` (early stopping and the scheduler
    end trials sooner), so the space's value would be dropped without a word.
    """
    epochs = config.get("training", {}).get("epochs")
    if epochs is not None:
        raise SpaceError(
            "training.epochs",
            epochs,
            f"no training.epochs in a search space: every trial trains up to max_epochs (now "
            f"{max_epochs}; set max_epochs=... or --max-epochs), and early stopping or the "
            "scheduler ends it sooner",
            where=where,
        )


def _resources(resources: dict[str, float] | None) -> dict[str, float]:
    chosen = {"cpu": 1.0, "gpu": 0.0, **(resources or {})}
    for key, value in chosen.items():
        if key not in ("cpu", "gpu"):
            raise ConfigError(f"resources_per_trial.{key}", key, "one of cpu, gpu")
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not is_number or value < 0 or (key == "cpu" and value <= 0):
            raise ConfigError(f"resources_per_trial.{key}", value, "a number > 0 (gpu: >= 0)")
    gpu = float(chosen["gpu"])
    if gpu > 1 and not gpu.is_integer():  # Ray shares a GPU, never splits several
        raise ConfigError(
            "resources_per_trial.gpu",
            chosen["gpu"],
            "a fraction up to 1 (0.5: two trials share a GPU) or a whole number of GPUs",
        )
    return {key: float(value) for key, value in chosen.items()}


def _checked_tracking_uri(tracking_uri: str | None) -> str:
    from automl_nn.tracking import check_tracking_uri, resolve_tracking_uri

    resolved = resolve_tracking_uri(tracking_uri)
    check_tracking_uri(resolved)
    return resolved


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _check_experiment_name(experiment: str) -> None:
    if not isinstance(experiment, str) or not experiment.strip():
        raise ConfigError("experiment", experiment, "a non-empty name")


def _search_name(experiment: str) -> str:
    """A folder name that can never leave the storage folder (no separators, no '..')."""
    stem = _SAFE_NAME.sub("_", experiment).strip("._") or "search"
    return f"{stem}_{dt.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"


def _writable_storage(storage_path: str | Path | None) -> str:
    """The storage path, absolute; a local folder must exist or be creatable, and writable."""
    if storage_path is not None and "://" in str(storage_path):
        return str(storage_path)  # a URI: Ray's pyarrow filesystem reports its own errors
    folder = Path(storage_path or Path.cwd() / "automl_nn_runs").expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".automl_nn_write_probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ConfigError(
            "storage_path", str(folder), f"a writable folder ({error.strerror})"
        ) from None
    return str(folder)


def check_storage_reaches_every_node(plan: SearchPlan, alive_nodes: int) -> None:
    """Refuse a local, unshared storage path on a cluster of several nodes.

    Trials on other nodes would write checkpoints where the driver (and resume) never sees
    them; Ray Tune needs storage every node reaches.
    """
    if alive_nodes > 1 and not plan.remote_storage and not plan.shared_storage:
        raise ConfigError(
            "storage_path",
            plan.storage_path,
            f"storage every one of the {alive_nodes} nodes reaches: an s3:// or gs:// URI, or "
            "a shared (NFS) folder passed with shared_storage=True (--shared-storage)",
        )


def _warn_when_val_loss_is_not_comparable(metric: str, space: Space) -> None:
    """Warn when trials ranked by ``val_loss`` train with losses of different scales."""
    searched = loss_parameters_searched(space)
    if metric not in ("val_loss", "train_loss") or not searched:
        return
    warnings.warn(
        f"metric = {metric!r} ranks trials by their own training loss, and the space searches "
        f"{', '.join(searched)}: losses of different scales are not comparable, so the search "
        "favours the loss that reads smallest. Optimize a metric every trial measures alike "
        "(val_mse, val_mae or val_r2 for regression; val_accuracy, val_f1, ... for classes), "
        "or fix the loss in the space",
        stacklevel=4,
    )


def check_trial_fits_a_node(plan: SearchPlan, nodes: list[dict[str, float]]) -> None:
    """Refuse per-trial resources that no Ray node has: the trials would wait forever.

    ``nodes`` holds each alive node's resources (``CPU``, ``GPU``). On a cluster named by
    ``ray_address`` an autoscaler may still add a node that fits, so there it only warns.
    """
    need_cpu, need_gpu = plan.resources["cpu"], plan.resources["gpu"]
    if any(node.get("CPU", 0.0) >= need_cpu and node.get("GPU", 0.0) >= need_gpu for node in nodes):
        return
    seen = "; ".join(f"{n.get('CPU', 0.0):g} CPU, {n.get('GPU', 0.0):g} GPU" for n in nodes)
    expected = f"at most what one Ray node has (nodes here: {seen or 'none'})"
    if plan.ray_address is None:
        raise ConfigError("resources_per_trial", dict(plan.resources), expected)
    warnings.warn(
        f"resources_per_trial = {dict(plan.resources)}: no node of the cluster has that much "
        f"({seen}); trials start only when the autoscaler adds one",
        stacklevel=3,
    )


DATA_FILE = "task_data.pt"
SPACE_FILE = "space.yaml"
# SearchPlan fields kept in the search file (data and space live in files of their own).
_PLAN_FIELDS = (
    "searcher", "scheduler", "num_trials", "time_budget_s", "max_epochs", "metric", "mode",
    "seed", "max_concurrent", "resources", "tracking_uri", "experiment", "ray_address",
    "storage_path", "search_name", "registered_model_name", "searcher_options", "tracking",
    "verbose", "shared_storage", "max_failures", "trial_timeout_s", "plugins", "cv_folds",
)  # fmt: skip


def write_search_file(plan: SearchPlan, parent_run_id: str | None) -> Path:
    """What a later :func:`resume` needs, next to Ray Tune's own experiment state.

    The search file (settings, the MLflow parent run), the specialized space as YAML and the
    data's tensors (loaded back with ``torch.load(weights_only=True)``).
    """
    import dataclasses

    import torch

    folder = Path(plan.folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(dataclasses.asdict(plan.data), folder / DATA_FILE)
    (folder / SPACE_FILE).write_text(plan.space.to_yaml())
    record = {
        "automl_nn_version": __version__,
        "mlflow_parent_run_id": parent_run_id,
        "plan": {name: getattr(plan, name) for name in _PLAN_FIELDS},
        "settings": plan.settings(),
        "data": plan.data.describe(),
        "driver_pid": os.getpid(),
    }
    path = folder / SEARCH_FILE
    path.write_text(json.dumps(record, indent=2, default=str))
    return path


def read_search_file(path: str | Path) -> tuple[SearchPlan, str | None]:
    """The plan of a search folder and its MLflow parent run id (None when untracked)."""
    import torch

    from automl_nn.data import TaskData

    folder = Path(path).expanduser().resolve()
    record_path = folder / SEARCH_FILE
    if not record_path.is_file():
        raise ConfigError("path", str(path), f"a search folder holding {SEARCH_FILE}")
    record = json.loads(record_path.read_text())
    fields = dict(record["plan"])
    fields["plugins"] = tuple(fields["plugins"])
    _imported_plugins(fields["plugins"])
    data = TaskData(**torch.load(folder / DATA_FILE, weights_only=True))
    space = load_space(folder / SPACE_FILE)
    # The folder may have moved (a copied or mounted storage): trust where it is now.
    fields.update(storage_path=str(folder.parent), search_name=folder.name)
    return SearchPlan(data=data, space=space, **fields), record["mlflow_parent_run_id"]


def resume(path: str | Path, *, verbose: bool | None = None) -> SearchResult:
    """Continue a search whose driver stopped (killed, crashed, or the machine went down).

    Finished trials are kept; unfinished ones continue from their last checkpoint; the
    searcher's state (random state, Optuna's study, Nevergrad, the RL controller, the
    evolution population) comes back from Ray Tune's experiment state; the MLflow child
    runs are re-attached to the same parent run, so every trial keeps exactly one child run
    and no metric step is lost or written twice.

    Args:
        path: the search's folder (printed when it started; ``SearchResult.experiment_path``).
        verbose: print progress (default: as the original search).

    Raises:
        SearchError: Ray Tune's experiment state in the folder is unreadable (the driver was
            killed while Ray wrote it); nothing is started or changed.

    Example::

        result = automl_nn.resume("automl_nn_runs/automl_nn_20261125-101500-000000")
    """
    plan, parent_run_id = read_search_file(path)
    if verbose is not None:
        plan.verbose = verbose
    if plan.tracking:
        _checked_tracking_uri(plan.tracking_uri)
    from automl_nn._runner import resume_search

    return resume_search(plan, parent_run_id)


__all__ = ["SearchPlan", "plan_search", "read_search_file", "resume", "search"]
