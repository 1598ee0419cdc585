"""Trials per hour of one fixed small search on a Ray cluster of 1 and of 2 worker nodes.

The cluster runs on this machine (``cluster.local_cluster``): a head with no CPUs for trials
(it holds the GCS; the driver connects to it) and 1-CPU worker nodes, each its own raylet,
object store and worker processes, token authentication on. The same search runs once per
cluster size, as a user runs it: ``automl-nn search --address HEAD --shared-storage ...`` in a
process of its own, tracked to a sqlite MLflow store made before the clock starts.

The search: ``mnist1d``, one fixed CNN whose learning rate is searched (so every trial costs
the same, seconds per epoch on one core), searcher ``random`` with a fixed seed, scheduler
``fifo``, 1 CPU per trial. Three runs: 1 worker; 2 workers with the defaults; 2 workers
with ``--max-concurrent 2``. The last two show what Ray Tune's pending-trial rule costs: for
a searcher it keeps one trial pending at a time unless ``max_concurrent`` is set
(``TUNE_MAX_PENDING_TRIALS_PG`` "auto"), so a second node's first actor, which takes seconds
to start, competes with the first node's reused actor for every trial shorter than that
start. Figures per run:

- ``trials_per_hour``: trials over the driver's whole run (Ray connect, MLflow, retrain off).
- ``trials_per_hour_in_search``: trials over the span from the first trial's start to the
  last trial's end (Ray Tune's result timestamps, 1 s resolution): fixed costs left out.
- ``busy_fraction``: trial time (``time_total_s`` summed) over span x workers: how much of
  the workers' time went to training rather than to starting actors and bookkeeping.
- ``trials_per_node``: where the trials started.

On a machine with 2 cores the 2-worker cluster has the whole machine; the speedup is below
2 by the fixed costs, by the head and the driver sharing the same cores, and by whatever
else the machine runs (the load average is recorded with each run).

Run: ``python -m benchmarks scaling`` (``--quick``: fewer, shorter trials).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks._report import machine, machine_lines, markdown_table, write_results
from cluster.local_cluster import LocalCluster

NAME = "scaling"
DATASET = "mnist1d"
# Equal-cost trials: only the learning rate varies.
SPACE: dict[str, Any] = {
    "model": {
        "family": "cnn",
        "depth": 3,
        "channels": 32,
        "kernel_size": 5,
        "stride": 1,
        "dilation_growth": 1,
        "pooling": "max",
        "global_pool": "avg",
        "activation": "relu",
    },
    "optimizer": {"name": "adam", "lr": {"loguniform": [1.0e-3, 1.0e-2]}},
    "loss": {"name": "cross_entropy"},
    "training": {"batch_size": 64},
}
SEED = 0
EXPERIMENT = "automl_nn_scaling"
# (worker nodes, --max-concurrent or None for the default), in the order they run.
RUNS: tuple[tuple[int, int | None], ...] = ((1, None), (2, None), (2, 2))
SEARCH_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Settings:
    """The fixed search: how many trials, and epochs per trial."""

    trials: int
    epochs: int

    @classmethod
    def for_run(cls, quick: bool) -> Settings:
        return cls(trials=8, epochs=2) if quick else cls(trials=24, epochs=4)


@dataclass(frozen=True)
class Measurement:
    """One search on a cluster of ``workers`` 1-CPU worker nodes."""

    workers: int
    max_concurrent: int | None
    trials: int
    wall_s: float
    span_s: float
    trial_seconds: float
    trials_per_node: dict[str, int]
    load_average_before: list[float]

    @property
    def label(self) -> str:
        """``1 worker``, ``2 workers``, ``2 workers, max_concurrent 2``."""
        plural = "s" if self.workers > 1 else ""
        limit = "" if self.max_concurrent is None else f", max_concurrent {self.max_concurrent}"
        return f"{self.workers} worker{plural}{limit}"

    @property
    def trials_per_hour(self) -> float:
        return 3600 * self.trials / self.wall_s

    @property
    def trials_per_hour_in_search(self) -> float:
        return 3600 * self.trials / self.span_s

    @property
    def busy_fraction(self) -> float:
        return self.trial_seconds / (self.span_s * self.workers)

    def summary(self) -> dict[str, Any]:
        """The measurement and its derived figures, for the JSON file."""
        return {
            **asdict(self),
            "trials_per_hour": self.trials_per_hour,
            "trials_per_hour_in_search": self.trials_per_hour_in_search,
            "busy_fraction": self.busy_fraction,
        }


def run(quick: bool = False) -> dict[str, Any]:
    """Run the search on 1 and then 2 worker nodes, write the result files, return them."""
    settings = Settings.for_run(quick)
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="automl_nn_scaling_") as workdir:
        cluster = LocalCluster()
        try:
            cluster.start_head(num_cpus=0)
            for index, (workers, max_concurrent) in enumerate(RUNS):
                while len(cluster.workers) < workers:
                    cluster.add_worker(num_cpus=1)
                folder = Path(workdir) / f"run{index}"
                measurements.append(measure(cluster, settings, folder, max_concurrent))
        finally:
            cluster.remove()
    payload = _payload(measurements, settings, quick=quick)
    write_results(NAME, payload, to_markdown(payload))
    return payload


def measure(
    cluster: LocalCluster, settings: Settings, folder: Path, max_concurrent: int | None = None
) -> Measurement:
    """Run the search once on the cluster as it is now; time it and read its trials."""
    folder.mkdir(parents=True)
    tracking_uri = _new_tracking_store(folder)
    storage = folder / "runs"
    space_file = folder / "space.yaml"
    space_file.write_text(yaml.safe_dump(SPACE, sort_keys=False))
    command = [
        str(Path(sys.executable).parent / "automl-nn"), "search",
        "--dataset", DATASET, "--space", str(space_file), "--seed", str(SEED),
        "--trials", str(settings.trials), "--epochs", str(settings.epochs),
        "--searcher", "random", "--scheduler", "fifo",
        "--address", cluster.address, "--storage", str(storage), "--shared-storage",
        "--tracking-uri", tracking_uri, "--experiment", EXPERIMENT,
        "--no-retrain", "--quiet",
    ]  # fmt: skip
    if max_concurrent is not None:
        command += ["--max-concurrent", str(max_concurrent)]
    load = [round(value, 2) for value in os.getloadavg()]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env=cluster.env(),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=SEARCH_TIMEOUT_S,
        check=False,
    )
    wall_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the search failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return _measurement(
        storage, len(cluster.workers), max_concurrent, wall_s, load, cluster.node_ids()
    )


def _new_tracking_store(folder: Path) -> str:
    """A sqlite store with the experiment made, so that its one-off setup is not timed."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    MlflowClient(uri).create_experiment(EXPERIMENT, artifact_location=str(folder / "artifacts"))
    return uri


