"""Running a validated SearchPlan: Ray Tune for the trials, the tracker for MLflow."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from ray.tune import Callback

from automl_nn import __version__
from automl_nn.api import (
    SearchPlan,
    check_storage_reaches_every_node,
    check_trial_fits_a_node,
    write_search_file,
)
from automl_nn.errors import SearchError
from automl_nn.results import (
    DIVERGENCE_ADVICE,
    FAILED_STATUSES,
    SearchResult,
    trial_statuses,
)
from automl_nn.space import flatten_config
from automl_nn.tracking import (
    BackgroundTracker,
    BufferedTracker,
    MlflowTracker,
    NullTracker,
    Tracker,
    TrackingCallback,
)

if TYPE_CHECKING:
    from automl_nn.searchers import ControllerSearcher


def run_search(plan: SearchPlan) -> SearchResult:
    """Open the parent run, run the trials on Ray Tune, then summarize and log the outcome."""
    from ray import tune

    _ensure_ray(plan.ray_address)
    nodes = _check_cluster_fits(plan)
    tracker = _tracker(plan, parent_run_id=None)
    _open_parent_run(tracker, plan)

    def new_tuner(callbacks: list[Any], tune_config: Any) -> Any:
        if not plan.remote_storage:  # what resume reads; inside _run, so a failure closes the run
            write_search_file(plan, tracker.parent_run_id)
        return tune.Tuner(
            _trainable(plan),
            param_space=_param_space(plan),
            tune_config=tune_config,
            run_config=_run_config(plan, callbacks),
        )

    return _run(plan, tracker, new_tuner, nodes)


def resume_search(plan: SearchPlan, parent_run_id: str | None) -> SearchResult:
    """Restore Ray Tune's experiment from the search folder and run it to its end."""
    from ray import tune

    _check_experiment_state(Path(plan.folder), parent_run_id)
    _ensure_ray(plan.ray_address)
    nodes = _check_cluster_fits(plan)
    tracker = _tracker(plan, parent_run_id=parent_run_id)
    _open_parent_run(tracker, plan)

    def restored_tuner(callbacks: list[Any], tune_config: Any) -> Any:
        tuner = tune.Tuner.restore(
            plan.folder,
            trainable=_trainable(plan),
            resume_unfinished=True,
            resume_errored=False,
            restart_errored=False,
        )
        # Ray restores the callbacks pickled by the first driver, bound to its dead tracker;
        # the new ones (same order, so Ray hands each its saved state) write to the
        # re-attached parent run. Tuner.restore offers no public way to pass them.
        tuner._local_tuner.get_run_config().callbacks = _with_progress(plan, callbacks)
        # The restored run asks the searcher restored with the experiment, not tune_config's.
        restored_searcher = tuner._local_tuner._tune_config.search_alg
        for callback in callbacks:
            if isinstance(callback, ControllerStoryCallback):
                callback.searcher = restored_searcher
        return tuner

    return _run(plan, tracker, restored_tuner, nodes)


