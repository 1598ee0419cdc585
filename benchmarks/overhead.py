"""Per-trial overhead of ``automl_nn.search`` against raw Ray Tune and Optuna running ``fit``.

Many one-epoch trials of a tiny MLP on ``digits`` (the training itself takes milliseconds, so
what is measured is the cost around a trial), run four ways on one shared
``ray.init(num_cpus=2)`` (Optuna: two threads), one after the other in the same process:

- ``raw_ray_tune``: a plain function trainable calling ``automl_nn.fit`` and
  ``tune.report`` once, the data through ``tune.with_parameters``, BasicVariantGenerator
  with ``num_samples`` trials, ``reuse_actors=True``, 1 CPU per trial.
- ``optuna_direct``: an Optuna study (RandomSampler, no storage) whose objective calls the
  same ``fit`` on the same space, ``study.optimize(n_jobs=2)``: threads of the driver process,
  1 torch thread per trial (Ray Tune is not involved).
- ``automl_nn_tracking_off``: ``automl_nn.search(..., tracking=False)`` (searcher random,
  scheduler fifo, ``max_epochs=1``): the same search, nothing written to MLflow.
- ``automl_nn_tracking_on``: ``automl_nn.search`` writing to a fresh sqlite MLflow store
  (created, with its experiment, before the clock starts: a one-off cost of a new store).

Figures: trials/s over the whole call (fixed costs included) and the ratios of the targets
(tracking-off >= 0.9 x raw; tracking-on < 10 % slower than tracking-off). To explain them,
driver-side probes count and time, per variant: Ray Tune's experiment-state snapshots
(``TuneController.save_to_dir``) and the background sync of the experiment folder, the
``TrackingCallback`` hooks, MLflow client calls by name, ``Tuner.fit`` itself, and what
``search`` does after it (``SearchResult.from_trials``, ``log_summary``). With
``--diagnose`` three more variants split the gap: ``raw_checkpoint`` (raw with a checkpoint in
each report, as ``search``'s trainable does every epoch), ``raw_checkpoint_keep1`` (the same
with ``CheckpointConfig(num_to_keep=1)``, as ``search`` once set it: Ray Tune then forces an
experiment-state snapshot and a sync of the experiment folder after every trial checkpoint)
``automl_nn_tracking_off_keep_all``, a what-if: ``search`` with ``num_to_keep`` dropped, and
``automl_nn_tracking_on_inline``, a what-if: MLflow written in line, on Ray Tune's event loop,
instead of from ``search``'s background tracking thread.

Run: ``python -m benchmarks overhead``; ``python -m benchmarks.overhead`` also takes
``--quick``, ``--trials N``, ``--diagnose`` and ``--rounds R`` (rotated order, median round).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._report import machine, machine_lines, markdown_table, write_results

NAME = "overhead"
DATASET = "digits"
NUM_CPUS = 2
SEED = 0
FULL_TRIALS = 200
QUICK_TRIALS = 40
OFF_VS_RAW_TARGET = 0.9
ON_VS_OFF_MAX_EXTRA = 0.10
EXPERIMENT = "automl_nn_overhead"
METRIC = "val_accuracy"
SPACE: dict[str, Any] = {
    "model": {"family": "mlp", "depth": 1, "width": 16},
    "optimizer": {"name": "adam", "lr": {"loguniform": [1e-3, 1e-2]}},
    "training": {"batch_size": 256},
}
MAIN_VARIANTS = (
    "raw_ray_tune",
    "optuna_direct",
    "automl_nn_tracking_off",
    "automl_nn_tracking_on",
)
OPTUNA_JOBS = NUM_CPUS  # what an Optuna user sets on this machine (threads of one process)
DIAGNOSTIC_VARIANTS = (
    "raw_checkpoint",
    "raw_checkpoint_keep1",
    "automl_nn_tracking_off_keep_all",
    "automl_nn_tracking_on_inline",
)


# -- probes: driver-side counts and times ----------------------------------------------


@dataclass
class Probe:
    """Calls and seconds of the driver-side functions that a variant's time goes to."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function``, counted and timed under ``label``."""

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.calls[label] += 1
                self.seconds[label] += time.perf_counter() - started

        return timed

    def summary(self, num_trials: int) -> dict[str, Any]:
        return {
            label: {
                "calls": self.calls[label],
                "calls_per_trial": self.calls[label] / num_trials,
                "seconds": round(self.seconds[label], 4),
                "ms_per_trial": round(1000 * self.seconds[label] / num_trials, 3),
            }
            for label in sorted(self.calls)
        }


