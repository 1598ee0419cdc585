"""resume(): a search whose driver was SIGKILLed goes on without losing or repeating anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

import automl_nn
from tests.api.conftest import parent_and_children

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ray_session")]

NUM_TRIALS = 8
EPOCHS = 5

DRIVER = textwrap.dedent(
    """
    import sys
    import automl_nn

    space = {
        "model": {"family": "mlp", "depth": 1, "width": {"choice": [8, 16, 32]}},
        "optimizer": {"name": "sgd", "lr": {"loguniform": [1e-3, 0.1]}},
        "training": {"batch_size": 2},
    }
    uri, experiment, storage = sys.argv[1:4]
    NUM_TRIALS, EPOCHS, searcher = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    cv_folds = None if sys.argv[7] == "none" else int(sys.argv[7])
    options = {"batch_size": 2} if searcher == "rl" else None
    automl_nn.search(
        "wine", space, searcher=searcher, scheduler="fifo", num_trials=NUM_TRIALS, max_epochs=EPOCHS,
        max_concurrent=1, tracking_uri=uri, experiment=experiment, storage_path=storage,
        searcher_options=options, verbose=False, cv_folds=cv_folds,
    )
    """
)


def completed_children(uri: str, experiment: str) -> int:
    try:
        _, children = parent_and_children(uri, experiment)
    except Exception:  # the store is being created by the driver
        return 0
    return sum(c.data.tags.get("automl_nn.status") == "completed" for c in children)


def start_driver(
    uri: str, experiment: str, storage: Path, tmp: Path, searcher: str, cv_folds: str
) -> Any:
    """A search in a process of its own, once two of its trials have completed.

    ``cv_folds``: a number (cross-validated trials: their folds' checkpoints are restored)
    or ``none``.
    """
    script = tmp / "driver.py"
    script.write_text(DRIVER)
    log = (tmp / "driver.log").open("w")
    driver = subprocess.Popen(
        [sys.executable, str(script), uri, experiment, str(storage), str(NUM_TRIALS), str(EPOCHS),
         searcher, cv_folds],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while completed_children(uri, experiment) < 2:
        assert driver.poll() is None, (tmp / "driver.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the driver finished no trial in time"
        time.sleep(0.5)
    return driver


def ray_state_is_whole(storage: Path) -> bool:
    """Whether the newest Ray Tune experiment state under ``storage`` parses."""
    states = sorted(storage.glob("*/experiment_state-*.json"), key=lambda path: path.name)
    try:
        return bool(states) and isinstance(json.loads(states[-1].read_text()), dict)
    except json.JSONDecodeError:  # Ray is rewriting it right now
        return False


def kill_driver_after_two_trials(uri: str, experiment: str, storage: Path, tmp: Path) -> None:
    driver = start_driver(uri, experiment, storage, tmp, "optuna", "2")
    # A kill while Ray rewrites its state leaves the file cut short, which resume refuses
    # (tests/cli/test_resume_command.py); this test resumes from the state Ray last wrote.
    deadline = time.monotonic() + 60
    while not ray_state_is_whole(storage):
        assert time.monotonic() < deadline, "Ray wrote no whole experiment state in time"
        time.sleep(0.01)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and its local Ray, without warning
    driver.wait()
    assert completed_children(uri, experiment) < NUM_TRIALS, "the search ended before the kill"


# The two tests that kill a driver start a second Ray in the driver's process: about 40 s each
# on 2 cores, so they run in the slow tier (CI runs it); tests/cli/test_resume_command.py
# keeps resume in the default suite.
@pytest.mark.slow
def test_resume_after_sigkill_keeps_trials_and_mlflow_whole(store, tmp_path) -> None:
    uri, experiment = store["tracking_uri"], store["experiment"]
    storage = tmp_path / "runs"
    kill_driver_after_two_trials(uri, experiment, storage, tmp_path)
    (folder,) = [p for p in storage.iterdir() if p.is_dir()]
    record = json.loads((folder / "automl_nn_search.json").read_text())
    finished_before = {
        c.data.tags["automl_nn.trial_id"]
        for c in parent_and_children(uri, experiment)[1]
        if c.data.tags.get("automl_nn.status") == "completed"
    }

    result = automl_nn.resume(folder, verbose=False)

    assert result.mlflow_parent_run_id == record["mlflow_parent_run_id"]
    assert len(result.leaderboard) == NUM_TRIALS
    assert set(result.leaderboard.status) == {"completed"}
    assert finished_before <= set(result.leaderboard.trial_id)
    parents, all_children = parent_and_children(uri, experiment)
    assert len(parents) == 1
    # A trial whose child run the dead driver created before Ray's next snapshot is "lost".
    lost = [c for c in all_children if c.data.tags["automl_nn.status"] == "lost"]
    assert all(c.info.status == "KILLED" for c in lost)
    children = [c for c in all_children if c not in lost]
    trial_ids = [c.data.tags["automl_nn.trial_id"] for c in children]
    assert sorted(trial_ids) == sorted(result.leaderboard.trial_id)  # one child run per trial
    client = MlflowClient(uri)
    for child in children:
        steps = [p.step for p in client.get_metric_history(child.info.run_id, "val_accuracy")]
        assert steps == list(range(1, EPOCHS + 1)), child.data.tags["automl_nn.trial_id"]
    assert client.get_run(result.mlflow_parent_run_id).info.status == "FINISHED"


def test_resume_refuses_a_folder_that_is_not_a_search(tmp_path) -> None:
    with pytest.raises(automl_nn.errors.ConfigError, match="automl_nn_search.json"):
        automl_nn.resume(tmp_path)


@pytest.mark.slow  # a second Ray in the driver's process, as above
def test_ctrl_c_closes_the_search_as_killed_and_resume_continues_its_rl_controller(
    store, tmp_path
) -> None:
    # Ray Tune takes a first Ctrl-C as "save and stop" and returns from fit as if done; the
    # search must not then be summarized, registered and closed as FINISHED.
    uri, experiment = store["tracking_uri"], store["experiment"]
    storage = tmp_path / "runs"
    driver = start_driver(uri, experiment, storage, tmp_path, "rl", "none")
    os.kill(driver.pid, signal.SIGINT)
    assert driver.wait(timeout=120) != 0
    assert "KeyboardInterrupt" in (tmp_path / "driver.log").read_text()
    (parent,), children = parent_and_children(uri, experiment)
    assert parent.info.status == "KILLED"
    assert completed_children(uri, experiment) < NUM_TRIALS, "the search ended before Ctrl-C"
    assert all(child.info.status != "RUNNING" for child in children)
    assert "automl_nn.best_trial_id" not in parent.data.tags

    (folder,) = [p for p in storage.iterdir() if p.is_dir()]
    result = automl_nn.resume(folder, verbose=False)

    assert result.mlflow_parent_run_id == parent.info.run_id
    assert set(result.leaderboard.status) == {"completed"} and len(result.leaderboard) == NUM_TRIALS
    client = MlflowClient(uri)
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    # The restored controller's story goes on in the same parent run: one reward per trial.
    rewards = client.get_metric_history(parent.info.run_id, "controller_reward")
    assert sorted(point.step for point in rewards) == list(range(1, NUM_TRIALS + 1))
