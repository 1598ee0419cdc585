"""``automl-nn sync``: what a search kept while its MLflow server was down, sent later."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mlflow.tracking import MlflowClient

from automl_nn.api import plan_search, write_search_file
from automl_nn.tracking import PENDING_FILE, BufferedTracker, MlflowTracker, TrackingOutageWarning
from tests.api.conftest import TINY_SPACE
from tests.cli.conftest import run_cli
from tests.tracking.test_tracker_contract import children, history, parents

if TYPE_CHECKING:
    from tests.conftest import ServerOutage


def search_folder(storage: Path, tracking_uri: str | None) -> tuple[Path, str | None]:
    """A search folder as a search writes it before its trials run, and its parent run id."""
    experiment = f"sync-{uuid.uuid4().hex[:8]}"
    plan = plan_search(
        "wine", TINY_SPACE, searcher="random", scheduler="fifo", num_trials=2,
        time_budget_s=None, max_epochs=3, metric=None, mode=None, seed=0, max_concurrent=None,
        resources_per_trial=None, tracking_uri=tracking_uri, experiment=experiment,
        ray_address=None, storage_path=storage, registered_model_name=None,
        searcher_options=None, tracking=tracking_uri is not None,
    )  # fmt: skip
    parent_run_id = None
    if tracking_uri is not None:
        parent_run_id = MlflowTracker(tracking_uri, experiment).open_search({})
    write_search_file(plan, parent_run_id)
    return Path(plan.folder), parent_run_id


@pytest.mark.integration
def test_sync_sends_what_was_kept_once_the_server_answers_again(
    mlflow_server_outage: ServerOutage, tmp_path: Path
) -> None:
    server = mlflow_server_outage
    folder, parent_id = search_folder(tmp_path, server.uri)
    client = MlflowClient(server.uri)
    experiment = client.get_run(parent_id).info.experiment_id
    tracker = BufferedTracker(
        MlflowTracker(server.uri, parent_run_id=parent_id), folder, flush_interval_s=0
    )
    tracker.open_search({})
    tracker.trial_started("t1", {"optimizer.lr": 0.1})
    tracker.trial_metrics("t1", {"val_loss": 0.9}, step=1)
    server.down()
    with pytest.warns(TrackingOutageWarning):
        tracker.trial_metrics("t1", {"val_loss": 0.8}, step=2)
        tracker.trial_metrics("t1", {"val_loss": 0.7}, step=3)
        tracker.trial_ended("t1", "completed")
        tracker.close_search()
    kept = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}

    down = run_cli("sync", folder)
    assert down.code == 1 and down.out == ""
    assert f"MLflow at {server.uri} does not answer; 4 tracking operations stay" in down.err
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == kept

    server.up()
    up = run_cli("sync", folder)
    assert up.code == 0, up.err
    assert f"Sent 4 tracking operations to MLflow at {server.uri}: 1 close_search" in up.out
    assert not (folder / PENDING_FILE).exists()
    runs = client.search_runs([experiment])
    assert [parent.info.status for parent in parents(runs)] == ["FINISHED"]
    child = children(runs)["t1"]
    assert (child.info.status, child.data.tags["automl_nn.status"]) == ("FINISHED", "completed")
    assert history(client, child.info.run_id, "val_loss") == [(1, 0.9), (2, 0.8), (3, 0.7)]

    again = run_cli("sync", folder)
    assert again.code == 0 and again.out.startswith("Nothing to send")


def test_sync_of_a_folder_that_is_no_search_exits_2(tmp_path: Path) -> None:
    run = run_cli("sync", tmp_path)
    assert run.code == 2
    assert run.err.count("\n") == 1 and "automl_nn_search.json" in run.err


def test_sync_of_a_search_that_was_not_tracked_exits_2(tmp_path: Path) -> None:
    folder, _ = search_folder(tmp_path, tracking_uri=None)
    run = run_cli("sync", folder)
    assert run.code == 2
    assert "the folder of a search tracked in MLflow" in run.err
