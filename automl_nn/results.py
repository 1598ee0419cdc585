"""SearchResult: the leaderboard of a search, its best config, and the retrained final model."""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from automl_nn.data import TaskData
from automl_nn.defaults import (
    AUTO_RETRAIN_SEEDS,
    AUTO_RETRAIN_SEEDS_BELOW_SAMPLES,
    DEFAULT_RETRAIN_SEEDS,
    DEFAULT_RETRAIN_TOP_K,
)
from automl_nn.errors import ConfigError, SearchError
from automl_nn.space import flatten_config

if TYPE_CHECKING:
    import torch

    from automl_nn.api import SearchPlan
    from automl_nn.tracking import Tracker, TrackingCallback
    from automl_nn.training import FitResult

CONFIG_PREFIX = "config."
TOP_TRIALS_IN_PLOTS = 5
FAILED_STATUSES = ("failed", "timed_out")
# Cross-validated trials (small data) tie on accuracy by the dozen; of two tied ones, the one
# with the lower mean validation log-loss tested better in 72 % of tied pairs on breast_cancer
# and 66 % on wine (benchmarks/tie_break.md), so it ranks first. On digits' validation split
# it did in 41 %, so there the earlier trial still comes first.
TIE_BREAK_METRIC = "val_log_loss"
# retrain_best passes over at most this many trials whose config diverged on retraining.
MAX_DIVERGED_RETRAINS = 3
# What a user can do about losses that became NaN or infinite (in trials or on retraining).
DIVERGENCE_ADVICE = (
    "lower the space's learning rates or add gradient clipping (regularization.grad_clip)"
)
# The leaderboard's first columns, then the metric, its best, other metrics and the config.
LEADERBOARD_COLUMNS = ("trial_id", "trial_number", "status", "reason", "epochs", "seconds")


def trial_statuses(leaderboard: pd.DataFrame) -> pd.Series:
    """The leaderboard's ``status`` column, empty when no trial ran (a board without columns)."""
    return leaderboard.get("status", pd.Series(dtype=str))


