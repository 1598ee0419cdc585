"""The same search on a real Ray cluster: trials on several nodes, each tracked in MLflow.

A head and two worker nodes (``ray start`` processes, token authentication on) and a real
``mlflow server`` on 127.0.0.1. The search runs as a Ray job (``ray job submit ... --
automl-nn search ...``) when the head can serve jobs (``ray[default]``), else as a driver
joined with ``--address``; the node-loss test always runs the driver with ``--address``.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from automl_nn.tracking import FAILED_TRIAL_STATUSES, NODE_ID_TAG, STATUS_TAG, TRIAL_ID_TAG
from tests.api.conftest import parent_and_children
from tests.cluster.conftest import (
    SEARCH_TIMEOUT_S,
    SLOW_TRIALS_SPACE,
    TrackedCluster,
    job_command,
    run_logged,
    search_command,
    tail,
    trial_reports,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

REPORT_WAIT_S = 300.0


def _experiment(label: str) -> str:
    return f"cluster-{label}-{uuid.uuid4().hex[:8]}"


def _assert_every_trial_is_a_finished_child_run(
    tracking_uri: str, experiment: str, reports: dict[str, list[dict[str, Any]]]
) -> None:
    parents, children = parent_and_children(tracking_uri, experiment)
    assert len(parents) == 1, [parent.info.run_id for parent in parents]
    assert sorted(child.data.tags[TRIAL_ID_TAG] for child in children) == sorted(reports)
    statuses = {child.data.tags[TRIAL_ID_TAG]: child.data.tags[STATUS_TAG] for child in children}
    unfinished = {t: s for t, s in statuses.items() if s in (*FAILED_TRIAL_STATUSES, "running")}
    assert not unfinished, statuses
    assert {child.info.status for child in children} == {"FINISHED"}


def _assert_every_epoch_reported_once(reports: dict[str, list[dict[str, Any]]]) -> None:
    """Epochs 1, 2, ... with no gap or repeat, and a final status: nothing lost or redone."""
    for trial_id, results in reports.items():
        epochs = [result["epoch"] for result in results]
        assert epochs == list(range(1, len(epochs) + 1)), f"{trial_id}: epochs {epochs}"
        assert results[-1]["fit_status"] != "running", f"{trial_id} did not finish"


def test_a_local_storage_path_is_refused_on_a_cluster(
    tracked_cluster: TrackedCluster, tmp_path: Path
) -> None:
    """Several nodes, a local folder not marked shared: ConfigError before any trial or run."""
    cluster, experiment = tracked_cluster.cluster, _experiment("refused")
    script = (
        "import sys\n"
        "from automl_nn import search\n"
        "from automl_nn.errors import ConfigError\n"
        "try:\n"
        "    search('wine', 'quick', num_trials=1, max_epochs=1, searcher='random',\n"
        "           scheduler='fifo', ray_address=sys.argv[1], storage_path=sys.argv[2],\n"
        "           tracking_uri=sys.argv[3], experiment=sys.argv[4], verbose=False)\n"
        "except ConfigError as error:\n"
        "    print('ConfigError', error.field)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, cluster.address, str(tmp_path / "runs"),
         tracked_cluster.tracking_uri, experiment],
        env=cluster.env(), capture_output=True, text=True, timeout=SEARCH_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1:] == ["ConfigError storage_path"], done.stderr
    assert parent_and_children(tracked_cluster.tracking_uri, experiment) == ([], [])
    assert not list((tmp_path / "runs").glob("*/*/result.json"))


def test_search_spreads_trials_over_nodes_and_tracks_each_in_mlflow(
    tracked_cluster: TrackedCluster, tmp_path: Path
) -> None:
    """6 trials on two 1-CPU workers: both nodes train, and every trial is a child run."""
    cluster, experiment = tracked_cluster.cluster, _experiment("spread")
    storage = tmp_path / "runs"
    # --max-concurrent 2, one trial per worker: without it Ray Tune keeps one trial pending
    # at a time for a searcher (TUNE_MAX_PENDING_TRIALS_PG "auto"), so the second node's
    # first actor (seconds to start: runtime env, imports) loses every race to the first
    # node's reused actor. Seconds-long epochs, not wine's milliseconds, for the same reason.
    search = search_command(
        "--dataset", "mnist1d", "--space", SLOW_TRIALS_SPACE, "--trials", "6", "--epochs", "2",
        "--searcher", "random", "--scheduler", "fifo", "--max-concurrent", "2",
        "--tracking-uri", tracked_cluster.tracking_uri, "--experiment", experiment,
        "--storage", storage, "--shared-storage", "--no-retrain", "--quiet",
    )  # fmt: skip
    if cluster.dashboard_url:
        command = job_command(cluster, search)
    else:
        warnings.warn(
            "ray[default] is not installed, so the head serves no jobs: the search ran as a "
            "driver with --address instead of through ray job submit",
            stacklevel=1,
        )
        command = [*search, "--address", cluster.address]
    log = tmp_path / "search.log"

    code = run_logged(command, cluster, log)

    assert code == 0, tail(log)
    reports = trial_reports(storage)
    assert len(reports) == 6, tail(log)
    node_ids = cluster.node_ids()
    nodes = {result["node_id"] for results in reports.values() for result in results}
    assert nodes == {node_ids["worker-1"], node_ids["worker-2"]}, (nodes, node_ids)
    _assert_every_epoch_reported_once(reports)
    _assert_every_trial_is_a_finished_child_run(tracked_cluster.tracking_uri, experiment, reports)


def test_trials_of_a_lost_worker_node_are_retried_elsewhere(
    tracked_cluster: TrackedCluster, tmp_path: Path
) -> None:
    """A worker is killed mid-trial: its trial resumes from its checkpoint on another node."""
    cluster, experiment = tracked_cluster.cluster, _experiment("node-loss")
    victim = cluster.add_worker(num_cpus=1)
    victim_id = cluster.node_ids()[victim.name]
    storage = tmp_path / "runs"
    log = tmp_path / "search.log"
    # One trial more than the cluster's 3 CPUs, 3 at once: Tune starts one trial on every
    # worker together, so one runs on the victim. It is killed as soon as the driver has
    # logged that trial's first epoch to MLflow, with its other epochs still to run.
    command = search_command(
        "--dataset", "mnist1d", "--space", SLOW_TRIALS_SPACE, "--trials", "4", "--epochs", "6",
        "--searcher", "random", "--scheduler", "fifo", "--max-concurrent", "3",
        "--max-failures", "3",
        "--address", cluster.address,
        "--tracking-uri", tracked_cluster.tracking_uri, "--experiment", experiment,
        "--storage", storage, "--shared-storage", "--no-retrain", "--quiet",
    )  # fmt: skip
    with log.open("w") as output:
        driver = subprocess.Popen(
            command, env=cluster.env(), cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        running = _wait_for_a_trial_on(
            victim_id, tracked_cluster.tracking_uri, experiment, driver, log
        )
        cluster.crash(victim)
        code = driver.wait(timeout=SEARCH_TIMEOUT_S)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()

    assert code == 0, tail(log)
    reports = trial_reports(storage)
    assert len(reports) == 4, tail(log)
    nodes_of_killed_trial = [result["node_id"] for result in reports[running]]
    assert nodes_of_killed_trial[0] == victim_id and nodes_of_killed_trial[-1] != victim_id
    moved = {
        trial_id: [result["node_id"] for result in results]
        for trial_id, results in reports.items()
        if any(result["node_id"] == victim_id for result in results)
    }
    assert moved, "no trial ran on the victim node"
    for trial_id, nodes in moved.items():
        assert nodes[-1] != victim_id, f"{trial_id} did not go on elsewhere: {nodes}"
    _assert_every_epoch_reported_once(reports)
    _assert_every_trial_is_a_finished_child_run(tracked_cluster.tracking_uri, experiment, reports)


def _wait_for_a_trial_on(
    node_id: str, tracking_uri: str, experiment: str, driver: subprocess.Popen[bytes], log: Path
) -> str:
    """Block until a trial runs on ``node_id`` with an epoch logged and more to come; its id.

    The driver tags each child run with its node at the trial's first result (on a cluster),
    so the MLflow server knows within a moment, unlike the storage folder's result files.
    """
    deadline = time.monotonic() + REPORT_WAIT_S
    while time.monotonic() < deadline:
        if driver.poll() is not None:
            pytest.fail(f"the search ended before a trial ran on the victim:\n{tail(log)}")
        for child in _children_or_none(tracking_uri, experiment):
            tags = child.data.tags
            if tags.get(NODE_ID_TAG) == node_id and tags.get(STATUS_TAG) == "running":
                return tags[TRIAL_ID_TAG]
        time.sleep(0.2)
    pytest.fail(f"no trial ran on the victim in {REPORT_WAIT_S:.0f} s:\n{tail(log)}")


def _children_or_none(tracking_uri: str, experiment: str) -> list[Any]:
    try:
        return parent_and_children(tracking_uri, experiment)[1]
    except Exception:  # the experiment does not exist yet
        return []
