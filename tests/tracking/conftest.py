"""Tracking stores for the tracker tests: a sqlite file and a real MLflow server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from automl_nn.tracking import MlflowTracker


@pytest.fixture(scope="session")
def sqlite_tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow_sqlite')}/mlflow.db"


@pytest.fixture(params=["sqlite", pytest.param("server", marks=pytest.mark.integration)])
def tracking_uri(request: pytest.FixtureRequest) -> str:
    """Every tracker test runs against both stores."""
    fixture = {"sqlite": "sqlite_tracking_uri", "server": "mlflow_server_uri"}[request.param]
    return request.getfixturevalue(fixture)


@pytest.fixture
def experiment() -> str:
    """A fresh experiment per test, so tests share a store but not their runs."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_tracker(
    tracking_uri: str, experiment: str, tmp_path: Path
) -> Callable[..., MlflowTracker]:
    # A local store puts artifacts under ./mlruns unless told; keep them in the test's folder.
    artifacts = None if tracking_uri.startswith("http") else str(tmp_path / "artifacts")

    def make(**kwargs: object) -> MlflowTracker:
        return MlflowTracker(tracking_uri, experiment, artifact_location=artifacts, **kwargs)

    return make


@pytest.fixture
def client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri)


@pytest.fixture
def runs_of(client: MlflowClient, experiment: str) -> Callable[[], list[Run]]:
    """Every run of the test's experiment, read back from the store."""

    def runs() -> list[Run]:
        found = client.get_experiment_by_name(experiment)
        return list(client.search_runs([found.experiment_id])) if found else []

    return runs