def _measurement(
    storage: Path,
    workers: int,
    max_concurrent: int | None,
    wall_s: float,
    load: list[float],
    node_ids: dict[str, str],
) -> Measurement:
    names = {node_id: name for name, node_id in node_ids.items()}
    starts, ends, seconds, nodes = [], [], 0.0, Counter()
    for path in storage.glob("*/*/result.json"):
        results = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if not results:
            continue
        starts.append(results[0]["timestamp"] - results[0]["time_this_iter_s"])
        ends.append(results[-1]["timestamp"])
        seconds += results[-1]["time_total_s"]
        nodes.update(names.get(result["node_id"], result["node_id"]) for result in results[:1])
    return Measurement(
        workers=workers,
        max_concurrent=max_concurrent,
        trials=len(starts),
        wall_s=wall_s,
        span_s=max(max(ends) - min(starts), 1.0),
        trial_seconds=seconds,
        trials_per_node=dict(sorted(nodes.items())),
        load_average_before=load,
    )


def _payload(measurements: list[Measurement], settings: Settings, *, quick: bool) -> dict:
    one, default_two, limited_two = measurements
    return {
        "benchmark": NAME,
        "quick": quick,
        "dataset": DATASET,
        "space": SPACE,
        "searcher": "random",
        "scheduler": "fifo",
        "seed": SEED,
        "trials": settings.trials,
        "epochs": settings.epochs,
        "measurements": {m.label: m.summary() for m in measurements},
        "speedup_2_vs_1": {
            "defaults": default_two.trials_per_hour / one.trials_per_hour,
            "max_concurrent_2": limited_two.trials_per_hour / one.trials_per_hour,
        },
        "speedup_2_vs_1_in_search": {
            "defaults": default_two.trials_per_hour_in_search / one.trials_per_hour_in_search,
            "max_concurrent_2": limited_two.trials_per_hour_in_search
            / one.trials_per_hour_in_search,
        },
        "machine": machine(),
    }


