"""Where runs go by default, and the fail-fast check of a tracking URI."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from automl_nn.errors import TrackingError
from automl_nn.tracking import check_tracking_uri, resolve_tracking_uri


def test_default_is_mlflows_local_database_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri(None) == f"sqlite:///{tmp_path}/mlflow.db"
    assert not list(tmp_path.iterdir())


def test_environment_and_explicit_uris_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert resolve_tracking_uri(None) == "http://tracking.example:5000"
    assert resolve_tracking_uri("sqlite:///runs.db") == "sqlite:///runs.db"


def test_a_server_that_does_not_answer_is_rejected() -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TrackingError, match="tracking_uri") as caught:
        check_tracking_uri(uri)
    assert repr(uri) in str(caught.value)
    assert "http://host:port" in str(caught.value)


def test_a_server_that_is_not_mlflow_is_rejected(not_mlflow_uri: str) -> None:
    with pytest.raises(TrackingError, match="not answer as an MLflow server"):
        check_tracking_uri(not_mlflow_uri)


@pytest.mark.integration
def test_a_running_server_passes_and_is_not_written(mlflow_server_uri: str) -> None:
    client = MlflowClient(mlflow_server_uri)
    before = [e.experiment_id for e in client.search_experiments()]
    check_tracking_uri(mlflow_server_uri)
    assert [e.experiment_id for e in client.search_experiments()] == before


def test_a_writable_local_store_passes_and_is_not_written(tmp_path: Path) -> None:
    check_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    check_tracking_uri(f"file://{tmp_path}/new/mlruns")
    check_tracking_uri(str(tmp_path / "mlruns"))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("sqlite:///{tmp}/missing/mlflow.db", "not an existing folder"),
        ("sqlite:///{tmp}/a_file/mlflow.db", "not an existing folder"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("file://{tmp}/a_file/mlruns", "not a writable folder"),
        ("ftp://example.org/runs", "scheme 'ftp'"),
    ],
)
def test_an_unusable_store_is_rejected_and_not_written(
    tmp_path: Path, template: str, problem: str
) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    uri = template.format(tmp=tmp_path)
    with pytest.raises(TrackingError, match=problem) as caught:
        check_tracking_uri(uri)
    assert f"tracking_uri = {uri!r}" in str(caught.value)
    assert [path.name for path in tmp_path.iterdir()] == ["a_file"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_mlflow_uri() -> Iterator[str]:
    """A web server that answers 404 to everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
