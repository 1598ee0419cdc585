"""A Ray cluster of one head and several worker nodes, all on this machine.

Every node is a real ``ray start --block`` (its own raylet, object store, agents and worker
processes), with its own ports and temp dir, so a search sees what it sees on a cluster of
machines: several nodes, the data pulled from the head's object store, trials placed by their
resources, and nodes that can be lost. Token authentication is on, as on a real cluster: the
token lives in a file of the cluster's folder and :meth:`LocalCluster.env` hands clients the
two variables that find it (``RAY_AUTH_MODE=token``, ``RAY_AUTH_TOKEN_PATH``).

Nothing is shared with another Ray on the machine: every port is chosen free, and the temp
dir (which also holds the ``ray_current_cluster`` file that ``ray.init()`` and
``address="auto"`` read) is the cluster's own. The cluster is stopped by signalling its own
processes; ``ray stop`` is never used, since it stops every Ray on the machine.

Used by ``tests/cluster`` and ``benchmarks/scaling.py``; to try the cluster path by hand::

    python -m cluster.local_cluster --workers 2      # prints the address and the env; Ctrl-C

Example:
    >>> with LocalCluster() as cluster:  # doctest: +SKIP
    ...     cluster.start_head(num_cpus=1)
    ...     cluster.add_worker(num_cpus=1)
    ...     subprocess.run(["automl-nn", "search", "--address", cluster.address, ...],
    ...                    env=cluster.env(), check=True)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

NODE_START_TIMEOUT_S = 180.0
STOP_GRACE_S = 10.0
OBJECT_STORE_BYTES = 256 * 1024**2
_STARTED_LINE = "Ray runtime started"
# Ports every node binds; Ray's defaults (8265, 52365, 10001, ...) would collide between the
# nodes of this machine and with any other Ray running on it.
_NODE_PORT_FLAGS = (
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--metrics-export-port",
    "--runtime-env-agent-port",
)


class ClusterError(RuntimeError):
    """A node did not start, or the cluster could not be asked about its nodes."""


@dataclass
class RayNode:
    """One node: the ``ray start --block`` process (a process group leader) and its files."""

    name: str
    process: subprocess.Popen[bytes]
    temp_dir: Path
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def processes(self) -> list[int]:
        """The pids of this node: ``ray start``, its daemons and every worker they spawned.

        Ray puts each worker in a process group of its own, so the group alone misses them;
        the process tree does not.
        """
        return [self.process.pid, *_descendants(self.process.pid)]


def dashboard_available() -> bool:
    """Whether Ray's dashboard can start here: it needs ``ray[default]``.

    The dashboard serves job submission (``ray job submit``) and the state API.
    """
    try:
        importlib.import_module("ray.dashboard.optional_deps")
    except ImportError:
        return False
    return True


class LocalCluster:
    """A head and worker nodes on this machine, with token authentication on.

    Args:
        root: the cluster's folder (token, temp dirs, logs); a new short folder under /tmp
            by default (Ray's unix socket paths must stay under 108 characters).
        dashboard: start the dashboard on the head (needed by ``ray job submit``); None
            starts it when ``ray[default]`` is installed.
        object_store_bytes: each node's object store (Ray's default is 30% of the memory).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        dashboard: bool | None = None,
        object_store_bytes: int = OBJECT_STORE_BYTES,
    ):
        self.root = Path(root or tempfile.mkdtemp(prefix="rayc-", dir="/tmp"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.dashboard = dashboard_available() if dashboard is None else dashboard
        self.object_store_bytes = object_store_bytes
        self.token_path = self.root / "auth_token"
        self.token_path.write_text(secrets.token_hex(32))
        self.token_path.chmod(0o600)
        self.head: RayNode | None = None
        self.workers: list[RayNode] = []
        self.address = ""  # the head's GCS address, host:port
        self.dashboard_url = ""

    # -- starting and stopping ---------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of a process that talks to this cluster (driver, CLI, node).

        Token mode and the token file; no inherited ``RAY_ADDRESS`` or ``RAY_AUTH_TOKEN``
        that would point elsewhere; this interpreter's ``bin`` first on ``PATH`` so that
        ``ray`` and ``automl-nn`` are the ones installed next to it.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN", "RAY_API_SERVER_ADDRESS")
        }
        env.update(
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN_PATH=str(self.token_path),
            RAY_USAGE_STATS_ENABLED="0",
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        )
        return env

    def start_head(self, num_cpus: int = 1, resources: dict[str, float] | None = None) -> RayNode:
        """Start the head node (GCS, and the dashboard when enabled) and wait until it is up."""
        if self.head is not None:
            raise ClusterError("the head node is already started")
        ports = {"--port": _free_port()}
        if self.dashboard:
            ports["--dashboard-port"] = _free_port()
        flags = ["--head", "--include-dashboard", str(self.dashboard).lower()]
        if self.dashboard:
            flags += ["--dashboard-host", "127.0.0.1"]
        self.head = self._start_node("head", flags, ports, num_cpus, resources)
        self.address = (self.head.temp_dir / "ray_current_cluster").read_text().strip()
        if self.dashboard:
            self.dashboard_url = f"http://127.0.0.1:{ports['--dashboard-port']}"
        return self.head

    def add_worker(self, num_cpus: int = 1, resources: dict[str, float] | None = None) -> RayNode:
        """Start one more worker node, joined to the head, and wait until it is up."""
        if self.head is None:
            raise ClusterError("start the head node first")
        name = f"worker-{len(self.workers) + 1}"
        node = self._start_node(name, ["--address", self.address], {}, num_cpus, resources)
        self.workers.append(node)
        return node

    def crash(self, node: RayNode) -> None:
        """SIGKILL every process of a node at once: the node is lost, as a machine is."""
        for pid in node.processes():
            _signal(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.process.wait(timeout=STOP_GRACE_S)

    def stop(self) -> None:
        """Stop every node at once: SIGTERM, a grace period, then SIGKILL what is left."""
        nodes = [*self.workers, *([self.head] if self.head else [])]
        pids = [pid for node in nodes for pid in node.processes()]
        for node in nodes:
            _signal_group(node.process.pid, signal.SIGTERM)
        for pid in pids:  # Ray's workers, each in a process group of its own
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and any(_exists(pid) for pid in pids):
            time.sleep(0.2)
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        for node in nodes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.process.wait(timeout=STOP_GRACE_S)

    def remove(self) -> None:
        """Stop the cluster and delete its folder (token, temp dirs and logs)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- asking the cluster ------------------------------------------------------------

    def node_ids(self) -> dict[str, str]:
        """Node name (``head``, ``worker-1``, ...) -> Ray node id, of the nodes alive now.

        Asked through a short-lived driver (``ray.nodes()``), so it works with or without
        the dashboard and leaves this process's Ray state alone.
        """
        script = (
            "import json, ray\n"
            f"ray.init(address={self.address!r}, logging_level='ERROR', log_to_driver=False)\n"
            "print(json.dumps({n['NodeName']: n['NodeID'] for n in ray.nodes() if n['Alive']}))"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=NODE_START_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"could not list the nodes:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def dashboard_get(self, path: str) -> Any:
        """GET a dashboard endpoint (``/api/jobs/``...) with the cluster's token; JSON back."""
        if not self.dashboard_url:
            raise ClusterError("the cluster has no dashboard")
        request = urllib.request.Request(
            self.dashboard_url + path,
            headers={"Authorization": f"Bearer {self.token_path.read_text().strip()}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    # -- internals ---------------------------------------------------------------------

    def _start_node(
        self,
        name: str,
        flags: list[str],
        ports: dict[str, int],
        num_cpus: int,
        resources: dict[str, float] | None,
    ) -> RayNode:
        temp_dir = self.root / name
        temp_dir.mkdir(parents=True, exist_ok=True)
        ports = {**ports, **{flag: _free_port() for flag in _NODE_PORT_FLAGS}}
        command = [
            *_ray_command(),
            "start",
            "--block",
            *flags,
            "--node-name", name,
            "--num-cpus", str(num_cpus),
            "--num-gpus", "0",
            "--temp-dir", str(temp_dir),
            "--object-store-memory", str(self.object_store_bytes),
            "--disable-usage-stats",
            *[str(part) for flag, port in ports.items() for part in (flag, port)],
        ]  # fmt: skip
        if resources:
            command += ["--resources", json.dumps(resources)]
        log_path = self.root / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                env=self.env(),
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, signalled as one
            )
        node = RayNode(name, process, temp_dir, log_path, ports)
        self._wait_until_started(node)
        return node

    def _wait_until_started(self, node: RayNode) -> None:
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        while time.monotonic() < deadline:
            log = node.log_path.read_text(errors="replace")
            if _STARTED_LINE in log:
                return
            if not node.alive:
                raise ClusterError(f"ray start of {node.name} exited:\n{log[-4000:]}")
            time.sleep(0.5)
        for pid in node.processes():
            _signal(pid, signal.SIGKILL)
        raise ClusterError(
            f"{node.name} did not start in {NODE_START_TIMEOUT_S:.0f} s:\n"
            f"{node.log_path.read_text(errors='replace')[-4000:]}"
        )


def _ray_command() -> list[str]:
    """``ray`` next to this interpreter, so every node runs the same environment."""
    script = Path(sys.executable).parent / "ray"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def _descendants(root_pid: int) -> list[int]:
    """Every process below ``root_pid`` in the process tree, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name (field 2) may hold spaces; the fields after ')' do not.
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [root_pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # a zombie has exited


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, number)


def _signal_group(pgid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, number)


def main(argv: list[str] | None = None) -> None:
    """``python -m cluster.local_cluster``: start a cluster here, print how to use it, wait."""
    parser = argparse.ArgumentParser(prog="python -m cluster.local_cluster", description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="worker nodes (default: 1)")
    parser.add_argument("--cpus", type=int, default=1, help="CPUs of each node (default: 1)")
    parser.add_argument("--head-cpus", type=int, default=0, help="CPUs of the head (default: 0)")
    args = parser.parse_args(argv)
    cluster = LocalCluster()
    try:
        cluster.start_head(num_cpus=args.head_cpus)
        for _ in range(args.workers):
            cluster.add_worker(num_cpus=args.cpus)
        print(f"Ray cluster of {1 + args.workers} nodes at {cluster.address}; in your shell:")
        print(f"  export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={cluster.token_path}")
        print(f"  automl-nn search --address {cluster.address} --shared-storage ...")
        if cluster.dashboard_url:
            print(f"  ray job submit --address {cluster.dashboard_url} --working-dir . -- ...")
        print(f"Logs and temp dirs under {cluster.root}. Ctrl-C stops the cluster.", flush=True)
        for number in (signal.SIGINT, signal.SIGTERM):  # SIGINT is ignored when run with &
            signal.signal(number, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    finally:
        cluster.remove()


if __name__ == "__main__":
    main()
