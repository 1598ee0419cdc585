"""A real multi-node Ray cluster on this machine, and how the cluster tests talk to it.

The cluster (a head with no CPUs for trials, as on a real cluster where it runs the driver,
and two 1-CPU worker nodes; token authentication on) runs in processes of its own, with its
own ports and temp dir: it never meets the in-process Ray of other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cluster.local_cluster import LocalCluster

REPOSITORY = Path(__file__).resolve().parents[2]
# A fixed CNN whose epochs take seconds on one core (see the file).
SLOW_TRIALS_SPACE = Path(__file__).resolve().parent / "slow_trials.yaml"
SEARCH_TIMEOUT_S = 420


@dataclass(frozen=True)
class TrackedCluster:
    """The cluster under test and the MLflow server its searches write to."""

    cluster: LocalCluster
    tracking_uri: str


@pytest.fixture(scope="module")
def tracked_cluster(request: pytest.FixtureRequest) -> Iterator[TrackedCluster]:
    """A 0-CPU head and two 1-CPU workers (dashboard when ``ray[default]`` is here), and a
    real ``mlflow server`` on 127.0.0.1 (the session's ``mlflow_server_uri``).

    The nodes start while the server starts: both take tens of seconds.
    """
    cluster = LocalCluster()
    try:
        with ThreadPoolExecutor(max_workers=1) as starter:
            started = starter.submit(_start_nodes, cluster)
            tracking_uri = request.getfixturevalue("mlflow_server_uri")
            started.result()
        yield TrackedCluster(cluster, tracking_uri)
    finally:
        cluster.remove()


def _start_nodes(cluster: LocalCluster) -> None:
    cluster.start_head(num_cpus=0)
    cluster.add_worker(num_cpus=1)
    cluster.add_worker(num_cpus=1)


def search_command(*args: str | Path) -> list[str]:
    """``automl-nn search ARGS`` as the installed console script (next to this Python)."""
    return [str(Path(sys.executable).parent / "automl-nn"), "search", *map(str, args)]


def job_command(cluster: LocalCluster, entrypoint: Sequence[str]) -> list[str]:
    """``ray job submit`` of ``entrypoint`` to the cluster, shipping this repository."""
    ray = str(Path(sys.executable).parent / "ray")
    return [
        ray, "job", "submit",
        "--address", cluster.dashboard_url,
        "--working-dir", str(REPOSITORY),
        "--", *entrypoint,
    ]  # fmt: skip


def trial_reports(storage: Path) -> dict[str, list[dict[str, Any]]]:
    """Trial id -> every result it reported, in order, from the search folder's result.json.

    A trial retried after a failure keeps its folder, so its reports from every attempt
    (and every node) are there.
    """
    reports: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(storage.glob("*/*/result.json")):
        # Only whole lines: the file may be read while a line is being written.
        for line in path.read_text().split("\n")[:-1]:
            if line.strip():
                result = json.loads(line)
                reports.setdefault(result["trial_id"], []).append(result)
    return reports


def run_logged(command: list[str], cluster: LocalCluster, log: Path) -> int:
    """Run a command against the cluster with its output in ``log``; the exit code."""
    with log.open("w") as output:
        return subprocess.run(
            command,
            env=cluster.env(),
            cwd=log.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=SEARCH_TIMEOUT_S,
            check=False,
        ).returncode


def tail(path: Path, characters: int = 6000) -> str:
    """The end of a log, for an assertion message."""
    return path.read_text(errors="replace")[-characters:] if path.exists() else ""
