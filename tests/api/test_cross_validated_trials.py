"""cv_folds: trials ranked by a k-fold estimate over train+val, for small validation splits."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from automl_nn import cross_validate, load_dataset, search
from automl_nn._cli_show import read_search
from automl_nn.api import resolve_cv_folds
from automl_nn.tracking import TRIAL_ID_TAG, TRIAL_NUMBER_TAG
from automl_nn.trainable import trial_config

# No dropout, no mixup: a trial's folds, trained in step, match cross_validate's one by one.
STEADY_SPACE = {
    "model": {"family": "mlp", "depth": 1, "width": 16},
    "optimizer": {"name": "adam", "lr": {"loguniform": [1e-3, 3e-2]}},
    "training": {"batch_size": 32},
}


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [("wine", 5), ("breast_cancer", 5), ("diabetes", 5), ("digits", None)],
)
def test_auto_cross_validates_where_the_validation_split_is_small(dataset, expected) -> None:
    data = load_dataset(dataset)
    assert resolve_cv_folds("auto", data) == expected
    assert resolve_cv_folds(3, data) == 3 and resolve_cv_folds(None, data) is None


@pytest.mark.usefixtures("ray_session")
def test_a_trial_reports_the_mean_over_its_folds_and_mlflow_records_the_folds(store) -> None:
    result = search(
        "wine", STEADY_SPACE, searcher="random", scheduler="fifo", num_trials=2,
        max_epochs=3, cv_folds=3, seed=4, **store,
    )  # fmt: skip
    assert result.cv_folds == 3
    for _, row in result.leaderboard.iterrows():
        config = {"optimizer": {"name": "adam", "lr": row["config.optimizer.lr"]}}
        config = trial_config({**STEADY_SPACE, **config}, max_epochs=3)
        expected = cross_validate(config, load_dataset("wine"), k=3, seed=4, device="cpu")
        assert row.val_accuracy == pytest.approx(expected.mean["val_accuracy"], abs=1e-6)
        assert row.val_loss == pytest.approx(expected.mean["val_loss"], rel=1e-5)
    parent = MlflowClient(store["tracking_uri"]).get_run(result.mlflow_parent_run_id)
    assert parent.data.params["cv_folds"] == "3"
    # The best trial's logged model is its first fold's: it loads and predicts.
    assert result.best_trial_model()(load_dataset("wine").x_val[:2]).shape == (2, 3)


# One epoch at learning rates too small to move a prediction: every trial starts from the same
# weights and ties on accuracy, while the larger rates lower the log-loss a little.
TIED_RATES = [1e-6, 1e-5, 1e-4]


def tied_search(store: dict, cv_folds: int | None):
    """A grid search over ``TIED_RATES`` on wine, whose 3 trials tie on accuracy."""
    space = {**STEADY_SPACE, "optimizer": {"name": "adam", "lr": {"grid": TIED_RATES}}}
    result = search(
        "wine", space, searcher="grid", scheduler="fifo", num_trials=3,
        max_epochs=1, cv_folds=cv_folds, **store,
    )  # fmt: skip
    board = result.leaderboard
    assert board.val_accuracy.nunique() == 1 and board.val_log_loss.nunique() == 3
    return result


@pytest.mark.usefixtures("ray_session")
def test_tied_cross_validated_trials_rank_by_log_loss_in_the_search_and_in_mlflow(store) -> None:
    result = tied_search(store, cv_folds=3)
    board = result.leaderboard
    assert result.tie_break == "val_log_loss" and board.val_log_loss.is_monotonic_increasing
    assert board["config.optimizer.lr"].tolist() == sorted(TIED_RATES, reverse=True)
    assert board.trial_number.tolist() != sorted(board.trial_number)  # not the earliest first
    assert result.best_trial_id == board.trial_id.iloc[0]
    stored = read_search(store["experiment"], store["tracking_uri"]).leaderboard
    assert stored.trial_id.tolist() == board.trial_id.tolist()
    parent = MlflowClient(store["tracking_uri"]).get_run(result.mlflow_parent_run_id)
    assert parent.data.params["tie_break"] == "val_log_loss"  # what `automl-nn show` reads


@pytest.mark.usefixtures("ray_session")
def test_without_folds_trials_validate_on_the_validation_split_and_ties_keep_the_earlier_first(
    store,
) -> None:
    result = tied_search(store, cv_folds=None)
    assert result.cv_folds is None and result.tie_break is None
    board = result.leaderboard
    # Accuracy over the 36 validation samples: a whole number of them.
    correct = board.val_accuracy * len(load_dataset("wine").y_val)
    assert correct.to_numpy() == pytest.approx(correct.round().to_numpy(), abs=1e-4)
    assert board.trial_number.tolist() == sorted(board.trial_number)
    client = MlflowClient(store["tracking_uri"])
    parent = client.get_run(result.mlflow_parent_run_id)
    assert parent.data.params["cv_folds"] == "None"
    assert parent.data.params["tie_break"] == "None"
    # Each child run carries its trial's number, so `automl-nn show` ranks ties alike.
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    numbers = {run.data.tags[TRIAL_ID_TAG]: run.data.tags[TRIAL_NUMBER_TAG] for run in children}
    assert numbers == dict(zip(board.trial_id, board.trial_number.astype(str), strict=True))
    stored = read_search(store["experiment"], store["tracking_uri"]).leaderboard
    assert stored.trial_id.tolist() == board.trial_id.tolist()