@dataclass
class SearchResult:
    """What a search found, with the means to retrain, test and export the winner.

    Attributes:
        best_config: the config of the best trial (nested, as the searcher proposed it).
        best_metric: the best trial's last value of ``metric``.
        best_trial_id: its Ray Tune trial id (None when every trial failed).
        metric: the optimized metric; ``mode``: ``min`` or ``max``.
        leaderboard: one row per trial, best first: ``trial_id``, ``trial_number`` (the
            order in which the searcher proposed it), ``status``, ``reason``,
            ``epochs``, ``seconds``, ``num_parameters``, the last reported metrics,
            ``best_<metric>`` and the flattened config under ``config.`` columns. Trials
            tied on ``metric`` are ordered by ``tie_break`` (lower first), then by
            ``trial_number``; failed trials come last.
        mlflow_parent_run_id: the search's MLflow parent run.
        experiment_path: the search's folder or URI (Ray Tune's experiment, checkpoints).
        final: the retrained final model, once :meth:`retrain_best` ran.
        final_trial_ids: the trials whose configs ``final`` was retrained from (the best
            trial's alone, unless ``top_k`` or a config that diverged on retraining).
        cv_folds: the folds of train+val each trial cross-validated on (None: the trials
            validated on the validation split).
        tie_break: the column that orders trials tied on ``metric`` (``val_log_loss`` when
            classification trials cross-validate; None: the earlier trial first).
        trial_configs: each trial's config by trial id (nested, as the searcher proposed
            it), which :meth:`retrain_best` takes the top trials' configs from.
    """

    best_config: dict[str, Any]
    best_metric: float
    best_trial_id: str | None
    metric: str
    mode: str
    leaderboard: pd.DataFrame
    mlflow_parent_run_id: str | None
    experiment_path: str
    data: TaskData
    max_epochs: int
    seed: int
    histories: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    best_checkpoint: Any = None  # a ray.tune.Checkpoint: a local folder or a URI
    tracker: Tracker | None = field(default=None, repr=False)
    registered_model_name: str | None = None
    final: FitResult | None = field(default=None, repr=False)
    final_trial_ids: list[str] = field(default_factory=list)
    cv_folds: int | None = None
    tie_break: str | None = None
    trial_configs: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_trials(
        cls, *, plan: SearchPlan, trials: list[Any], tracking: TrackingCallback, tracker: Tracker
    ) -> SearchResult:
        """Build the result from Ray Tune's trials and the tracking callback's records.

        Trials that never started (still pending when a time budget ran out: Ray Tune marks
        them PENDING or TERMINATED) are left out.
        """
        rows, histories, configs, checkpoints = [], {}, {}, {}
        for number, trial in enumerate(trials):
            results = tracking.trial_results.get(trial.trial_id, [])
            started = trial.trial_id in tracking.trial_statuses or trial.status == "ERROR"
            if not (results or started):
                continue
            history = _history(results)
            histories[trial.trial_id] = history
            configs[trial.trial_id] = trial.config
            if trial.checkpoint is not None:
                checkpoints[trial.trial_id] = trial.checkpoint
            status, reason = tracking.final_status(trial, has_results=bool(results))
            rows.append(
                _leaderboard_row(
                    trial_id=trial.trial_id,
                    trial_number=number,
                    status=status,
                    reason=reason,
                    history=history,
                    config=trial.config,
                    metric=plan.metric,
                    mode=plan.mode,
                )
            )
        # With no trial, the columns every leaderboard has are still there (board.status).
        columns = None if rows else [*LEADERBOARD_COLUMNS, plan.metric, f"best_{plan.metric}"]
        leaderboard = sorted_leaderboard(
            pd.DataFrame(rows, columns=columns), plan.metric, plan.mode, tie_break=plan.tie_break
        )
        best_id = _best_trial(leaderboard, plan.metric)
        return cls(
            best_config=configs.get(best_id, {}) if best_id else {},
            best_metric=(
                float(leaderboard.loc[leaderboard.trial_id == best_id, plan.metric].iloc[0])
                if best_id
                else math.nan
            ),
            best_trial_id=best_id,
            metric=plan.metric,
            mode=plan.mode,
            leaderboard=leaderboard,
            mlflow_parent_run_id=tracker.parent_run_id,
            experiment_path=plan.folder,
            data=plan.data,
            max_epochs=plan.max_epochs,
            seed=plan.seed,
            histories=histories,
            best_checkpoint=checkpoints.get(best_id) if best_id else None,
            tracker=tracker,
            registered_model_name=plan.registered_model_name,
            cv_folds=plan.cv_folds,
            tie_break=plan.tie_break,
            trial_configs=configs,
        )

    def every_trial_failed(self) -> bool:
        """True when trials ran and each one failed (an error, not a budget or a scheduler)."""
        statuses = trial_statuses(self.leaderboard)
        return len(statuses) > 0 and bool(statuses.isin(FAILED_STATUSES).all())

    @property
    def best_epochs(self) -> int:
        """The epochs the best trial trained (its last report's), which retraining repeats.

        ``max_epochs`` when the leaderboard does not say (no successful trial, or a trial
        without an epoch count).
        """
        return (
            self.max_epochs if self.best_trial_id is None else self.trial_epochs(self.best_trial_id)
        )

    def trial_epochs(self, trial_id: str) -> int:
        """The epochs a trial trained (its last report's); ``max_epochs`` when unknown."""
        board = self.leaderboard
        if "epochs" not in board:
            return self.max_epochs
        epochs = board.loc[board.trial_id == trial_id, "epochs"]
        trained = int(epochs.iloc[0]) if len(epochs) else 0
        return trained if 1 <= trained <= self.max_epochs else self.max_epochs

    def trial_learning_rates(self, trial_id: str) -> list[float] | None:
        """A trial's learning rate at each epoch (its history's ``lr``); None when not held."""
        history = self.histories.get(trial_id)
        if history is None or "lr" not in history:
            return None
        return [float(rate) for rate in history["lr"]]

    def top_trial_ids(self, count: int) -> list[str]:
        """The first ``count`` trials of the leaderboard that did not fail and have a metric."""
        return list(_usable_trials(self.leaderboard, self.metric).trial_id.head(count).astype(str))

    def config_of(self, trial_id: str) -> dict[str, Any]:
        """A trial's config (nested); SearchError when the result does not hold it."""
        if trial_id == self.best_trial_id and self.best_config:
            return self.best_config
        if trial_id not in self.trial_configs:
            raise SearchError(f"the search result holds no config of trial {trial_id!r}")
        return self.trial_configs[trial_id]

    # -- at the end of a search ----------------------------------------------------------

    def log_summary(self) -> None:
        """Tag the best trial; log the leaderboard, HTML report, learning curves and best model."""
        tracked = self.tracker is not None and self.tracker.parent_run_id is not None
        if not tracked or self.best_trial_id is None:
            return
        best_child = self.tracker.child_run_id(self.best_trial_id)  # None during an outage
        self.tracker.set_search_tags(
            {"automl_nn.best_trial_id": self.best_trial_id}
            | ({"automl_nn.best_child_run_id": best_child} if best_child else {})
        )
        self.tracker.set_trial_tags(self.best_trial_id, {"automl_nn.best": "true"})
        self.tracker.search_metrics({f"best_{self.metric}": self.best_metric}, step=0)
        with tempfile.TemporaryDirectory() as folder:
            csv_path = Path(folder) / "leaderboard.csv"
            self.leaderboard.to_csv(csv_path, index=False)
            self.tracker.log_artifact(str(csv_path))
            self.tracker.log_artifact(str(self.report(Path(folder) / "report.html")))
        import matplotlib.pyplot as plt

        figure = self.learning_curves_figure()
        self.tracker.log_figure(figure, "learning_curves.png")
        plt.close(figure)  # a long-lived process runs many searches
        model = self.best_trial_model()
        if model is not None:
            self.tracker.log_model(
                model,
                input_example=self.data.x_val[:4].numpy(),
                registered_model_name=self.registered_model_name,
                name="best_trial_model",
            )

    def best_trial_model(self) -> torch.nn.Module | None:
        """The best trial's model, rebuilt from its last checkpoint.

        Trained on the training split only (a cross-validated trial: its first fold's model,
        trained on the other folds of train+val); :meth:`retrain_best` trains on train+val.
        """
        if self.best_checkpoint is None:
            return None
        from automl_nn.trainable import load_trial_model, trial_config

        config = trial_config(self.best_config, self.max_epochs)
        # as_directory() reads a local folder in place and downloads one on s3:// storage.
        with self.best_checkpoint.as_directory() as folder:
            return load_trial_model(config, self.data, folder)

    def learning_curves_figure(self, top: int = TOP_TRIALS_IN_PLOTS) -> Any:
        """Validation metric per epoch of the top trials (a matplotlib Figure)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(7, 4.5))
        for trial_id in self.leaderboard.trial_id.head(top):
            history = self.histories.get(trial_id)
            if history is not None and self.metric in history:
                axis.plot(history["epoch"], history[self.metric], marker=".", label=trial_id)
        axis.set_xlabel("epoch")
        axis.set_ylabel(self.metric)
        axis.set_title(f"{self.metric} per epoch, top {top} trials")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
        figure.tight_layout()
        return figure

    # -- after a search ----------------------------------------------------------------

    def report(self, path: str | Path) -> Path:
        """Write the search's self-contained HTML report (see :mod:`automl_nn.report`).

        Example::

            path = result.report("report.html")  # open it in a browser, offline
        """
        from automl_nn.report import write_report

        return write_report(self, path)

    def retrain_best(
        self,
        epochs: int | None = None,
        *,
        seeds: int | str = DEFAULT_RETRAIN_SEEDS,
        top_k: int = DEFAULT_RETRAIN_TOP_K,
        device: str | torch.device | None = None,
    ) -> FitResult:
        """Train the best config on train+val, test it, and log both to the parent run.

        By default the retraining repeats what the search validated, on more data: the best
        config for as many epochs as the best trial trained (``best_epochs``: fewer than
        ``max_epochs`` when early stopping, the scheduler or the time budget ended it
        sooner), its learning-rate schedule laid out over ``max_epochs`` as in the trial.
        ``epochs`` trains that many instead, the schedule laid out over them. Early stopping
        is off either way: the validation split is training data here, so its loss cannot
        say when to stop (the returned ``history`` still reports it on that split). For the
        same reason a ``plateau`` schedule does not watch it: the rate drops at the epochs
        where the trial's did (its recorded ``lr``; a cross-validated trial's mean over its
        folds), and the final config holds them as ``schedule.replayed_scales``.

        ``seeds`` models are trained, from seeds ``seed``, ``seed + 1``, ..., and the final
        model is their :class:`~automl_nn.training.SeedEnsemble` (the mean of their
        outputs; one seed: the model itself). ``"auto"`` takes 5 on small data, when the
        search cross-validated its trials or train+val holds fewer than 2000 samples (each
        model trains in seconds, and one model's test score moves with its seed), and 1
        otherwise.

        ``top_k`` configs are retrained, those of the leaderboard's first ``top_k`` trials
        that did not fail (fewer when fewer succeeded), each as above (its own trial's
        epochs, ``seeds`` models), and the final model is their
        :class:`~automl_nn.training.ConfigEnsemble`: the mean of their probabilities for
        classes (the configs may train with different losses), of their outputs for
        regression. One (the default): the best config alone, which on real searches of
        small data tested better from 5 seeds than the top 5 configs from one seed each,
        at the same cost (``benchmarks/results/final_configs_searches.md``: a searcher's
        top trials are near copies of each other, so seeds add more than configs).

        A config whose every retrained model diverges (its loss became NaN or infinite on
        train+val, from seeds other than its trial's) gives its place to the next trial of
        the leaderboard, with a warning, for up to ``MAX_DIVERGED_RETRAINS`` trials; when
        none is left, SearchError. A model that diverged among others that did not is left
        out of their ensemble.

        The test split is used here for the first time. ``test_metrics`` of the returned
        FitResult holds ``test_accuracy`` (and the rest) or ``test_mse`` and friends.
        With several configs, ``test_loss`` is the ensemble's cross-entropy (classes) or
        its MSE in standardized units (regression), and the FitResult's ``config`` and
        ``history`` are the best config's. ``device`` is :func:`~automl_nn.training.fit`'s
        (None: this process's GPU when PyTorch sees one); the model logged to MLflow is a
        CPU copy.

        Example::

            final = result.retrain_best()
            print(final.test_metrics["test_accuracy"], len(final.history))
            ensemble = result.retrain_best(seeds=3)  # len(ensemble.members) == 3
            top = result.retrain_best(top_k=5, seeds=1)  # the top 5 trials' configs
        """
        from automl_nn.training import config_ensemble_result, evaluate, on_cpu

        if self.best_trial_id is None:
            raise SearchError("the search has no successful trial to retrain")
        if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
            raise ConfigError(
                "epochs", epochs, "an integer >= 1, or None for the epochs the best trial trained"
            )
        count = resolve_retrain_seeds(seeds, self.cv_folds, self.data)
        trial_ids, retrained = self._retrain_top_configs(
            check_retrain_top_k(top_k), count, epochs, device
        )
        classification = self.data.kind != "regression"
        final = config_ensemble_result(retrained, classification=classification)
        loss = final.config["loss"] if len(retrained) == 1 else ensemble_loss(classification)
        final.test_metrics = {
            f"test_{name}": value
            for name, value in evaluate(final.model, self.data, "test", loss=loss).items()
        }
        self.final, self.final_trial_ids = final, trial_ids
        if self.tracker is not None and self.tracker.parent_run_id is not None:
            self.tracker.search_metrics(final.test_metrics, step=0)
            self.tracker.set_search_tags(
                {
                    "automl_nn.final_model_seeds": str(count),
                    "automl_nn.final_model_trials": ",".join(trial_ids),
                }
            )
            self.tracker.log_model(
                on_cpu(final.model),
                input_example=self.data.x_val[:4].numpy(),
                registered_model_name=self.registered_model_name,
                name="final_model",
            )
        return final

    def _retrain_top_configs(
        self,
        wanted: int,
        seeds: int,
        epochs: int | None,
        device: str | torch.device | None,
    ) -> tuple[list[str], list[FitResult]]:
        """The ids and retrained results of the leaderboard's first ``wanted`` trials whose
        configs did not diverge on retraining (see :func:`check_retrained`)."""
        trial_ids: list[str] = []
        retrained: list[FitResult] = []
        diverged: list[str] = []
        for trial_id in self.top_trial_ids(wanted + MAX_DIVERGED_RETRAINS):
            if len(retrained) == wanted:
                break
            result = retrain_config(
                self.config_of(trial_id),
                self.data,
                epochs=epochs or self.trial_epochs(trial_id),
                schedule_epochs=epochs or self.max_epochs,
                seed=self.seed,
                seeds=seeds,
                device=device,
                trial_learning_rates=self.trial_learning_rates(trial_id),
            )
            if result.status == "diverged":  # every seed's loss became NaN or infinite
                diverged.append(trial_id)
            else:
                trial_ids.append(trial_id)
                retrained.append(result)
        check_retrained(trial_ids, diverged, seeds)
        return trial_ids, retrained

    def export(self, path: str | Path) -> Path:
        """Write the final model as TorchScript (``model.pt``) with its config (``config.json``).

        Retrains the best config first when :meth:`retrain_best` has not run. The
        TorchScript is traced on the CPU, so it loads on machines without a GPU.

        Example::

            folder = result.export("best_model")
            model = torch.jit.load(folder / "model.pt")
        """
        import torch

        from automl_nn.training import ensemble_size, on_cpu

        final = self.final or self.retrain_best()
        configs, seeds = ensemble_size(final)
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        example = self.data.x_val[:2]
        with warnings.catch_warnings():
            # A ConfigEnsemble branches on its members' output widths, fixed for a model.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            scripted = torch.jit.trace(on_cpu(final.model).eval(), example)
        scripted.save(str(folder / "model.pt"))
        summary = {
            "config": final.config,
            "metric": self.metric,
            "best_metric": self.best_metric,
            "test_metrics": final.test_metrics,
            "seeds": seeds,
            "configs": [member.config for member in final.members] if configs > 1 else [],
            "data": self.data.describe(),
        }
        (folder / "config.json").write_text(json.dumps(summary, indent=2, default=str))
        return folder


def retrain_config(
    config: dict[str, Any],
    data: TaskData,
    *,
    epochs: int,
    schedule_epochs: int,
    seed: int,
    seeds: int = 1,
    device: str | torch.device | None = None,
    trial_learning_rates: Sequence[float] | None = None,
) -> FitResult:
    """Train ``config`` on train+val for ``epochs``, its schedule laid out over ``schedule_epochs``.

    What :meth:`SearchResult.retrain_best` trains: no early stopping (the validation split is
    training data here), so each model trains exactly ``epochs`` (at most
    ``schedule_epochs``) unless it diverges. For the same reason a plateau schedule does not
    watch that split's loss: given ``trial_learning_rates`` (the trial's rate at each epoch)
    it lowers the rate where the trial did (:func:`~automl_nn.training.replayed_plateau`).
    ``seeds`` models, from seeds ``seed``, ``seed + 1``, ...: more than one gives their
    :func:`~automl_nn.training.fit_seed_ensemble`.
    """
    from automl_nn.trainable import trial_config
    from automl_nn.training import check_config, fit, fit_seed_ensemble, replayed_plateau

    full = check_config(trial_config(config, schedule_epochs), data)
    full["regularization"]["early_stopping"] = None
    if trial_learning_rates is not None:
        base_lr = full["optimizer"]["lr"]
        full["schedule"] = replayed_plateau(full["schedule"], base_lr, trial_learning_rates)
    merged = data.merged_train_val()
    return fit_seed_ensemble(
        lambda member_seed: fit(
            full,
            merged,
            seed=member_seed,
            device=device,
            on_epoch=lambda epoch, _metrics: epoch >= epochs,
        ),
        range(seed, seed + seeds),
    )


def check_retrained(kept: Sequence[str], diverged: Sequence[str], seeds: int) -> None:
    """Warn of the trials whose config diverged on retraining; SearchError when none is left.

    A config can train in its trial and diverge from other seeds on train+val (a high rate
    without gradient clipping is the usual cause): ``retrain_best`` passes over it to the
    next trial of the leaderboard, up to :data:`MAX_DIVERGED_RETRAINS` times.
    """
    if not diverged:
        return
    what = (
        f"every model retrained from trial(s) {', '.join(diverged)} ({seeds} seed(s)) "
        "diverged (the loss became NaN or infinite)"
    )
    if not kept:
        raise SearchError(f"{what}: no final model; {DIVERGENCE_ADVICE}")
    warnings.warn(
        f"{what}; the final model is retrained from trial(s) {', '.join(kept)}, next on the "
        f"leaderboard; {DIVERGENCE_ADVICE}",
        stacklevel=4,
    )


def ensemble_loss(classification: bool) -> dict[str, Any]:
    """The loss a config ensemble's ``test_loss`` reports: its members' losses may differ."""
    return {"name": "cross_entropy" if classification else "mse"}


def check_retrain_top_k(top_k: int) -> int:
    """How many top trials' configs :meth:`SearchResult.retrain_best` trains, checked.

    Example:
        >>> check_retrain_top_k(3)
        3
    """
    if not _is_count(top_k):
        raise ConfigError(
            "top_k", top_k, "an integer >= 1 (the top trials whose configs to average)"
        )
    return top_k


def resolve_retrain_seeds(seeds: int | str, cv_folds: int | None, data: TaskData) -> int:
    """How many seeds :meth:`SearchResult.retrain_best` trains: ``seeds``, or "auto"'s count.

    "auto": ``AUTO_RETRAIN_SEEDS`` (5) on small data, that is when the search
    cross-validated its trials or train+val holds fewer than
    ``AUTO_RETRAIN_SEEDS_BELOW_SAMPLES`` (2000) samples; else 1.

    Example:
        >>> from automl_nn import load_dataset
        >>> digits, mnist1d = load_dataset("digits"), load_dataset("mnist1d")
        >>> [resolve_retrain_seeds("auto", None, data) for data in (digits, mnist1d)]
        [5, 1]
        >>> resolve_retrain_seeds("auto", 5, mnist1d), resolve_retrain_seeds(3, None, digits)
        (5, 3)
    """
    if check_retrain_seeds(seeds) != "auto":
        return int(seeds)
    small = data.train_val_size < AUTO_RETRAIN_SEEDS_BELOW_SAMPLES
    return AUTO_RETRAIN_SEEDS if cv_folds is not None or small else 1


def check_retrain_seeds(seeds: int | str) -> int | str:
    """``seeds`` of :meth:`SearchResult.retrain_best`, checked: a count >= 1 or ``"auto"``.

    Example:
        >>> check_retrain_seeds("auto"), check_retrain_seeds(3)
        ('auto', 3)
    """
    if seeds != "auto" and not _is_count(seeds):
        raise ConfigError(
            "seeds",
            seeds,
            f"an integer >= 1, or 'auto' ({AUTO_RETRAIN_SEEDS} when the search cross-validated "
            f"its trials or train+val holds fewer than {AUTO_RETRAIN_SEEDS_BELOW_SAMPLES} "
            "samples, else 1)",
        )
    return seeds


def _is_count(value: object) -> bool:
    """A whole number >= 1 (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _history(results: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per epoch: a trial restored from a checkpoint may report an epoch again."""
    if not results:
        return pd.DataFrame({"epoch": []})
    frame = pd.DataFrame(results)
    if "epoch" in frame:
        frame = frame.drop_duplicates("epoch", keep="last").reset_index(drop=True)
    return frame


def _leaderboard_row(
    *,
    trial_id: str,
    trial_number: int,
    status: str,
    reason: str | None,
    history: pd.DataFrame,
    config: dict[str, Any],
    metric: str,
    mode: str,
) -> dict[str, Any]:
    last = history.iloc[-1].to_dict() if len(history) else {}
    config = config or {}
    metric_column = history[metric] if metric in history else pd.Series(dtype=float)
    best = metric_column.max() if mode == "max" else metric_column.min()
    row: dict[str, Any] = {
        "trial_id": trial_id,
        "trial_number": trial_number,
        "status": status,
        "reason": reason,
        "epochs": int(last.get("epoch", 0) or 0),
        "seconds": float(last.get("time_total_s", 0.0) or 0.0),
        metric: float(last.get(metric, math.nan)),
        f"best_{metric}": float(best) if len(metric_column) else math.nan,
    }
    if "num_parameters" in last:
        row["num_parameters"] = int(last["num_parameters"])
    if isinstance(last.get("device"), str):
        row["device"] = last["device"]
    for name, value in last.items():
        if str(name).startswith(("val_", "train_")) and name not in row:
            row[name] = value
    row.update({CONFIG_PREFIX + key: value for key, value in flatten_config(config).items()})
    return row


def tie_break_for(cv_folds: int | None, kind: str) -> str | None:
    """What orders trials tied on the metric: ``val_log_loss`` for cross-validated classes.

    Example:
        >>> tie_break_for(5, "classification"), tie_break_for(None, "classification")
        ('val_log_loss', None)
    """
    return TIE_BREAK_METRIC if cv_folds and kind != "regression" else None


def sorted_leaderboard(
    frame: pd.DataFrame, metric: str, mode: str, *, tie_break: str | None = None
) -> pd.DataFrame:
    """Best first; failed trials after the others, whatever their last metric said.

    Trials tied on ``metric`` are ordered by the ``tie_break`` column, lower first, when the
    frame has it and it is not the metric itself; otherwise (and where it ties too) the
    earlier trial comes first.

    Example:
        >>> frame = pd.DataFrame(
        ...     {"trial_id": ["a", "b", "c"], "status": ["TERMINATED"] * 3,
        ...      "val_accuracy": [0.9, 0.9, 0.8], "val_log_loss": [0.3, 0.2, 0.1]}
        ... )
        >>> list(sorted_leaderboard(frame, "val_accuracy", "max").trial_id)
        ['a', 'b', 'c']
        >>> ranked = sorted_leaderboard(frame, "val_accuracy", "max", tie_break="val_log_loss")
        >>> list(ranked.trial_id)
        ['b', 'a', 'c']
    """
    if frame.empty:
        return frame
    failed = "_failed"
    keys, ascending = [failed, metric], [True, mode == "min"]
    if tie_break is not None and tie_break in frame and tie_break != metric:
        keys.append(tie_break)
        ascending.append(True)
    ranked = frame.assign(**{failed: frame.status.isin(FAILED_STATUSES)}).sort_values(
        keys, ascending=ascending, na_position="last", kind="stable"
    )
    return ranked.drop(columns=failed).reset_index(drop=True)


def _usable_trials(leaderboard: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The leaderboard's rows that did not fail and have a value of the metric, in order."""
    if leaderboard.empty:
        return leaderboard
    return leaderboard[~leaderboard.status.isin(FAILED_STATUSES) & leaderboard[metric].notna()]


def _best_trial(leaderboard: pd.DataFrame, metric: str) -> str | None:
    usable = _usable_trials(leaderboard, metric)
    return None if usable.empty else str(usable.trial_id.iloc[0])
