"""fit(): metrics, statuses, callbacks, determinism, evaluate and cross-validation."""

from __future__ import annotations

import math

import pytest
import torch

from automl_nn import FitResult, cross_validate, evaluate, fit
from automl_nn.training import predict
from tests.training.conftest import mlp_config, without_timings

CLASSIFICATION_KEYS = {
    "epoch", "train_loss", "val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1",
    "val_log_loss", "lr", "epoch_seconds", "samples_per_second",
}  # fmt: skip


def test_every_epoch_reports_the_classification_metrics(wine) -> None:
    result = fit(mlp_config(), wine)
    assert isinstance(result, FitResult)
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert all(set(row) == CLASSIFICATION_KEYS for row in result.history)
    assert set(result.metrics) == {k for k in CLASSIFICATION_KEYS if k.startswith("val_")}
    assert result.num_parameters == sum(p.numel() for p in result.model.parameters())
    assert result.status == "completed" and not result.model.training


def test_regression_reports_mse_mae_r2_in_original_units(tiny_regression) -> None:
    config = mlp_config(loss={"name": "mse"}, training={"batch_size": 16, "epochs": 30})
    result = fit(config, tiny_regression)
    assert {"val_mse", "val_mae", "val_r2", "val_loss"} <= set(result.metrics)
    assert result.metrics["val_r2"] > 0.5
    units = tiny_regression.target_std**2
    assert result.metrics["val_mse"] == pytest.approx(result.metrics["val_loss"] * units, rel=1e-4)


def test_training_learns(wine) -> None:
    result = fit(mlp_config(training={"batch_size": 16, "epochs": 15}), wine)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.metrics["val_accuracy"] > 0.9


def test_same_config_and_seed_give_identical_histories(wine) -> None:
    config = mlp_config(regularization={"dropout": 0.3, "augmentation": {"name": "mixup"}})
    first, second = fit(config, wine, seed=3), fit(config, wine, seed=3)
    assert without_timings(first.history) == without_timings(second.history)
    other = fit(config, wine, seed=4)
    assert without_timings(other.history) != without_timings(first.history)


def test_a_run_draws_from_its_own_random_state_whatever_happens_between_its_epochs(wine) -> None:
    from automl_nn.training import TrainingRun

    config = mlp_config(regularization={"dropout": 0.5}, training={"epochs": 4})
    alone = fit(config, wine, seed=3)
    interleaved, other = TrainingRun(config, wine, seed=3), TrainingRun(config, wine, seed=4)
    for _ in range(4):  # another run, and the caller's own draws, between every epoch
        interleaved.run_epoch()
        other.run_epoch()
        torch.rand(100)
    assert without_timings(interleaved.history) == without_timings(alone.history)
    assert without_timings(other.history) != without_timings(alone.history)


def test_a_run_leaves_the_callers_random_state_as_it_was(wine) -> None:
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    fit(mlp_config(regularization={"dropout": 0.5}), wine, seed=0)
    assert torch.equal(torch.rand(5), expected)


def test_on_epoch_sees_every_epoch_and_can_stop_the_run(wine) -> None:
    seen: list[tuple[int, str]] = []

    def stop_after_two(epoch: int, metrics: dict) -> bool:
        seen.append((epoch, metrics["status"]))
        return epoch == 2

    result = fit(
        mlp_config(training={"batch_size": 16, "epochs": 5}), wine, on_epoch=stop_after_two
    )
    assert seen == [(1, "running"), (2, "running")]
    assert result.status == "stopped" and len(result.history) == 2


def test_on_epoch_sees_the_final_status_on_the_last_epoch(wine) -> None:
    statuses: list[str] = []
    fit(mlp_config(), wine, on_epoch=lambda epoch, m: statuses.append(m["status"]))
    assert statuses == ["running", "running", "completed"]


def test_a_diverging_loss_ends_the_run_cleanly(wine) -> None:
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 1e12}, training={"batch_size": 8, "epochs": 10}
    )
    result = fit(config, wine)
    assert result.status == "diverged"
    assert len(result.history) < 10
    last = result.history[-1]
    assert not (math.isfinite(last["train_loss"]) and math.isfinite(last["val_loss"]))


