"""CrossValidatedRun: k folds of train+val trained in step, their mean metrics per epoch."""

from __future__ import annotations

import math

import pytest
import torch

from automl_nn import cross_validate, fit
from automl_nn.errors import ConfigError
from automl_nn.training import CrossValidatedRun, fold_indices, fold_splits, folds_of
from tests.training.conftest import mlp_config, without_timings

# Dropout and mixup: every fold draws from its own random state, so a fold trained in step
# with the others matches the same fold trained alone (and cross_validate, which does that).
CONFIG = mlp_config(
    regularization={"dropout": 0.3, "augmentation": {"name": "mixup", "alpha": 0.4}},
    training={"batch_size": 16, "epochs": 4},
)


def test_folds_partition_train_and_val_stratified_and_leave_test_alone(wine) -> None:
    folds = fold_splits(wine, 3, seed=0)
    pooled = torch.cat([wine.x_train, wine.x_val])
    validation = torch.cat([fold.x_val for fold in folds])
    assert len(validation) == len(pooled)
    assert torch.equal(validation[validation[:, 0].argsort()][:, 0], pooled[:, 0].sort().values)
    all_classes = torch.cat([wine.y_train, wine.y_val]).bincount().double()
    for fold in folds:
        assert len(fold.y_train) + len(fold.y_val) == len(pooled)
        assert torch.equal(fold.x_test, wine.x_test)
        share = fold.y_val.bincount(minlength=len(all_classes)).double() / len(fold.y_val)
        assert torch.allclose(share, all_classes / all_classes.sum(), atol=0.05)


def test_each_epoch_reports_the_mean_of_the_folds_trained_alone(wine) -> None:
    run = CrossValidatedRun(CONFIG, wine, 3, seed=7)
    assert run.run() == "completed"
    alone = [
        fit(CONFIG, fold, seed=7 + index).history
        for index, fold in enumerate(fold_splits(wine, 3, seed=7))
    ]
    for epoch, row in enumerate(run.history):
        for name in ("train_loss", "val_loss", "val_accuracy", "val_f1"):
            expected = sum(history[epoch][name] for history in alone) / 3
            assert row[name] == pytest.approx(expected, rel=1e-6), (epoch, name)
        assert row["epoch"] == epoch + 1
    # The folds' validation splits together are all of train+val.
    assert sum(len(fold.data.y_val) for fold in run.folds) == len(wine.y_train) + len(wine.y_val)
    # cross_validate trains the folds one after the other, and scores the search's CV trial.
    assert cross_validate(CONFIG, wine, 3, seed=7).mean["val_log_loss"] == pytest.approx(
        run.history[-1]["val_log_loss"], rel=1e-6
    )


def test_a_fold_that_stops_early_counts_with_its_last_epoch(wine) -> None:
    # Patience 1 with a large learning rate: folds stop at different epochs.
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 0.8},
        regularization={"early_stopping": 1},
        training={"batch_size": 16, "epochs": 12},
    )
    run = CrossValidatedRun(config, wine, 3, seed=0)
    status = run.run()
    lengths = [len(fold.history) for fold in run.folds]
    assert len(set(lengths)) > 1, "the folds should stop at different epochs here"
    assert status == "early_stopping" and len(run.history) == max(lengths)
    last = run.history[-1]["val_accuracy"]
    assert last == pytest.approx(sum(f.history[-1]["val_accuracy"] for f in run.folds) / 3)


def test_a_diverging_fold_ends_the_run_as_diverged(wine) -> None:
    config = mlp_config(optimizer={"name": "sgd", "lr": 1e9}, training={"epochs": 5})
    run = CrossValidatedRun(config, wine, 2, seed=0)
    assert run.run() == "diverged"
    assert (
        len(run.history) < 5
        and math.isnan(run.history[-1]["val_accuracy"])
        or (not math.isfinite(run.history[-1]["val_loss"]))
    )


def test_the_time_limit_covers_all_folds_together(wine) -> None:
    run = CrossValidatedRun(CONFIG, wine, 3, seed=0, time_limit_s=0.0)
    assert run.run() == "timed_out"
    assert len(run.history) == 1


def test_a_restored_run_continues_exactly_where_it_stopped(wine) -> None:
    whole = CrossValidatedRun(CONFIG, wine, 3, seed=1)
    whole.run()
    first = CrossValidatedRun(CONFIG, wine, 3, seed=1)
    assert first.run(on_epoch=lambda epoch, _: epoch == 2) == "stopped"
    state = first.state_dict()
    second = CrossValidatedRun(CONFIG, wine, 3, seed=1)
    second.load_state_dict(state)
    assert second.run() == "completed"
    assert [row["val_loss"] for row in second.history] == pytest.approx(
        [row["val_loss"] for row in whole.history], rel=1e-6
    )


@pytest.mark.parametrize("k", [1, 0, True, 2.5, 10_000])
def test_a_bad_number_of_folds_is_refused(wine, k) -> None:
    with pytest.raises(ConfigError, match="k"):
        fold_splits(wine, k)


def test_folds_given_as_indices_are_the_ones_trained(wine) -> None:
    """A search's driver computes the folds once; its trials train exactly those."""
    given = fold_indices(wine, 3, seed=7)
    for built, split in zip(folds_of(wine, given), fold_splits(wine, 3, seed=7), strict=True):
        assert torch.equal(built.x_val, split.x_val) and torch.equal(built.y_train, split.y_train)
    computed = CrossValidatedRun(CONFIG, wine, 3, seed=7)
    passed = CrossValidatedRun(CONFIG, wine, 3, seed=7, indices=given)
    other = CrossValidatedRun(CONFIG, wine, 3, seed=7, indices=fold_indices(wine, 3, seed=8))
    for run in (computed, passed, other):
        assert run.run() == "completed"
    assert without_timings(passed.history) == without_timings(computed.history)
    assert other.history[-1]["val_loss"] != pytest.approx(computed.history[-1]["val_loss"])


def test_indices_for_another_number_of_folds_are_refused(wine) -> None:
    with pytest.raises(ConfigError) as caught:
        CrossValidatedRun(CONFIG, wine, 3, indices=fold_indices(wine, 4))
    assert caught.value.field == "indices"