_MLFLOW_CLIENT_METHODS = (
    "create_experiment",
    "get_experiment_by_name",
    "create_run",
    "log_batch",
    "log_text",
    "log_artifact",
    "log_figure",
    "set_terminated",
    "update_run",
    "create_logged_model",
)


@contextlib.contextmanager
def probed() -> Iterator[Probe]:
    """Patch the driver-side functions of interest with counting, timing wrappers."""
    from mlflow.tracking import MlflowClient
    from ray import tune
    from ray.train._internal import storage
    from ray.tune.callback import CallbackList
    from ray.tune.execution.tune_controller import TuneController

    from automl_nn.results import SearchResult
    from automl_nn.tracking import TrackingCallback

    probe = Probe()
    targets: list[tuple[Any, str, str]] = [
        (tune.Tuner, "fit", "ray.Tuner.fit"),
        (TuneController, "save_to_dir", "ray.experiment_state_snapshot"),
        (CallbackList, "save_to_dir", "ray.experiment_state_snapshot.callback_states"),
        # Runs in Ray's background sync thread: copies the driver staging folder to storage.
        (storage, "_upload_to_fs_path", "ray.experiment_sync_up_thread"),
        (TrackingCallback, "on_trial_start", "automl_nn.TrackingCallback.on_trial_start"),
        (TrackingCallback, "on_trial_result", "automl_nn.TrackingCallback.on_trial_result"),
        (TrackingCallback, "on_trial_complete", "automl_nn.TrackingCallback.on_trial_complete"),
        (SearchResult, "from_trials", "automl_nn.SearchResult.from_trials"),
        (SearchResult, "log_summary", "automl_nn.SearchResult.log_summary"),
    ]
    targets += [(MlflowClient, name, f"mlflow.{name}") for name in _MLFLOW_CLIENT_METHODS]
    with contextlib.ExitStack() as stack:
        for owner, attribute, label in targets:
            if hasattr(owner, attribute):
                stack.enter_context(
                    _patched(owner, attribute, _wrapped(probe, owner, attribute, label))
                )
        yield probe


def _wrapped(probe: Probe, owner: Any, attribute: str, label: str) -> Any:
    """The attribute, counted and timed; a classmethod stays a classmethod."""
    original = inspect.getattr_static(owner, attribute)
    if isinstance(original, classmethod):
        return classmethod(probe.wrap(label, original.__func__))
    return probe.wrap(label, original)


@contextlib.contextmanager
def _patched(owner: Any, attribute: str, value: Any) -> Iterator[None]:
    original = inspect.getattr_static(owner, attribute)
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        setattr(owner, attribute, original)


# -- raw Ray Tune ----------------------------------------------------------------------


def raw_trainable(config: dict[str, Any], data: Any, checkpoint: bool = False) -> None:
    """What a Ray Tune user writes around ``fit``: train, then report once."""
    import torch
    from ray import tune

    from automl_nn import fit

    torch.set_num_threads(1)
    result = fit(config, data, seed=SEED, device="cpu")  # as automl_nn's trials: no GPU asked
    metrics = {**result.metrics, "epoch": result.epochs}
    if not checkpoint:
        tune.report(metrics)
        return
    with tempfile.TemporaryDirectory() as folder:
        torch.save(result.model.state_dict(), Path(folder) / "model.pt")
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))


