"""What every benchmark shares: the machine's description, medians, and the result files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
RESULTS_PATH = RESULTS.relative_to(RESULTS.parents[1]).as_posix()  # from the repository root


def machine() -> dict[str, Any]:
    """Platform, CPU model, core count, load and library versions of the machine running now."""
    import mlflow
    import ray
    import torch

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "ray": ray.__version__,
        "mlflow": mlflow.__version__,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }


def code_version(repository: Path = RESULTS.parents[1]) -> str:
    """The repository's commit (``-dirty`` with uncommitted changes), or ``unknown``.

    Stored with every search of a long run, whose searches may span several commits. The
    run's own result files (``benchmarks/results/``) do not make it dirty: a long run
    appends to them after its first search.
    """
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repository, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changes = git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ":/",
            f":(top,exclude){RESULTS_PATH}",
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if changes else commit or "unknown"


def speed_probe_s(rounds: int = 5) -> float:
    """Seconds this machine takes for a fixed one-thread PyTorch workload now (best of rounds).

    Stored with every search of a long run: searches at equal wall-clock budgets compare only
    when they ran at about the same speed (a shared machine's speed varies between sittings).
    """
    import time

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 40, generator=generator)
    y = torch.randint(0, 10, (64,), generator=generator)
    timings = []
    try:
        for _ in range(rounds):
            torch.manual_seed(0)
            model = torch.nn.Sequential(
                torch.nn.Linear(40, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
            )
            optimizer = torch.optim.Adam(model.parameters())
            started = time.perf_counter()
            for _ in range(1000):
                loss = torch.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            timings.append(time.perf_counter() - started)
    finally:
        torch.set_num_threads(threads)
    return round(min(timings), 4)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats keep 3 significant digits past the point."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def machine_lines(description: dict[str, Any]) -> list[str]:
    """The machine's description as markdown bullet lines."""
    return [f"- {key}: {value}" for key, value in description.items()]


def summary_searches_and_machine(summary: str, searches: str, payload: dict[str, Any]) -> list[str]:
    """The markdown lines after a runs benchmark's method: its summary table, one table row
    per search, the duration and the machine (of a :func:`write_runs` payload)."""
    return [
        summary,
        "",
        "Each search:",
        "",
        searches,
        "",
        f"Duration: {payload['duration_s']:.0f} s. Machine:",
        "",
        *machine_lines(payload["machine"]),
    ]


def write_runs(
    name: str,
    quick: bool,
    settings: dict[str, Any],
    runs: list[dict[str, Any]],
    started: float,
    summarize: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    to_markdown: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """Write a benchmark of runs (``results/<name>.{json,md}``) and return its payload.

    The payload: its name and kind, ``settings``, ``summarize(runs)``, the runs, the seconds
    since ``started`` (a ``time.perf_counter()``) and the machine.
    """
    payload = {
        "benchmark": name,
        "quick": quick,
        "settings": settings,
        "summary": summarize(runs),
        "runs": runs,
        "duration_s": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    write_results(name, payload, to_markdown(payload))
    return payload


def write_results(name: str, payload: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write ``results/<name>.json`` and ``results/<name>.md``; return both paths."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md_path.write_text(markdown.rstrip() + "\n")
    return json_path, md_path


class RunStore:
    """The finished units of a long benchmark, one JSON line each, kept across sittings.

    A full benchmark run takes hours here; each search it finishes is appended at once, and a
    rerun with the same settings reads them back and skips them, so an interrupted run picks
    up where it stopped and the hours can be spread over several sittings.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        """Every record stored so far, oldest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def append(self, record: dict[str, Any]) -> None:
        """Store one finished unit."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
