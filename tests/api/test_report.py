"""The search report: its analyses on hand-made tables, and the HTML of a real search."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from automl_nn import SearchResult, search
from automl_nn.report import (
    SECTIONS,
    best_so_far,
    best_so_far_by_time,
    best_so_far_by_trial,
    hyperparameter_importance,
    pareto_front,
    report_html,
)
from tests.api.conftest import TINY_SPACE

CHROMIUM_TIMEOUT_S = 120


class ReportParser(HTMLParser):
    """Element ids, image sources, external references and table body rows per section."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.references: list[str] = []
        self.rows: dict[str | None, list[list[str]]] = {}
        self._section: str | None = None
        self._in_body = False
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "section":
            self._section = found.get("id")
        if tag == "img":
            self.images.append(str(found.get("src")))
        if tag in ("script", "link", "iframe") or str(found.get("href", "#")).find("//") >= 0:
            self.references.append(tag)
        self._in_body = self._in_body or tag == "tbody"
        if tag == "tr" and self._in_body:
            self._row = []
        if tag == "td" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        if tag == "tr" and self._row is not None:
            self.rows.setdefault(self._section, []).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row:
            self._row[-1] += data


def parsed(text: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(text)
    parser.close()
    return parser


# -- analyses on hand-made leaderboards ----------------------------------------------------


@pytest.mark.parametrize("mode", ["min", "max"])
def test_best_so_far_never_gets_worse(mode: str) -> None:
    values = np.random.default_rng(0).normal(size=50)
    values[[0, 7, 20]] = np.nan
    best = best_so_far(values, mode)
    steps = np.diff(best[1:])
    assert np.all(steps <= 0) if mode == "min" else np.all(steps >= 0)
    finite = values[~np.isnan(values)]
    assert best[-1] == (finite.min() if mode == "min" else finite.max())
    assert np.isnan(best[0]) and best[1] == values[1]


def test_best_so_far_by_trial_follows_the_proposal_order_and_skips_failed_trials() -> None:
    board = pd.DataFrame(
        {
            "trial_id": ["c", "a", "d", "b"],
            "trial_number": [2, 0, 3, 1],
            "status": ["completed", "completed", "failed", "completed"],
            "val_accuracy": [0.9, 0.5, 0.99, 0.4],
        }
    )
    curve = best_so_far_by_trial(board, "val_accuracy", "max")
    assert curve.trial_id.tolist() == ["a", "b", "c", "d"]
    assert curve.best.tolist() == [0.5, 0.5, 0.9, 0.9]


def test_best_so_far_by_time_counts_each_trial_when_it_ends() -> None:
    board = pd.DataFrame({"trial_id": ["a", "b"], "val_loss": [0.2, 0.5]})
    histories = {
        "a": pd.DataFrame({"timestamp": [110, 130], "time_this_iter_s": [10.0, 20.0]}),
        "b": pd.DataFrame({"timestamp": [105, 115], "time_this_iter_s": [5.0, 10.0]}),
    }
    curve = best_so_far_by_time(board, histories, "val_loss", "min")
    assert curve.trial_id.tolist() == ["b", "a"]
    assert curve.seconds.tolist() == [15.0, 30.0]
    assert curve.best.tolist() == [0.5, 0.2]


def _random_trials(count: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-4, -1, count)
    return pd.DataFrame(
        {
            "trial_id": [f"t{index}" for index in range(count)],
            "status": "completed",
            "val_loss": np.log10(lr) ** 2,
            "config.model.family": "mlp",
            "config.optimizer.lr": lr,
            "config.noise": rng.uniform(0, 1, count),
            "config.optimizer.name": rng.choice(["sgd", "adam"], count),
        }
    )


def test_importance_ranks_the_column_that_sets_the_metric_above_noise() -> None:
    importance = hyperparameter_importance(_random_trials(40), "val_loss")
    assert importance.note is None and "permutation" in importance.method
    assert importance.scores.index[0] == "optimizer.lr"
    assert importance.scores["optimizer.lr"] > 10 * importance.scores["noise"]
    assert "model.family" not in importance.scores  # it never varied


def test_importance_of_too_few_trials_says_so_instead_of_a_number() -> None:
    board = _random_trials(6)
    board.loc[[0, 1], "status"] = "failed"  # 4 usable trials
    importance = hyperparameter_importance(board, "val_loss")
    assert importance.scores.empty
    assert importance.note is not None and importance.note.startswith("not enough trials")


@pytest.mark.parametrize("mode", ["min", "max"])
def test_pareto_front_holds_exactly_the_non_dominated_trials(mode: str) -> None:
    # Scores read "higher is better"; for min the metric is their negation.
    trials = {  # trial: (parameters, score)
        "small": (10, 0.5),
        "small_worse": (10, 0.4),  # same size, worse: dominated
        "mid": (50, 0.7),
        "mid_twin": (50, 0.7),  # equal to mid: neither dominates the other
        "big_worse": (80, 0.6),  # bigger and worse than mid: dominated
        "big": (100, 0.9),
        "biggest_same": (200, 0.9),  # as good as big but bigger: dominated
        "no_count": (np.nan, 1.0),  # left out
    }
    sign = 1 if mode == "max" else -1
    board = pd.DataFrame(
        {
            "trial_id": list(trials),
            "status": "completed",
            "num_parameters": [size for size, _ in trials.values()],
            "metric": [sign * score for _, score in trials.values()],
        }
    )
    board.loc[len(board)] = ["failed_best", "failed", 1, sign * 2.0]  # failed: left out
    front = pareto_front(board, "metric", mode)
    assert front.trial_id.tolist() == ["small", "mid", "mid_twin", "big"]


def _hand_made_result(**overrides: object) -> SimpleNamespace:
    board = _random_trials(8)
    board["num_parameters"] = np.arange(100, 900, 100)
    board["trial_number"] = range(8)
    board = board.sort_values("val_loss", ignore_index=True)
    histories = {
        trial_id: pd.DataFrame(
            {
                "epoch": [1, 2],
                "train_loss": [1.0, 0.5],
                "val_loss": [loss + 0.1, loss],
                "timestamp": [100 + 2 * index, 101 + 2 * index],
            }
        )
        for index, (trial_id, loss) in enumerate(zip(board.trial_id, board.val_loss, strict=True))
    }
    fields = {
        "leaderboard": board,
        "histories": histories,
        "metric": "val_loss",
        "mode": "min",
        "best_trial_id": board.trial_id[0],
        "mlflow_parent_run_id": None,
        "experiment_path": "runs/x",
    }
    return SimpleNamespace(**{**fields, **overrides})


def test_report_escapes_strings_from_configs_and_links_nothing_outside() -> None:
    result = _hand_made_result()
    result.leaderboard.loc[0, "config.optimizer.name"] = "<script>alert('x')</script>"
    result.leaderboard.loc[1, "trial_id"] = "t&<b>"
    text = report_html(result)
    assert "<script>" not in text and "&lt;script&gt;alert(&#x27;x&#x27;)" in text
    assert "t&amp;&lt;b&gt;" in text
    parser = parsed(text)
    assert parser.references == []
    assert parser.images and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert [row[1] for row in parser.rows["leaderboard"]] == result.leaderboard.trial_id.tolist()


def test_report_of_few_trials_says_not_enough_trials() -> None:
    full = _hand_made_result()
    result = _hand_made_result(leaderboard=full.leaderboard.head(3))
    text = report_html(result)
    parser = parsed(text)
    assert {key for key, _ in SECTIONS} <= set(parser.ids)
    assert len(parser.rows["leaderboard"]) == 3
    assert "not enough trials" in text


def test_report_without_parameter_counts_says_what_is_missing() -> None:
    full = _hand_made_result()
    result = _hand_made_result(leaderboard=full.leaderboard.drop(columns="num_parameters"))
    assert "the leaderboard has no num_parameters column" in report_html(result)


@pytest.mark.parametrize(
    "board",
    [pd.DataFrame([]), pd.DataFrame(columns=["trial_id", "status", "epochs", "val_loss"])],
    ids=["no_columns", "columns_only"],
)
def test_report_of_a_search_where_no_trial_reported_says_so(board: pd.DataFrame) -> None:
    # A time budget can run out before any trial starts.
    result = _hand_made_result(leaderboard=board, histories={}, best_trial_id=None)
    text = report_html(result)
    assert {key for key, _ in SECTIONS} <= set(parsed(text).ids)
    assert text.count("No trial reported a result.") == len(SECTIONS)


# -- the report of a real search -------------------------------------------------------------


@pytest.fixture(scope="module")
def searched(tmp_path_factory, ray_session, shared_sqlite_uri) -> tuple[SearchResult, str, Path]:
    """A small ASHA search tracked to sqlite, and its report written with report()."""
    folder = tmp_path_factory.mktemp("report")
    uri = shared_sqlite_uri
    previous = os.getcwd()
    os.chdir(folder)  # MLflow's local artifacts land in ./mlruns
    try:
        result = search(
            "wine", TINY_SPACE, searcher="random", scheduler="asha", num_trials=6, max_epochs=3,
            tracking_uri=uri, experiment=f"report-{uuid.uuid4().hex[:8]}",
            storage_path=str(folder / "runs"), seed=3,
            verbose=False,
        )  # fmt: skip
    finally:
        os.chdir(previous)
    return result, uri, result.report(folder / "out" / "report.html")


@pytest.mark.integration
def test_report_has_every_section_and_one_row_per_trial(searched) -> None:
    result, _, path = searched
    assert path.is_file()
    parser = parsed(path.read_text(encoding="utf-8"))
    assert {key for key, _ in SECTIONS} <= set(parser.ids)
    rows = parser.rows["leaderboard"]
    assert len(rows) == len(result.leaderboard) == 6
    assert sorted(row[1] for row in rows) == sorted(result.leaderboard.trial_id)
    assert len(parser.images) == 4 and parser.references == []  # importance is a table
    assert len(parser.rows["importance"]) >= 2  # one per varying hyperparameter
    assert len(parser.rows["pareto-front"]) >= 1


@pytest.mark.integration
def test_search_logs_the_report_on_its_parent_run(searched, tmp_path) -> None:
    result, uri, _ = searched
    client = MlflowClient(uri)
    assert "report.html" in {a.path for a in client.list_artifacts(result.mlflow_parent_run_id)}
    local = client.download_artifacts(result.mlflow_parent_run_id, "report.html", str(tmp_path))
    rows = parsed(Path(local).read_text(encoding="utf-8")).rows["leaderboard"]
    assert sorted(row[1] for row in rows) == sorted(result.leaderboard.trial_id)


@pytest.mark.integration
def test_headless_chromium_renders_the_report(searched, tmp_path) -> None:
    from PIL import Image

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium) to screenshot the report")
    _, _, path = searched
    png = tmp_path / "report.png"
    subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
            "--window-size=1400,3000", path.resolve().as_uri(),
        ],
        check=True, capture_output=True, timeout=CHROMIUM_TIMEOUT_S,
    )  # fmt: skip
    assert png.stat().st_size > 50_000
    pixels = np.asarray(Image.open(png).convert("L"))
    assert pixels.shape == (3000, 1400)
    assert (pixels < 200).mean() > 0.02  # ink: text, lines and plots, not a blank page
    assert len(np.unique(pixels)) > 50