def raw_param_space() -> dict[str, Any]:
    """``SPACE`` in Ray Tune's own words, with the one epoch in the config."""
    from ray import tune

    low, high = SPACE["optimizer"]["lr"]["loguniform"]
    return {
        "model": dict(SPACE["model"]),
        "optimizer": {"name": "adam", "lr": tune.loguniform(low, high)},
        "training": {**SPACE["training"], "epochs": 1},
    }


def run_raw(
    data: Any, num_trials: int, storage: Path, *, checkpoint: bool = False, keep: int | None = None
) -> None:
    """Raw Ray Tune: BasicVariantGenerator, reused actors, 1 CPU per trial."""
    from ray import tune
    from ray.tune.search.basic_variant import BasicVariantGenerator

    trainable = tune.with_parameters(raw_trainable, data=data, checkpoint=checkpoint)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space=raw_param_space(),
        tune_config=tune.TuneConfig(
            metric=METRIC,
            mode="max",
            search_alg=BasicVariantGenerator(random_state=SEED),
            num_samples=num_trials,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name="raw",
            storage_path=str(storage),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=keep),
            verbose=0,
        ),
    )
    grid = tuner.fit()
    _check_trials(grid.num_terminated, grid.num_errors, num_trials)


# -- Optuna ----------------------------------------------------------------------------


def run_optuna(data: Any, num_trials: int) -> None:
    """What an Optuna user writes around ``fit``: a study, ``n_jobs`` threads, no storage."""
    import optuna
    import torch

    from automl_nn import fit

    low, high = SPACE["optimizer"]["lr"]["loguniform"]

    def objective(trial: Any) -> float:
        lr = trial.suggest_float("lr", low, high, log=True)
        config = {**raw_param_space(), "optimizer": {"name": "adam", "lr": lr}}
        return float(fit(config, data, seed=SEED, device="cpu").metrics[METRIC])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=SEED)
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 1 torch thread per trial, as in the Ray variants
    try:
        study.optimize(objective, n_trials=num_trials, n_jobs=OPTUNA_JOBS)
    finally:
        torch.set_num_threads(threads)
    states = [trial.state.name for trial in study.trials]
    _check_trials(states.count("COMPLETE"), states.count("FAIL"), num_trials)


# -- automl_nn -------------------------------------------------------------------------


def run_automl_nn(
    data: Any, num_trials: int, storage: Path, tracking_uri: str, *, tracking: bool
) -> None:
    """``automl_nn.search`` as a user calls it, writing to ``tracking_uri`` or to nothing."""
    from automl_nn import search

    result = search(
        data,
        SPACE,
        searcher="random",
        scheduler="fifo",
        num_trials=num_trials,
        max_epochs=1,
        seed=SEED,
        tracking_uri=tracking_uri if tracking else None,
        tracking=tracking,
        experiment=EXPERIMENT,
        storage_path=storage,
        verbose=False,
    )
    statuses = result.leaderboard.status
    completed, failed = int((statuses == "completed").sum()), int((statuses == "failed").sum())
    _check_trials(completed, failed, num_trials)


