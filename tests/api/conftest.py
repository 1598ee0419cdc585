"""Fixtures of the search tests: a fresh MLflow experiment and search folder per test."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from mlflow.tracking import MlflowClient

if TYPE_CHECKING:
    from automl_nn.api import SearchPlan

# A tiny space: fast trials whose learning rates differ enough for schedulers to act on.
TINY_SPACE = {
    "model": {"family": "mlp", "depth": 1, "width": {"choice": [8, 16]}},
    "optimizer": {
        "choice": [
            {"name": "sgd", "lr": {"loguniform": [1e-4, 0.5]}, "momentum": {"uniform": [0.0, 0.9]}},
            {"name": "adam", "lr": {"loguniform": [1e-4, 0.05]}},
        ]
    },
    "training": {"batch_size": 32},
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_sqlite_uri: str) -> dict:
    """Search settings writing to a fresh experiment and folder, run from tmp_path."""
    monkeypatch.chdir(tmp_path)  # MLflow's local artifacts land in ./mlruns
    return {
        "tracking_uri": shared_sqlite_uri,
        "storage_path": str(tmp_path / "runs"),
        "experiment": f"tests-{uuid.uuid4().hex[:10]}",
        "verbose": False,
    }


def runs_of(tracking_uri: str, experiment: str = "tests") -> list:
    """Runs of an experiment; a sqlite store that was never created has none."""
    if (
        tracking_uri.startswith("sqlite:///")
        and not Path(tracking_uri[len("sqlite:///") :]).exists()
    ):
        return []
    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return client.search_runs([found.experiment_id], max_results=1000)


def parent_and_children(tracking_uri: str, experiment: str = "tests") -> tuple:
    runs = runs_of(tracking_uri, experiment)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def plan_for(store, data: str = "wine", space: Any = TINY_SPACE, **settings: Any) -> SearchPlan:
    """The validated plan of a search with ``settings``; starts nothing (no Ray, no MLflow run)."""
    from automl_nn.api import plan_search

    defaults = dict(
        searcher="random", scheduler="fifo", num_trials=1, time_budget_s=None, max_epochs=1,
        metric=None, mode=None, seed=0, max_concurrent=None, resources_per_trial=None,
        tracking_uri=store["tracking_uri"], experiment="tests", ray_address=None,
        storage_path=store["storage_path"], registered_model_name=None, searcher_options=None,
    )  # fmt: skip
    return plan_search(data, space, **{**defaults, **settings})
