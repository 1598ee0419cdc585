"""``automl-nn show`` orders trials tied on the metric as the search did: by the searcher's order."""

from __future__ import annotations

from automl_nn._cli_show import read_search
from automl_nn.tracking import TRIAL_NUMBER_TAG, MlflowTracker


def test_tied_trials_follow_the_searchers_order_not_their_start_times(tmp_path) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    tracker = MlflowTracker(uri, "order", artifact_location=str(tmp_path / "artifacts"))
    tracker.open_search({"metric": "val_accuracy", "mode": "max", "tie_break": "None"})
    # Started in this order (a searcher's second proposal may start first), all tied.
    for trial_id, number in (("second", "1"), ("untagged", None), ("first", "0")):
        tracker.trial_started(trial_id, {}, {TRIAL_NUMBER_TAG: number} if number else None)
        tracker.trial_metrics(trial_id, {"val_accuracy": 0.9}, step=1)
        tracker.trial_ended(trial_id, "completed")
    tracker.close_search()

    board = read_search("order", uri).leaderboard
    assert board.trial_id.tolist() == ["first", "second", "untagged"]