def test_early_stopping_stops_after_patience_epochs_without_gain(wine) -> None:
    # A vanishing learning rate leaves the validation loss flat from the first epoch.
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 1e-12},
        regularization={"early_stopping": 2},
        training={"batch_size": 16, "epochs": 20},
    )
    result = fit(config, wine)
    assert result.status == "early_stopping"
    assert len(result.history) == 3


def test_evaluate_returns_plain_metric_names(wine) -> None:
    result = fit(mlp_config(), wine)
    test_metrics = evaluate(result.model, wine, "test", loss={"name": "cross_entropy"})
    assert set(test_metrics) == {"loss", "accuracy", "precision", "recall", "f1", "log_loss"}
    val_metrics = evaluate(result.model, wine, "val")
    assert val_metrics["accuracy"] == pytest.approx(result.metrics["val_accuracy"])
    assert val_metrics["log_loss"] == pytest.approx(result.metrics["val_log_loss"])


def test_bce_trains_a_single_logit_on_binary_data(tiny_sequences) -> None:
    result = fit(mlp_config(loss={"name": "bce"}), tiny_sequences)
    assert predict(result.model, tiny_sequences.x_val[:3]).shape == (3, 1)
    assert 0.0 <= result.metrics["val_accuracy"] <= 1.0


def test_cross_validate_uses_k_stratified_folds_of_train_and_val(wine) -> None:
    cv = cross_validate(mlp_config(training={"batch_size": 16, "epochs": 2}), wine, k=3)
    assert len(cv.folds) == 3
    accuracies = [fold["val_accuracy"] for fold in cv.folds]
    assert cv.mean["val_accuracy"] == pytest.approx(sum(accuracies) / 3)
    assert cv.std["val_accuracy"] >= 0


def test_cross_validate_of_a_diverging_config_is_nan_not_an_error(tiny_regression) -> None:
    config = mlp_config(optimizer={"name": "sgd", "lr": 1e9}, training={"epochs": 3})
    cv = cross_validate(config, tiny_regression, k=2)
    assert math.isnan(cv.mean["val_mse"]) and math.isnan(cv.std["val_mse"])


def test_cross_validate_never_touches_the_test_split(wine, monkeypatch) -> None:
    import automl_nn.training._cross_validate as module

    seen_sizes: list[int] = []
    real_fit = module.fit

    def recording_fit(config, data, **kwargs):
        seen_sizes.append(len(data.y_train) + len(data.y_val))
        assert torch.equal(data.x_test, wine.x_test)
        return real_fit(config, data, **kwargs)

    monkeypatch.setattr(module, "fit", recording_fit)
    cross_validate(mlp_config(training={"batch_size": 16, "epochs": 1}), wine, k=2)
    assert seen_sizes == [len(wine.y_train) + len(wine.y_val)] * 2


def test_a_run_restored_from_its_state_continues_exactly(wine, tmp_path) -> None:
    from automl_nn.training import TrainingRun

    config = mlp_config(
        schedule={"name": "plateau", "patience": 0},
        regularization={"dropout": 0.2, "augmentation": {"name": "noise"}},
        training={"batch_size": 16, "epochs": 4},
    )
    whole = TrainingRun(config, wine, seed=1)
    whole.run()
    first_half = TrainingRun(config, wine, seed=1)
    first_half.run(on_epoch=lambda epoch, metrics: epoch == 2)
    path = tmp_path / "state.pt"
    torch.save(first_half.state_dict(), path)
    resumed = TrainingRun(config, wine, seed=99)
    resumed.load_state_dict(torch.load(path, weights_only=True))
    assert resumed.run() == "completed"
    assert without_timings(resumed.history) == without_timings(whole.history)


def test_a_time_limit_ends_the_run_between_batches_as_timed_out(wine) -> None:
    from automl_nn.training import TrainingRun

    # A limit of zero has passed after the first batch, however fast the machine is.
    run = TrainingRun(mlp_config(training={"batch_size": 1, "epochs": 50}), wine, time_limit_s=0.0)
    assert run.run() == "timed_out"
    assert len(run.history) == 1  # the first epoch was cut short and still validated
    assert "val_accuracy" in run.history[0]
