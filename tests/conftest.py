"""Fixtures shared by every room's tests: a Ray session and a real MLflow tracking server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_START_TIMEOUT_S = 90


@pytest.fixture(scope="session", autouse=True)
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Generated data sets (mnist1d) cached for this session, not in the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("automl_nn_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOML_NN_CACHE_DIR", str(folder))  # before Ray starts: workers inherit it
        yield folder


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


@pytest.fixture(scope="session")
def shared_sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite store for the session, each test in an experiment of its own.

    Creating a store's tables costs seconds. Created here, once: a driver process that
    creates a fresh store while the test polls it runs MLflow's schema migrations twice at
    once, and a migration cut short leaves a temporary table that breaks the store for every
    later test.
    """
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path_factory.mktemp('shared_store')}/mlflow.db"
    MlflowClient(uri).search_experiments()
    return uri


class MlflowServer:
    """A real ``mlflow server`` on 127.0.0.1 (sqlite backend, served artifacts) in ``folder``.

    Args:
        folder: holds the database, the artifacts and the server's log.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        log_path = self.folder / "server.log"
        # Tracking needs no job runner; without it the server starts seconds sooner.
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
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
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so its workers stop with it
            )  # fmt: skip
        _wait_until_healthy(self.uri, self._process, log_path)

    def stop(self) -> None:
        """Stop the server and its workers."""
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


class ServerOutage:
    """The session's real MLflow server behind a port of its own that can go down and come back.

    A relay on 127.0.0.1 passes each connection to the server. :meth:`down` closes the port
    and cuts every open connection, so a client gets what a stopped server gives it: refused
    connections, and requests cut off midway. :meth:`up` opens the same port again. The
    server itself runs on, so an outage costs no restart (a server takes 12 s and more to
    start on the slow 2-core machine) and reaches no test that does not expect one.
    """

    def __init__(self, server_uri: str) -> None:
        self._server = urllib.parse.urlsplit(server_uri)
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def up(self) -> None:
        """Open the port: connections reach the server again."""
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the same port again
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Close the port and cut every open connection, as a server that went down."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _cut(listener)
        with self._lock:
            cut, self._open = self._open, set()
        for connection in cut:
            _cut(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # down() closed the port
                return
            try:
                server = socket.create_connection((self._server.hostname, self._server.port))
            except OSError:
                _cut(client)
                continue
            with self._lock:
                if self._listener is not listener:  # went down while this one connected
                    _cut(client)
                    _cut(server)
                    return
                self._open |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(source, target), daemon=True).start()

    def _relay(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        # One side ended (or down() cut it): end the connection on both sides.
        with self._lock:
            self._open -= {source, target}
        _cut(source)
        _cut(target)


def _cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked on it
    connection.close()


@pytest.fixture
def mlflow_server_outage(mlflow_server_uri: str) -> Iterator[ServerOutage]:
    """The session's MLflow server on a port a test may take down and bring back; up at first."""
    outage = ServerOutage(mlflow_server_uri)
    outage.up()
    try:
        yield outage
    finally:
        outage.down()


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