def to_markdown(payload: dict[str, Any]) -> str:
    """Trials per hour per cluster size, the speedups, and where the trials ran."""
    rows = [
        [
            label,
            m["trials"],
            m["wall_s"],
            m["trials_per_hour"],
            m["span_s"],
            m["trials_per_hour_in_search"],
            m["busy_fraction"],
            ", ".join(f"{node}: {count}" for node, count in m["trials_per_node"].items()),
            " ".join(str(value) for value in m["load_average_before"]),
        ]
        for label, m in payload["measurements"].items()
    ]
    whole, in_search = payload["speedup_2_vs_1"], payload["speedup_2_vs_1_in_search"]
    lines = [
        "# Scaling: trials per hour on 1 and 2 worker nodes",
        "",
        f"One search, {payload['trials']} trials of {payload['epochs']} epochs on "
        f"{payload['dataset']} (one CNN, {_model_text(payload['space'])}, learning rate "
        f"searched; searcher {payload['searcher']} seed {payload['seed']}, scheduler "
        f"{payload['scheduler']}, 1 CPU per trial), run by "
        "`automl-nn search --address ... --shared-storage` against a Ray cluster on this "
        "machine: a 0-CPU head and 1-CPU worker nodes (separate raylets), token auth on."
        + (" Quick run." if payload["quick"] else ""),
        "",
        markdown_table(
            [
                "cluster",
                "trials",
                "driver s",
                "trials/h",
                "search span s",
                "trials/h in search",
                "busy",
                "trials started per node",
                "load avg before",
            ],
            rows,
        ),
        "",
        "Speedup of 2 workers over 1 (trials per hour):",
        "",
        markdown_table(
            ["2 workers", "whole run", "in search"],
            [
                ["defaults", whole["defaults"], in_search["defaults"]],
                ["max_concurrent 2", whole["max_concurrent_2"], in_search["max_concurrent_2"]],
            ],
        ),
        "",
        "With the defaults Ray Tune keeps one trial pending at a time for a searcher, so the "
        "second worker gets a trial only when its first actor starts before the first worker's "
        "trial ends; `max_concurrent` (or `TUNE_MAX_PENDING_TRIALS_PG`) set to the number of "
        "slots lets every slot start its first trial at once.",
        "",
        "`busy`: summed trial time over (search span x workers). `driver s` adds the fixed "
        "costs, which do not shrink with more nodes: the driver's start (imports, Ray connect, "
        "the MLflow parent run), the first actor on each node, and the end (actors stopped, "
        "the best model logged to MLflow). On this 2-core machine the head, the driver and "
        "other work share the cores with the trials.",
        "",
        "Machine:",
        "",
        *machine_lines(payload["machine"]),
    ]
    return "\n".join(lines)


def _model_text(space: dict[str, Any]) -> str:
    model = space["model"]
    return f"depth {model['depth']}, {model['channels']} channels, kernel {model['kernel_size']}"


def main() -> None:
    """``python -m benchmarks.scaling [--quick]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter trials")
    args = parser.parse_args()
    print(to_markdown(run(args.quick)))


if __name__ == "__main__":
    main()