def new_tracking_store(folder: Path) -> str:
    """A fresh sqlite MLflow store with the benchmark's experiment (artifacts in ``folder``)."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    MlflowClient(uri).create_experiment(EXPERIMENT, artifact_location=str(folder / "artifacts"))
    return uri


def mlflow_floor(
    folder: Path, num_trials: int = 50, *, fewest_calls: bool = False
) -> dict[str, float]:
    """What MLflow's store alone costs per trial, on a fresh sqlite store, no Ray.

    Per trial, as a search writes it: a child run (with its parent and trial-id tags), its
    params, one epoch of metrics, its end tags, its end (5 client calls). With
    ``fewest_calls``, the least MLflow's client API allows for the same content: the child
    run, one ``log_batch`` with params, metrics and end tags, its end (3 calls). Process CPU
    time and wall time per trial, in this thread. No driver design removes this cost: on a
    machine whose cores the trials already fill, it adds to every trial wherever it runs.
    """
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    folder.mkdir()
    client = MlflowClient(new_tracking_store(folder))
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    parent = client.create_run(experiment_id).info.run_id
    params = [Param(f"config.key_{i}", "0.1") for i in range(8)]
    metric_names = ("train_loss", "val_loss", "val_accuracy", "val_precision", "val_recall")
    metrics = [Metric(name, 0.5, 0, 1) for name in metric_names]
    end_tags = [RunTag("automl_nn.status", "completed")]
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    for trial in range(num_trials):
        tags = {"mlflow.parentRunId": parent, "automl_nn.trial_id": str(trial)}
        run_id = client.create_run(experiment_id, tags=tags).info.run_id
        if fewest_calls:
            client.log_batch(run_id, metrics=metrics, params=params, tags=end_tags)
        else:
            client.log_batch(run_id, params=params)
            client.log_batch(run_id, metrics=metrics)
            client.log_batch(run_id, tags=end_tags)
        client.set_terminated(run_id, "FINISHED")
    return {
        "trials": num_trials,
        "client_calls_per_trial": 3 if fewest_calls else 5,
        "cpu_ms_per_trial": round(1000 * (time.process_time() - cpu_started) / num_trials, 1),
        "wall_ms_per_trial": round(1000 * (time.perf_counter() - wall_started) / num_trials, 1),
    }


def _check_trials(completed: int, errors: int, expected: int) -> None:
    if errors or completed != expected:
        raise RuntimeError(f"{completed} of {expected} trials completed, {errors} failed")


# -- the benchmark ---------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One variant's wall time and what the probes saw."""

    variant: str
    trials: int
    seconds: float
    probes: dict[str, Any]
    state_bytes: dict[str, int]

    @property
    def trials_per_second(self) -> float:
        return self.trials / self.seconds


def time_variant(variant: str, data: Any, num_trials: int, workdir: Path) -> Timing:
    """Run one variant in its own folder (and MLflow store) and time the whole call."""
    folder = workdir / variant
    folder.mkdir()
    tracking_uri = new_tracking_store(folder)  # outside the clock: a one-off cost
    run = _variant_runner(variant, data, num_trials, folder, tracking_uri)
    with probed() as probe:
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    return Timing(variant, num_trials, seconds, probe.summary(num_trials), state_files(folder))


def state_files(folder: Path) -> dict[str, int]:
    """Bytes of the experiment-state files each snapshot rewrites, at the end of a run."""
    patterns = ("experiment_state*.json", "callback-states*.pkl", "searcher-state*.pkl")
    return {
        pattern: sum(path.stat().st_size for path in folder.rglob(pattern)) for pattern in patterns
    }


def _variant_runner(
    variant: str, data: Any, num_trials: int, folder: Path, tracking_uri: str
) -> Callable[[], None]:
    storage = folder / "runs"
    runners: dict[str, Callable[[], None]] = {
        "raw_ray_tune": lambda: run_raw(data, num_trials, storage),
        "optuna_direct": lambda: run_optuna(data, num_trials),
        "raw_checkpoint": lambda: run_raw(data, num_trials, storage, checkpoint=True),
        "raw_checkpoint_keep1": lambda: run_raw(data, num_trials, storage, checkpoint=True, keep=1),
        "automl_nn_tracking_off": lambda: run_automl_nn(
            data, num_trials, storage, tracking_uri, tracking=False
        ),
        "automl_nn_tracking_on": lambda: run_automl_nn(
            data, num_trials, storage, tracking_uri, tracking=True
        ),
        "automl_nn_tracking_off_keep_all": lambda: _keeping_every_checkpoint(
            lambda: run_automl_nn(data, num_trials, storage, tracking_uri, tracking=False)
        ),
        "automl_nn_tracking_on_inline": lambda: _writing_in_line(
            lambda: run_automl_nn(data, num_trials, storage, tracking_uri, tracking=True)
        ),
    }
    return runners[variant]


