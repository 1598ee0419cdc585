"""``automl-nn resume`` on a finished search: nothing runs again, nothing is written twice."""

from __future__ import annotations

import shutil

import pytest

from tests.cli.conftest import WineSearch, run_cli
from tests.cli.test_cli_search import leaderboard_ids, trial_ids_in_mlflow

pytestmark = pytest.mark.integration


def test_resume_of_a_finished_search_reports_the_same_trials(wine_search: WineSearch) -> None:
    (folder,) = [p for p in (wine_search.folder / "runs").iterdir() if p.is_dir()]
    before = trial_ids_in_mlflow(wine_search.tracking_uri, wine_search.experiment)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(wine_search.folder)
        run = run_cli("resume", folder, "--quiet", "--no-retrain")
    assert run.code == 0, run.err
    assert leaderboard_ids(run.out, "Leaderboard:") == before
    assert trial_ids_in_mlflow(wine_search.tracking_uri, wine_search.experiment) == before


def test_resume_of_a_folder_that_is_no_search_exits_2(tmp_path) -> None:
    run = run_cli("resume", tmp_path)
    assert run.code == 2
    assert run.err.count("\n") == 1 and "automl_nn_search.json" in run.err


def test_resume_retrains_the_winner_from_the_seeds_asked(wine_search: WineSearch) -> None:
    (folder,) = [p for p in (wine_search.folder / "runs").iterdir() if p.is_dir()]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(wine_search.folder)
        run = run_cli("resume", folder, "--quiet", "--retrain-seeds", "2")
    assert run.code == 0, run.err
    assert "epochs from 2 seeds, their outputs averaged:" in run.out
    assert "test_accuracy" in run.out


def test_resume_retrains_the_top_trials_configs_asked(wine_search: WineSearch) -> None:
    (folder,) = [p for p in (wine_search.folder / "runs").iterdir() if p.is_dir()]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(wine_search.folder)
        run = run_cli("resume", folder, "--quiet", "--retrain-top-k", "2", "--retrain-seeds", "1")
    assert run.code == 0, run.err
    assert "Test metrics of the top 2 trials' configs, retrained on train+val" in run.out
    assert "their outputs averaged" not in run.out  # one seed each
    assert "test_accuracy" in run.out


def test_resume_refuses_a_ray_state_cut_short_and_changes_nothing(
    wine_search: WineSearch, tmp_path
) -> None:
    # A driver killed while Ray rewrote its experiment state leaves the file cut short; Ray's
    # restore would then start the search from nothing. The copy keeps the fixture's folder whole.
    (original,) = [p for p in (wine_search.folder / "runs").iterdir() if p.is_dir()]
    folder = tmp_path / original.name
    shutil.copytree(original, folder)
    # Ray restores the newest state by name; each earlier resume of the fixture wrote one.
    state = max(folder.glob("experiment_state-*.json"), key=lambda path: path.name)
    state.write_text(state.read_text()[:100])
    before = trial_ids_in_mlflow(wine_search.tracking_uri, wine_search.experiment)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(wine_search.folder)
        run = run_cli("resume", folder, "--quiet", "--no-retrain")
    assert run.code == 1
    assert state.name in run.err and "unreadable" in run.err and "killed" in run.err
    assert trial_ids_in_mlflow(wine_search.tracking_uri, wine_search.experiment) == before
    assert len(state.read_text()) == 100  # left as it was found