def _check_experiment_state(folder: Path, parent_run_id: str | None) -> None:
    """Refuse to resume from a Ray Tune experiment state that a killed driver left unreadable.

    Ray rewrites the file in place; a driver killed while writing it leaves it cut short, and
    ``Tuner.restore`` would then log an error and silently start the search from nothing.
    """
    from ray.tune.execution.tune_controller import TuneController

    # Ray Tune restores the newest state file by name.
    pattern = TuneController.CKPT_FILE_TMPL.format("*")
    newest = max(folder.glob(pattern), key=lambda state: state.name, default=None)
    if newest is None:
        return  # Tuner.restore names what is missing itself
    try:
        json.loads(newest.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        kept = f"under the MLflow parent run {parent_run_id}" if parent_run_id else "in it"
        raise SearchError(
            f"cannot resume {folder}: Ray Tune's experiment state {newest.name} is unreadable "
            f"({error}), most likely because the driver was killed while Ray was writing it. "
            "Resuming from it would restart the search from nothing, so nothing was started "
            f"or changed: the finished trials stay in the folder and {kept}. "
            "Start a new search to go on."
        ) from error


def _tracker(plan: SearchPlan, parent_run_id: str | None) -> Tracker:
    if not plan.tracking:
        return NullTracker()
    mlflow = MlflowTracker(plan.tracking_uri, plan.experiment, parent_run_id=parent_run_id)
    # A local search folder keeps what an unreachable server could not take (automl-nn sync).
    kept = mlflow if plan.remote_storage else BufferedTracker(mlflow, Path(plan.folder))
    # Writes leave Ray Tune's event loop for a thread of their own: trials are not held up by
    # a server's round trips, and even a local sqlite store costs the search less so
    # (benchmarks/overhead, automl_nn_tracking_on_inline).
    return BackgroundTracker(kept)


def _run(plan: SearchPlan, tracker: Tracker, make_tuner: Any, nodes: int) -> SearchResult:
    # Child runs name their node on a cluster; a local Ray has one node to name.
    on_a_cluster = plan.ray_address is not None or nodes > 1
    tracking = TrackingCallback(tracker, flatten=flatten_config, tag_nodes=on_a_cluster)
    recorder = TrialRecorder()
    try:
        if plan.verbose:
            print(f"automl_nn: search folder {plan.folder}", flush=True)
            if plan.tracking:
                print(
                    f"automl_nn: MLflow parent run {tracker.parent_run_id} at {plan.tracking_uri}"
                )
        tune_config = _tune_config(plan)
        interrupt = InterruptWatch()
        callbacks = [
            tracking,
            recorder,
            interrupt,
            *_story_callbacks(tracker, tune_config.search_alg),
        ]
        with _pending_trials(plan):
            make_tuner(callbacks, tune_config).fit()
        if interrupt.interrupted:  # Ray Tune stopped gracefully and returned as if done
            raise KeyboardInterrupt
        tracking.end_unfinished_trials(recorder.trials)
        tracker.end_lost_trials({trial.trial_id for trial in recorder.trials})
        result = SearchResult.from_trials(
            plan=plan, trials=recorder.trials, tracking=tracking, tracker=tracker
        )
        if result.every_trial_failed():
            tracker.set_search_tags({"automl_nn.outcome": "every trial failed"})
            raise SearchError(
                f"every trial of the search failed: "
                f"{why_every_trial_failed(result.leaderboard, plan.trial_timeout_s)}; see the "
                f"child runs' automl_nn.reason tags in MLflow run {tracker.parent_run_id} and "
                f"the search folder {plan.folder}"
            )
        if result.best_trial_id is None:
            outcome, advice = no_winner(result.leaderboard, plan.metric)
            tracker.set_search_tags({"automl_nn.outcome": outcome})
            warnings.warn(advice, stacklevel=3)
        result.log_summary()
    except BaseException:
        tracker.close_search("KILLED" if _interrupted() else "FAILED")
        raise
    tracker.close_search("FINISHED")
    return result


def why_every_trial_failed(leaderboard: pd.DataFrame, trial_timeout_s: float | None) -> str:
    """How many trials raised and how many ran out of time, and what to change for the latter.

    Trials that all ran past ``trial_timeout_s`` broke nothing: the limit is too short for
    them, which the error says itself rather than leave it to the child runs' tags.

    Example:
        >>> board = pd.DataFrame({"status": ["timed_out", "failed", "timed_out"]})
        >>> print(why_every_trial_failed(board, 1.5))
        1 of 3 trials raised an error, 2 of 3 trials ran past trial_timeout_s (1.5 s: raise ...
    """
    statuses = trial_statuses(leaderboard)
    limit = f"trial_timeout_s ({trial_timeout_s} s: raise it, or make the trials smaller)"
    what = {"failed": "raised an error", "timed_out": f"ran past {limit}"}
    counts = {status: int((statuses == status).sum()) for status in FAILED_STATUSES}
    return ", ".join(
        f"{count} of {len(statuses)} trials {what[status]}"
        for status, count in counts.items()
        if count
    )


def no_winner(leaderboard: pd.DataFrame, metric: str) -> tuple[str, str]:
    """(outcome tag, advice) for a search that ended without a usable trial, not all failed.

    Either trials diverged (their loss became NaN or infinite, so no trial holds a finite
    ``metric``) or the budget ran out before any trial finished an epoch.
    """
    statuses = trial_statuses(leaderboard)
    diverged = int((statuses == "diverged").sum())
    if diverged:
        return (
            "no trial has a finite metric",
            f"no trial ended with a finite {metric}: {diverged} of {len(statuses)} trials "
            "diverged (their loss became NaN or infinite) and the others failed or never "
            f"finished an epoch; {DIVERGENCE_ADVICE}",
        )
    return (
        "no trial finished an epoch",
        "the search budget ran out before any trial finished an epoch; "
        "give it more time (time_budget_s) or fewer, smaller trials",
    )


class TrialRecorder(Callback):
    """Keeps Ray Tune's trials (config, status, checkpoint) when the experiment ends."""

    def __init__(self) -> None:
        self.trials: list[Any] = []

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        self.trials = list(trials)


class InterruptWatch(Callback):
    """Notes Ray Tune's graceful stop (a first Ctrl-C, or SIGUSR1), which ``fit`` hides.

    Ray Tune catches that signal, saves the experiment and returns from ``Tuner.fit`` as if
    the search had ended; ``search`` then raises KeyboardInterrupt, so the parent run closes
    as KILLED (``resume`` goes on with it) instead of reporting a finished search. Ray
    installs its handlers before it sets up the callbacks; this one wraps them there.
    """

    def __init__(self) -> None:
        self.interrupted = False

    def setup(self, **info: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Ray Tune installs no handler either
        for name in ("SIGINT", "SIGUSR1"):
            number = getattr(signal, name, None)
            handler = signal.getsignal(number) if number is not None else None
            if callable(handler):
                signal.signal(number, self._noting(handler))

    def _noting(self, handler: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
        def note_then_handle(number: int, frame: Any) -> Any:
            self.interrupted = True
            return handler(number, frame)

        return note_then_handle


class ControllerStoryCallback(Callback):
    """Logs an RL controller's story on the parent run: points as trials end, a plot at the end.

    Ray tells the searcher that a trial ended before it tells the callbacks, so the points of
    the update that trial caused are there to drain.
    """

    def __init__(self, tracker: Tracker, searcher: ControllerSearcher) -> None:
        self.tracker = tracker
        self.searcher = searcher
        self.told = False

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._log_story()

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._log_story()

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        self._log_story()
        if self.told:
            import matplotlib.pyplot as plt

            figure = self.searcher.story_figure()
            self.tracker.log_figure(figure, "controller.png")
            plt.close(figure)

    def _log_story(self) -> None:
        for metrics, step in self.searcher.drain_story():
            self.tracker.search_metrics(metrics, step)
            self.told = True


def _story_callbacks(tracker: Tracker, search_alg: Any) -> list[Callback]:
    from automl_nn.searchers import ControllerSearcher

    if isinstance(search_alg, ControllerSearcher):
        return [ControllerStoryCallback(tracker, search_alg)]
    return []


def _interrupted() -> bool:
    return isinstance(sys.exc_info()[1], KeyboardInterrupt)


def _open_parent_run(tracker: Tracker, plan: SearchPlan) -> None:
    tracker.open_search(
        plan.settings(),
        tags={
            "mlflow.runName": plan.search_name,
            "automl_nn.searcher": plan.searcher,
            "automl_nn.scheduler": plan.scheduler,
            "automl_nn.dataset": plan.data.name,
            "automl_nn.version": __version__,
        },
        text_artifacts={
            "space.yaml": plan.space.to_yaml(),
            "data.json": json.dumps(plan.data.describe(), indent=2),
        },
    )


def _ensure_ray(address: str | None) -> None:
    import logging

    import ray

    # Tune snapshots the experiment after every CHECKPOINTS_KEPT checkpoints of a trial
    # (one checkpoint per epoch); that is intended, so its warning about it is noise.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # Our ProgressCallback reports progress; Ray's new output engine prints its own tables
    # even at verbose=0, while the legacy one stays quiet there.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    if ray.is_initialized():
        return
    ray.init(
        address=address,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )


CHECKPOINTS_KEPT = 5


@contextlib.contextmanager
def _pending_trials(plan: SearchPlan) -> Iterator[None]:
    """Let every free trial slot start a trial at once.

    With a searcher, Ray Tune keeps one trial pending by default; on a cluster the node that
    already runs a (reused) actor then wins every short trial and new nodes starve
    (benchmarks/scaling). A user's own TUNE_MAX_PENDING_TRIALS_PG wins.
    """
    import ray

    if "TUNE_MAX_PENDING_TRIALS_PG" in os.environ:
        yield
        return
    resources = ray.cluster_resources()
    slots = resources.get("CPU", 0.0) // plan.resources["cpu"]
    if plan.resources["gpu"] > 0:
        slots = min(slots, resources.get("GPU", 0.0) // plan.resources["gpu"])
    if plan.max_concurrent is not None:
        slots = min(slots, plan.max_concurrent)
    os.environ["TUNE_MAX_PENDING_TRIALS_PG"] = str(max(1, int(slots)))
    try:
        yield
    finally:
        os.environ.pop("TUNE_MAX_PENDING_TRIALS_PG", None)


def _check_cluster_fits(plan: SearchPlan) -> int:
    """Check the plan against the Ray cluster (storage, a node per trial); its alive nodes."""
    import ray

    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    check_storage_reaches_every_node(plan, len(nodes))
    check_trial_fits_a_node(plan, nodes)
    return len(nodes)


def _trainable(plan: SearchPlan) -> Any:
    from ray import tune

    from automl_nn.trainable import train_trial
    from automl_nn.training import fold_indices

    # Computed here once: the same folds for every trial, and no scikit-learn import (over a
    # second on a slow machine) in each trial process.
    cv_indices = (
        None if plan.cv_folds is None else fold_indices(plan.data, plan.cv_folds, seed=plan.seed)
    )
    with_data = tune.with_parameters(
        train_trial,
        data=plan.data,
        max_epochs=plan.max_epochs,
        seed=plan.seed,
        torch_threads=max(1, int(plan.resources["cpu"])),
        # Ray shows a trial only the GPUs it was given; one without trains on the CPU.
        device="cuda" if plan.resources["gpu"] > 0 else "cpu",
        trial_timeout_s=plan.trial_timeout_s,
        plugins=plan.plugins,
        cv_folds=plan.cv_folds,
        cv_fold_indices=cv_indices,
    )
    return tune.with_resources(with_data, dict(plan.resources))


def _param_space(plan: SearchPlan) -> dict[str, Any]:
    """Empty for searchers (they propose whole configs); random sections for PBT."""
    if plan.scheduler != "pbt":
        return {}
    from ray import tune

    rng = random.Random(plan.seed)
    # Sections are independent in every space, so drawing each from its own full sample
    # keeps the joint distribution of the space.
    return {
        section: tune.sample_from(lambda spec, section=section: plan.space.sample(rng)[section])
        for section in plan.space.to_dict()
    }


def _tune_config(plan: SearchPlan) -> Any:
    from ray import tune

    from automl_nn.schedulers import make_scheduler
    from automl_nn.searchers import SearcherSettings, make_searcher

    search_alg = None
    if plan.scheduler != "pbt":
        settings = SearcherSettings(
            plan.space, plan.metric, plan.mode, plan.seed, plan.num_trials, plan.searcher_options
        )
        search_alg = make_searcher(plan.searcher, settings)
    return tune.TuneConfig(
        metric=plan.metric,
        mode=plan.mode,
        search_alg=search_alg,
        scheduler=make_scheduler(plan.scheduler, max_epochs=plan.max_epochs),
        num_samples=plan.num_trials,
        max_concurrent_trials=plan.max_concurrent,
        time_budget_s=plan.time_budget_s,
        reuse_actors=True,
    )


def _with_progress(plan: SearchPlan, callbacks: list[Any]) -> list[Any]:
    """The callbacks, with live progress last when the search is verbose."""
    from automl_nn.progress import ProgressCallback

    if not plan.verbose:
        return list(callbacks)
    progress = ProgressCallback(
        metric=plan.metric,
        mode=plan.mode,
        num_trials=plan.num_trials,
        time_budget_s=plan.time_budget_s,
    )
    return [*callbacks, progress]


def _run_config(plan: SearchPlan, callbacks: list[Any]) -> Any:
    from ray import tune

    return tune.RunConfig(
        name=plan.search_name,
        storage_path=plan.storage_path,
        callbacks=_with_progress(plan, callbacks),
        failure_config=tune.FailureConfig(max_failures=plan.max_failures),
        # Ray Tune snapshots the whole experiment each time a trial has checkpointed
        # num_to_keep times; with 1 that is every epoch of every trial (benchmarks/overhead).
        # Five bounds both the snapshots and the disk, and leaves PBT checkpoints to exploit.
        checkpoint_config=tune.CheckpointConfig(num_to_keep=CHECKPOINTS_KEPT),
        verbose=0,
    )