def _keeping_every_checkpoint(run: Callable[[], None]) -> None:
    """What-if: run with ``CheckpointConfig``'s ``num_to_keep`` dropped (every one kept).

    ``search`` asks for ``num_to_keep=5``; Ray Tune then forces an experiment-state
    snapshot (and a sync of the experiment folder) after every 5 checkpoints of a trial.
    """
    from ray import tune

    original = tune.CheckpointConfig

    def keep_all(*args: Any, num_to_keep: int | None = None, **kwargs: Any) -> Any:
        return original(*args, **kwargs)

    with _patched(tune, "CheckpointConfig", keep_all):
        run()


def _writing_in_line(run: Callable[[], None]) -> None:
    """What-if: MLflow written in line, on Ray Tune's event loop, not from a background thread."""
    from automl_nn import _runner

    with _patched(_runner, "BackgroundTracker", lambda inner: inner):
        run()


def start_ray() -> None:
    """One local Ray for every variant, as ``search`` would start it, with 2 CPUs."""
    import ray

    if not ray.is_initialized():
        ray.init(
            num_cpus=NUM_CPUS,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )


def run(
    quick: bool = False, *, trials: int | None = None, diagnose: bool = False, rounds: int = 1
) -> dict[str, Any]:
    """Time every variant side by side, write the result files and return the payload.

    With several ``rounds`` the variants run again in a rotated order each round and the
    median round of each variant is reported (a shared machine's load drifts).
    """
    from automl_nn import load_dataset

    num_trials = trials or (QUICK_TRIALS if quick else FULL_TRIALS)
    variants = MAIN_VARIANTS + (DIAGNOSTIC_VARIANTS if diagnose else ())
    data = load_dataset(DATASET)
    start_ray()
    timings: dict[str, list[Timing]] = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory(prefix="automl_nn_overhead_") as workdir:
        _warm_up(data, Path(workdir))
        for round_index in range(rounds):
            folder = Path(workdir) / f"round_{round_index}"
            folder.mkdir()
            shift = round_index % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                timings[variant].append(time_variant(variant, data, num_trials, folder))
        floors = {
            key: mlflow_floor(Path(workdir) / key, fewest_calls=fewest)
            for key, fewest in (("mlflow_floor", False), ("mlflow_floor_fewest_calls", True))
        }
    payload = _payload(timings, quick=quick, num_trials=num_trials)
    raw_ms = payload["variants"]["raw_ray_tune"]["ms_per_trial"]
    for key, floor in floors.items():
        payload[key] = floor | {"cpu_vs_raw_trial": round(floor["cpu_ms_per_trial"] / raw_ms, 3)}
    write_results(NAME, payload, to_markdown(payload))
    return payload


def _ratios(baseline: list[Timing], variant: list[Timing]) -> list[float]:
    """Trials/s of ``variant`` over ``baseline``, round by round."""
    return [
        v.trials_per_second / b.trials_per_second for b, v in zip(baseline, variant, strict=True)
    ]


