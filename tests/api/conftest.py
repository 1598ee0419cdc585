"""Fixtures of the search tests: a fresh MLflow store and search folder per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

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
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A sqlite tracking URI and a storage folder, with the test run from tmp_path."""
    monkeypatch.chdir(tmp_path)  # MLflow's local artifacts land in ./mlruns
    return {
        "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
        "storage_path": str(tmp_path / "runs"),
        "experiment": "tests",
        "verbose": False,
    }


def runs_of(tracking_uri: str, experiment: str = "tests") -> list:
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
