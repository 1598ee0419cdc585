"""Bad input exits 2 with one line on stderr, no traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import CliRun, run_cli

# Each case: the flags after `automl-nn search`, and words the error line must hold.
BAD_SEARCHES = {
    "unknown data set": (["--dataset", "nope"], "dataset = 'nope'"),
    "unknown searcher": (["--dataset", "wine", "--searcher", "nope"], "searcher = 'nope'"),
    "unknown scheduler": (["--dataset", "wine", "--scheduler", "nope"], "scheduler = 'nope'"),
    "no trials": (["--dataset", "wine", "--trials", "0"], "--trials"),
    "no time": (["--dataset", "wine", "--budget", "0"], "--budget = '0'"),
    "not a duration": (["--dataset", "wine", "--budget", "10x"], "--budget = '10x'"),
    "missing space file": (["--dataset", "wine", "--space", "missing.yaml"], "missing.yaml"),
    "csv without target": (["--csv", "data.csv"], "--target"),
    "target without csv": (["--dataset", "wine", "--target", "y"], "--target"),
    "missing csv": (["--csv", "missing.csv", "--target", "y"], "missing.csv"),
    "unknown searcher option": (
        ["--dataset", "wine", "--searcher", "random", "--searcher-option", "depth=3"],
        "--searcher-option",
    ),
    "no CPU": (["--dataset", "wine", "--cpus-per-trial", "0"], "--cpus-per-trial"),
    "unreachable tracking server": (
        ["--dataset", "wine", "--tracking-uri", "http://127.0.0.1:9"],
        "tracking_uri = 'http://127.0.0.1:9'",
    ),
    "two data sources": (["--dataset", "wine", "--csv", "data.csv"], "not allowed with"),
    "no data source": ([], "one of the arguments --dataset --csv is required"),
    "unknown mode": (["--dataset", "wine", "--mode", "sideways"], "--mode"),
    "unknown flag": (["--dataset", "wine", "--trails", "3"], "--trails"),
    "one fold": (["--dataset", "wine", "--cv-folds", "1"], "cv_folds = 1"),
    "folds not a number": (["--dataset", "wine", "--cv-folds", "five"], "--cv-folds = 'five'"),
    "no retrain seed": (["--dataset", "wine", "--retrain-seeds", "0"], "--retrain-seeds = '0'"),
    "retrain seeds not a number": (
        ["--dataset", "wine", "--retrain-seeds", "many"],
        "--retrain-seeds = 'many'",
    ),
    "no retrain config": (["--dataset", "wine", "--retrain-top-k", "0"], "--retrain-top-k = '0'"),
    "retrain top k not a number": (
        ["--dataset", "wine", "--retrain-top-k", "best"],
        "--retrain-top-k = 'best'",
    ),
}


def assert_one_error_line(run: CliRun, words: str) -> None:
    assert run.code == 2
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("automl-nn: error: ")
    assert words in lines[0]
    assert "Traceback" not in run.err


@pytest.mark.parametrize(("flags", "words"), BAD_SEARCHES.values(), ids=BAD_SEARCHES.keys())
def test_a_bad_search_exits_2_with_one_line_and_writes_nothing(
    flags: list[str], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("x,y\n1,0\n2,1\n")
    before = set(tmp_path.rglob("*"))
    run = run_cli(
        "search", "--space", "quick", "--trials", "2", "--epochs", "1",
        "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db", "--storage", tmp_path / "runs",
        *flags,
    )  # fmt: skip
    assert_one_error_line(run, words)
    assert run.out == ""
    assert set(tmp_path.rglob("*")) == before


def test_no_command_is_a_usage_error() -> None:
    assert_one_error_line(run_cli(), "COMMAND")


def test_show_of_a_store_that_does_not_exist_creates_none(tmp_path: Path) -> None:
    run = run_cli("show", "cli", "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db")
    assert_one_error_line(run, "no MLflow store there")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_that_is_not_bad_input_exits_1_with_a_hint(tmp_path: Path) -> None:
    not_a_database = tmp_path / "mlflow.db"
    not_a_database.write_text("not a database")
    argv = ["show", "cli", "--tracking-uri", f"sqlite:///{not_a_database}"]
    run = run_cli(*argv)
    assert run.code == 1
    assert run.err.splitlines()[-1].startswith("automl-nn: error: ")
    assert "rerun with --debug" in run.err
    assert "Traceback" not in run.err

    debug = run_cli(*argv, "--debug")
    assert debug.code == 1
    assert "Traceback" in debug.err


def test_a_tracking_store_that_fails_during_a_search_exits_1_not_2(monkeypatch) -> None:
    """A write refused mid-search is a failure of the run, not bad input (exit 2)."""
    import automl_nn.api
    from automl_nn.errors import TrackingWriteError

    def refused(*args, **kwargs):
        raise TrackingWriteError("a tracking call failed in the background: the store is down")

    monkeypatch.setattr(automl_nn.api, "search", refused)
    run = run_cli("search", "--dataset", "wine")
    assert run.code == 1
    assert run.err.splitlines()[-1].endswith("the store is down")