def _median_round(timings: list[Timing]) -> Timing:
    """The round whose wall time is the median (the lower middle one for an even count)."""
    ordered = sorted(timings, key=lambda timing: timing.seconds)
    return ordered[(len(ordered) - 1) // 2]


def _warm_up(data: Any, workdir: Path) -> None:
    """A few trials of each main path first: imports, worker start-up and caches paid once."""
    folder = workdir / "warm_up"
    folder.mkdir()
    uri = new_tracking_store(folder)
    run_raw(data, 4, folder / "raw")
    run_optuna(data, 4)
    run_automl_nn(data, 4, folder / "off", uri, tracking=False)
    run_automl_nn(data, 4, folder / "on", uri, tracking=True)


def _payload(timings: dict[str, list[Timing]], *, quick: bool, num_trials: int) -> dict[str, Any]:
    median_rounds = {variant: _median_round(rounds) for variant, rounds in timings.items()}
    # Ratios within each round (the variants ran minutes apart, under the same load), then
    # their median: steadier on a shared machine than a ratio of two separate medians.
    off_vs_raw_rounds = _ratios(timings["raw_ray_tune"], timings["automl_nn_tracking_off"])
    on_vs_off_rounds = _ratios(timings["automl_nn_tracking_off"], timings["automl_nn_tracking_on"])
    off_vs_optuna_rounds = _ratios(timings["optuna_direct"], timings["automl_nn_tracking_off"])
    off_vs_raw = statistics.median(off_vs_raw_rounds)
    on_extra = 1.0 / statistics.median(on_vs_off_rounds) - 1.0  # extra time per trial
    return {
        "benchmark": NAME,
        "quick": quick,
        "dataset": DATASET,
        "trials": num_trials,
        "rounds": len(next(iter(timings.values()))),
        "space": SPACE,
        "torch_threads_per_trial": 1,
        "machine": machine(),
        "variants": {
            variant: {
                "seconds": round(t.seconds, 3),
                "trials_per_second": round(t.trials_per_second, 3),
                "ms_per_trial": round(1000 * t.seconds / t.trials, 1),
                "seconds_per_round": [round(r.seconds, 3) for r in timings[variant]],
                "probes": t.probes,
                "experiment_state_bytes_at_end": t.state_bytes,
            }
            for variant, t in median_rounds.items()
        },
        "tracking_off_vs_raw": round(off_vs_raw, 3),
        "tracking_off_vs_raw_per_round": [round(ratio, 3) for ratio in off_vs_raw_rounds],
        "tracking_off_vs_optuna": round(statistics.median(off_vs_optuna_rounds), 3),
        "tracking_off_vs_optuna_per_round": [round(ratio, 3) for ratio in off_vs_optuna_rounds],
        "tracking_on_extra_time_vs_off": round(on_extra, 3),
        "tracking_on_extra_time_per_round": [round(1 / r - 1, 3) for r in on_vs_off_rounds],
        "meets_off_vs_raw_target": off_vs_raw >= OFF_VS_RAW_TARGET,
        "meets_on_vs_off_target": on_extra < ON_VS_OFF_MAX_EXTRA,
    }


_PROBES_SHOWN = (
    "ray.Tuner.fit",
    "ray.experiment_state_snapshot",
    "automl_nn.SearchResult.from_trials",
    "automl_nn.SearchResult.log_summary",
)


def to_markdown(payload: dict[str, Any]) -> str:
    """Trials/s per variant, the target ratios, and the per-trial costs the probes saw."""
    variants = payload["variants"]
    raw = variants["raw_ray_tune"]["trials_per_second"]
    rows = [
        [
            name,
            v["seconds"],
            v["trials_per_second"],
            v["ms_per_trial"],
            v["trials_per_second"] / raw,
        ]
        for name, v in variants.items()
    ]
    cost_rows = []
    for name, v in variants.items():
        probes = v["probes"]
        mlflow_calls = sum(p["calls"] for k, p in probes.items() if k.startswith("mlflow."))
        mlflow_ms = sum(p["ms_per_trial"] for k, p in probes.items() if k.startswith("mlflow."))
        shown = [probes.get(k, {"calls": 0, "ms_per_trial": 0.0}) for k in _PROBES_SHOWN]
        cost_rows.append(
            [
                name,
                *(f"{p['calls']} / {p['ms_per_trial']:.1f}" for p in shown),
                f"{mlflow_calls} / {mlflow_ms:.1f}",
            ]
        )
    lines = [
        "# Overhead per trial: automl_nn.search vs raw Ray Tune and Optuna",
        "",
        f"{payload['trials']} one-epoch trials of a tiny MLP on {payload['dataset']}, "
        f"ray.init(num_cpus=2), 1 CPU per trial, variants run one after the other in one "
        f"process; {payload['rounds']} round(s), order rotated each round, median round "
        f"shown (seconds of every round in the JSON)."
        + (" Quick run." if payload["quick"] else ""),
        "",
        markdown_table(["variant", "seconds", "trials/s", "ms/trial", "x raw"], rows),
        "",
        f"- tracking-off / raw: **{payload['tracking_off_vs_raw']}** (target >= "
        f"{OFF_VS_RAW_TARGET}): {'met' if payload['meets_off_vs_raw_target'] else 'MISSED'}; "
        f"median of the rounds' own ratios {payload['tracking_off_vs_raw_per_round']}",
        f"- tracking-off / Optuna direct ({OPTUNA_JOBS} threads, same fit): "
        f"**{payload['tracking_off_vs_optuna']}**; per round "
        f"{payload['tracking_off_vs_optuna_per_round']}",
        f"- tracking-on extra time over tracking-off: "
        f"**{100 * payload['tracking_on_extra_time_vs_off']:.1f} %** (target < "
        f"{100 * ON_VS_OFF_MAX_EXTRA:.0f} %): "
        f"{'met' if payload['meets_on_vs_off_target'] else 'MISSED'}; per round "
        f"{payload['tracking_on_extra_time_per_round']}",
        "",
        *_floor_lines(payload),
        "Driver-side costs, `calls / ms per trial`:",
        "",
        markdown_table(
            ["variant", "Tuner.fit", "state snapshots", "from_trials", "log_summary", "MLflow"],
            cost_rows,
        ),
        "",
        "MLflow client calls of the tracking-on search (driver side):",
        "",
        _mlflow_table(variants["automl_nn_tracking_on"]["probes"]),
        "",
        "Machine:",
        "",
        *machine_lines(payload["machine"]),
    ]
    return "\n".join(lines)


def _floor_lines(payload: dict[str, Any]) -> list[str]:
    raw_ms = payload["variants"]["raw_ray_tune"]["ms_per_trial"]
    lines = [
        f"- MLflow's own floor ({label}, sqlite, no Ray): "
        f"**{floor['cpu_ms_per_trial']} ms CPU** ({floor['wall_ms_per_trial']} ms wall) per "
        f"trial in {floor.get('client_calls_per_trial', 5)} client calls, "
        f"**{100 * floor['cpu_vs_raw_trial']:.0f} %** of a raw Ray Tune trial's {raw_ms} ms"
        for key, label in (
            ("mlflow_floor", "a trial as a search writes it"),
            ("mlflow_floor_fewest_calls", "the same content in the fewest calls MLflow allows"),
        )
        if (floor := payload.get(key))
    ]
    if not lines:
        return []
    budget_ms = ON_VS_OFF_MAX_EXTRA * payload["variants"]["automl_nn_tracking_off"]["ms_per_trial"]
    return [
        *lines,
        f"- the tracking target leaves {budget_ms:.1f} ms per trial for everything tracking "
        f"costs; with {NUM_CPUS} cores already busy with trials, MLflow's CPU adds to the "
        "trials' time wherever it runs (a thread or a process of its own)",
        "",
    ]


def _mlflow_table(probes: dict[str, Any]) -> str:
    rows = [
        [label.removeprefix("mlflow."), p["calls"], p["calls_per_trial"], p["ms_per_trial"]]
        for label, p in probes.items()
        if label.startswith("mlflow.")
    ]
    return markdown_table(["MlflowClient method", "calls", "calls/trial", "ms/trial"], rows)


def main() -> None:
    """``python -m benchmarks.overhead [--quick] [--trials N] [--diagnose] [--rounds R]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TRIALS} trials")
    parser.add_argument("--trials", type=int, default=None, help="trials per variant")
    parser.add_argument("--diagnose", action="store_true", help="add the checkpoint variants")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, order rotated (median)")
    args = parser.parse_args()
    payload = run(args.quick, trials=args.trials, diagnose=args.diagnose, rounds=args.rounds)
    print(to_markdown(payload))


if __name__ == "__main__":
    main()
