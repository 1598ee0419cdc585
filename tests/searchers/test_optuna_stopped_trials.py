"""How the optuna searcher tells its study about trials a scheduler stopped (``stopped_trials``).

By default as Ray's OptunaSearch does: COMPLETE with the value of the epoch the trial reached.
With ``searcher_options={"stopped_trials": "pruned"}``: PRUNED at that epoch, as Optuna's own
pruners do.
"""

from __future__ import annotations

import math
import warnings

import optuna
import pytest

from automl_nn import search
from automl_nn.searchers import SearcherSettings, make_searcher
from tests.api.conftest import TINY_SPACE
from tests.searchers.test_searcher_contract import tiny_space

TrialState = optuna.trial.TrialState


def optuna_searcher(**options: str):
    settings = SearcherSettings(tiny_space(), "val_accuracy", "max", seed=0, options=options)
    return make_searcher("optuna", settings)


def study_trial(searcher, trial_id: str) -> optuna.trial.FrozenTrial:
    return searcher._ot_study.trials[searcher._ot_trials[trial_id].number]


def run_one(searcher, trial_id: str, values: list[float], fit_status: str) -> None:
    """A trial whose epochs score ``values``; Ray passes all but the last to on_trial_result
    (a scheduler's STOP keeps the last one from it), and the last one to on_trial_complete."""
    searcher.suggest(trial_id)
    for epoch, value in enumerate(values[:-1], start=1):
        searcher.on_trial_result(trial_id, {"val_accuracy": value, "training_iteration": epoch})
    last = {"val_accuracy": values[-1], "training_iteration": len(values), "fit_status": fit_status}
    searcher.on_trial_complete(trial_id, last)


def test_pruned_tells_a_trial_the_scheduler_stopped_pruned_at_the_epoch_it_reached() -> None:
    searcher = optuna_searcher(stopped_trials="pruned")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_one(searcher, "stopped", [0.50, 0.60], fit_status="running")
        run_one(searcher, "finished", [0.50, 0.70, 0.90], fit_status="completed")
        run_one(searcher, "early_stopped", [0.80, 0.75], fit_status="early_stopping")
    stopped = study_trial(searcher, "stopped")
    assert stopped.state == TrialState.PRUNED
    assert stopped.intermediate_values == {1: 0.50, 2: 0.60}
    assert (study_trial(searcher, "finished").state, study_trial(searcher, "finished").value) == (
        TrialState.COMPLETE,
        0.90,
    )
    # Early stopping is the trial's own end: its value is final.
    assert study_trial(searcher, "early_stopped").state == TrialState.COMPLETE


def test_by_default_a_partial_value_is_told_as_final_as_ray_does() -> None:
    searcher = optuna_searcher()
    run_one(searcher, "stopped", [0.50, 0.60], fit_status="running")
    stopped = study_trial(searcher, "stopped")
    assert (stopped.state, stopped.value) == (TrialState.COMPLETE, 0.60)
    assert stopped.intermediate_values == {1: 0.50}


def test_the_last_result_reported_twice_is_taken_once_without_a_warning() -> None:
    """The search's end stops running trials whose last result Ray already passed on."""
    searcher = optuna_searcher(stopped_trials="pruned")
    searcher.suggest("cut")
    for epoch, value in enumerate([0.5, 0.6], start=1):
        searcher.on_trial_result("cut", {"val_accuracy": value, "training_iteration": epoch})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        searcher.on_trial_complete(
            "cut", {"val_accuracy": 0.6, "training_iteration": 2, "fit_status": "running"}
        )
    assert study_trial(searcher, "cut").state == TrialState.PRUNED
    assert study_trial(searcher, "cut").intermediate_values == {1: 0.5, 2: 0.6}


@pytest.mark.parametrize("stopped_trials", ["complete", "pruned"])
def test_a_diverged_trial_stays_the_worst_complete_value(stopped_trials: str) -> None:
    searcher = optuna_searcher(stopped_trials=stopped_trials)
    run_one(searcher, "diverged", [0.5, math.nan], fit_status="diverged")
    assert study_trial(searcher, "diverged").state == TrialState.COMPLETE
    assert study_trial(searcher, "diverged").value == -math.inf


def test_under_pruned_tpe_ranks_a_stopped_trial_below_finished_ones() -> None:
    """The point of PRUNED: a high 2-epoch score no longer outranks finished trials in TPE's
    good group (Optuna splits COMPLETE trials first, then PRUNED ones by depth)."""
    from optuna.samplers._tpe.sampler import _split_trials

    def good_group(stopped_trials: str) -> set[str]:
        searcher = optuna_searcher(stopped_trials=stopped_trials)
        run_one(searcher, "stopped_high", [0.95, 0.99], fit_status="running")
        for index, final in enumerate([0.90, 0.80, 0.70]):
            run_one(searcher, f"finished_{index}", [0.5, final], fit_status="completed")
        study = searcher._ot_study
        below, _ = _split_trials(study, study.trials, n_below=1)
        names = {searcher._ot_trials[name].number: name for name in searcher._ot_trials}
        return {names[trial.number] for trial in below}

    assert good_group("complete") == {"stopped_high"}
    assert good_group("pruned") == {"finished_0"}


@pytest.mark.integration
def test_a_search_with_asha_prunes_in_the_study_what_asha_stopped(ray_session, tmp_path) -> None:
    """A real search (optuna + ASHA, one trial at a time, ``stopped_trials="pruned"``): the
    searcher's saved study holds every trial the leaderboard calls stopped_early as PRUNED at
    the epoch it reached, and every completed one as COMPLETE."""
    result = search(
        "wine", TINY_SPACE, searcher="optuna", scheduler="asha", num_trials=8, max_epochs=8,
        max_concurrent=1, seed=0, searcher_options={"stopped_trials": "pruned"},
        storage_path=str(tmp_path), tracking=False, verbose=False,
    )  # fmt: skip
    board = result.leaderboard.set_index("trial_id")
    assert "stopped_early" in set(board.status), "ASHA stopped no trial: nothing was tested"
    restored = optuna_searcher()
    restored.restore_from_dir(result.experiment_path)
    for trial_id, row in board.iterrows():
        told = study_trial(restored, trial_id)
        if row.status == "stopped_early":
            assert told.state == TrialState.PRUNED, trial_id
            assert max(told.intermediate_values) == row.epochs, trial_id
        else:
            assert (row.status, told.state) == ("completed", TrialState.COMPLETE), trial_id
