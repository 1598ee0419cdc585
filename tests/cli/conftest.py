"""Running ``automl-nn`` in-process, and one real search that several tests read."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from automl_nn.cli import main


@dataclass(frozen=True)
class CliRun:
    """The exit code and the output of one ``automl-nn`` command."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class WineSearch:
    """A finished ``automl-nn search`` on wine, tracked to a sqlite store."""

    run: CliRun
    tracking_uri: str
    experiment: str
    folder: Path


def run_cli(*argv: str | Path) -> CliRun:
    """``automl-nn ARGV`` through :func:`main`, with its stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return CliRun(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def wine_search(
    ray_session: None, shared_sqlite_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WineSearch]:
    """3 random trials of 2 epochs on wine (2 folds each), retrained, tested and exported."""
    folder = tmp_path_factory.mktemp("wine_search")
    tracking_uri = shared_sqlite_uri
    experiment = f"cli-wine-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # MLflow puts a local store's artifacts in ./mlruns
        run = run_cli(
            "search", "--dataset", "wine", "--space", "quick",
            "--trials", "3", "--epochs", "2",
            "--searcher", "random", "--scheduler", "fifo", "--cv-folds", "2",
            "--tracking-uri", tracking_uri, "--experiment", experiment,
            "--storage", folder / "runs", "--export", folder / "export",
        )  # fmt: skip
        yield WineSearch(run, tracking_uri, experiment, folder)
