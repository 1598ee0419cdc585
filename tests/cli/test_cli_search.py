"""``automl-nn search`` and ``automl-nn show`` against real Ray and real MLflow."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from automl_nn.tracking import TRIAL_ID_TAG, MlflowTracker
from tests.cli.conftest import WineSearch, run_cli

pytestmark = pytest.mark.integration


def trial_ids_in_mlflow(tracking_uri: str, experiment: str) -> set[str]:
    client = MlflowClient(tracking_uri)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    runs = client.search_runs([experiment_id], filter_string="tags.`mlflow.parentRunId` != ''")
    return {run.data.tags[TRIAL_ID_TAG] for run in runs}


def leaderboard_ids(output: str, header: str) -> set[str]:
    """The first word of each row of the table printed after the line starting ``header``."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:  # the header line, then the column names
        if not line.strip():
            break
        rows.append(line.split()[0])
    return set(rows)


def test_search_prints_leaderboard_best_config_test_metrics_and_where_to_look(
    wine_search: WineSearch,
) -> None:
    run = wine_search.run
    assert run.code == 0, run.err
    assert "Leaderboard: top 3 of 3 trials by val_accuracy (max)" in run.out
    assert "trial_id" in run.out and "status" in run.out and "epochs" in run.out
    ids = trial_ids_in_mlflow(wine_search.tracking_uri, wine_search.experiment)
    assert leaderboard_ids(run.out, "Leaderboard:") == ids
    assert "Best config: trial " in run.out
    assert "optimizer:\n  name: " in run.out
    # --cv-folds 2 and --retrain-seeds auto: the final model averages 5 seeds.
    assert re.search(
        r"Test metrics of the best config, retrained on train\+val for \d+ epochs from 5 "
        "seeds, their outputs averaged:",
        run.out,
    )
    assert "test_accuracy" in run.out
    assert f"Search folder: {wine_search.folder / 'runs'}" in run.out
    assert f"mlflow ui --backend-store-uri {wine_search.tracking_uri}" in run.out
    assert (wine_search.folder / "export" / "model.pt").is_file()
    exported = json.loads((wine_search.folder / "export" / "config.json").read_text())
    assert exported["seeds"] == 5


def parent_runs(wine_search: WineSearch) -> list:
    client = MlflowClient(wine_search.tracking_uri)
    experiment = client.get_experiment_by_name(wine_search.experiment)
    runs = client.search_runs([experiment.experiment_id])
    return [run for run in runs if "mlflow.parentRunId" not in run.data.tags]


def test_the_final_model_seeds_and_trials_are_tagged_on_the_parent_run(
    wine_search: WineSearch,
) -> None:
    (parent,) = parent_runs(wine_search)
    assert parent.data.tags["automl_nn.final_model_seeds"] == "5"
    # The default top_k: the best trial's config alone.
    assert (
        parent.data.tags["automl_nn.final_model_trials"]
        == parent.data.tags["automl_nn.best_trial_id"]
    )


def test_cv_folds_reach_the_search(wine_search: WineSearch) -> None:
    assert [run.data.params["cv_folds"] for run in parent_runs(wine_search)] == ["2"]


def test_show_reads_the_same_trials_back_from_mlflow(wine_search: WineSearch) -> None:
    run = run_cli("show", wine_search.experiment, "--tracking-uri", wine_search.tracking_uri)
    assert run.code == 0, run.err
    ids = trial_ids_in_mlflow(wine_search.tracking_uri, wine_search.experiment)
    assert leaderboard_ids(run.out, "Search ") == ids
    assert "3 trials by val_accuracy (max)" in run.out
    header, *rows = run.out.splitlines()[1:]
    column = header.split().index("val_accuracy")
    accuracies = [float(row.split()[column]) for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    assert {row.split()[1] for row in rows} == {"completed"}


def test_show_of_an_unknown_experiment_or_run_names_what_exists(wine_search: WineSearch) -> None:
    unknown = run_cli("show", "nope", "--tracking-uri", wine_search.tracking_uri)
    assert unknown.code == 2
    assert wine_search.experiment in unknown.err
    not_a_search = run_cli(
        "show", wine_search.experiment, "--tracking-uri", wine_search.tracking_uri,
        "--run", "0" * 32,
    )  # fmt: skip
    assert not_a_search.code == 2
    assert "--run = '" in not_a_search.err


def test_a_csv_search_tracked_on_a_server_reads_back_with_show(
    ray_session: None, mlflow_server_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(120, 3))
    colors = rng.choice(["red", "blue"], size=120)
    labels = np.where(features[:, 0] + (colors == "red") > 0.5, "yes", "no")
    rows = [
        f"{a:.4f},{b:.4f},{c:.4f},{color},{label}"
        for (a, b, c), color, label in zip(features, colors, labels, strict=True)
    ]
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("a,b,c,color,label\n" + "\n".join(rows) + "\n")
    experiment = f"cli-csv-{uuid.uuid4().hex[:8]}"

    run = run_cli(
        "search", "--csv", csv_path, "--target", "label", "--space", "quick",
        "--trials", "2", "--epochs", "1", "--searcher", "random", "--scheduler", "fifo",
        "--tracking-uri", mlflow_server_uri, "--experiment", experiment,
        "--storage", tmp_path / "runs", "--no-retrain", "--quiet",
    )  # fmt: skip

    assert run.code == 0, run.err
    assert "Leaderboard: top 2 of 2 trials by val_accuracy (max)" in run.out
    assert "Test metrics" not in run.out
    assert f"open the MLflow UI: {mlflow_server_uri}" in run.out
    shown = run_cli("show", experiment, "--tracking-uri", mlflow_server_uri)
    assert shown.code == 0, shown.err
    ids = trial_ids_in_mlflow(mlflow_server_uri, experiment)
    assert len(ids) == 2
    assert leaderboard_ids(shown.out, "Search ") == ids


def test_show_of_a_search_before_its_first_trial(tmp_path: Path) -> None:
    tracking_uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = MlflowTracker(tracking_uri, "cli-empty", artifact_location=str(tmp_path / "art"))
    first = tracker.open_search({"metric": "val_loss", "mode": "min"})
    MlflowTracker(tracking_uri, "cli-empty").open_search({"metric": "val_loss", "mode": "min"})

    run = run_cli("show", "cli-empty", "--tracking-uri", tracking_uri, "--run", first)

    assert run.code == 0, run.err
    assert f"(MLflow parent run {first})" in run.out
    assert "0 trials by val_loss (min)" in run.out
    assert "No trial has started yet." in run.out
