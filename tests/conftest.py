"""Fixtures shared by every room's tests: a Ray session and a real MLflow tracking server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_START_TIMEOUT_S = 90


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray instance with 2 CPUs for the whole test session.

    Ray pickles a function defined in a test module by reference, so its workers get the
    folders pytest put on ``sys.path`` to import test modules from.
    """
    import ray

    repository = str(Path(__file__).resolve().parent.parent)
    test_paths = [path for path in sys.path if path.startswith(repository)]
    if ray.is_initialized():  # a search of an earlier test without this fixture started one
        ray.shutdown()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(test_paths)}},
    )
    yield
    ray.shutdown()


class MlflowServer:
    """A real ``mlflow server`` on 127.0.0.1 (sqlite backend, served artifacts) in ``folder``.

    It can be stopped and started again: the port and the store stay, so runs survive.

    Args:
        folder: holds the database, the artifacts and the server's log.
        env: extra environment variables of the server process.
    """

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self._env = {**os.environ, **(env or {})}
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        log_path = self.folder / "server.log"
        with log_path.open("a") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable, "-m", "mlflow", "server",
                    "--host", "127.0.0.1",
                    "--port", str(self.port),
                    "--workers", "1",
                    "--backend-store-uri", f"sqlite:///{self.folder}/mlflow.db",
                    "--artifacts-destination", str(self.folder / "artifacts"),
                ],
                cwd=self.folder,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so its workers stop with it
            )  # fmt: skip
        _wait_until_healthy(self.uri, self._process, log_path)

    def stop(self) -> None:
        """Stop the server and its workers; the port refuses connections until :meth:`start`."""
        if self._process is not None:
            _stop(self._process)
            self._process = None


@pytest.fixture(scope="session")
def mlflow_server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URI of a real ``mlflow server`` on 127.0.0.1 (sqlite backend, served artifacts)."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow_server"))
    try:
        server.start()
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _session_restartable_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MlflowServer]:
    # Tracking needs no job runner, and skipping it makes each restart seconds shorter.
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = MlflowServer(tmp_path_factory.mktemp("mlflow_restartable"), env)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def restartable_mlflow_server(_session_restartable_server: MlflowServer) -> MlflowServer:
    """A real MLflow server that a test may stop and start again; running when a test starts.

    Kept apart from ``mlflow_server_uri`` so outages never reach tests that do not expect one.
    """
    if not _session_restartable_server.running:
        _session_restartable_server.start()
    return _session_restartable_server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(uri: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(
        f"mlflow server not healthy in {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()}"
    )


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # The server's own workers belong to its process group and may outlive it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
