"""log_loss: one measure of a classifier's outputs, whatever loss it trained with."""

from __future__ import annotations

import math

import pytest
import torch

from automl_nn import evaluate, fit
from automl_nn.training import log_loss, predict
from tests.training.conftest import mlp_config


def test_log_loss_is_cross_entropy_of_softmax_outputs() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    targets = torch.tensor([0, 2])
    expected = torch.nn.functional.cross_entropy(logits, targets)
    assert log_loss(logits, targets) == pytest.approx(float(expected))


def test_log_loss_of_one_logit_is_that_of_its_sigmoid() -> None:
    one_logit = torch.tensor([[2.0], [-1.0]])
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(1.0))) / 2
    assert log_loss(one_logit, torch.tensor([1, 1])) == pytest.approx(expected)


def test_val_log_loss_ignores_the_training_loss_where_val_loss_does_not(wine) -> None:
    hinge = fit(mlp_config(loss={"name": "hinge"}), wine)
    outputs = torch.nn.functional.cross_entropy(predict(hinge.model, wine.x_val), wine.y_val)
    assert hinge.metrics["val_log_loss"] == pytest.approx(float(outputs), rel=1e-5)
    assert hinge.history[-1]["val_loss"] != pytest.approx(hinge.metrics["val_log_loss"])


def test_a_diverged_model_has_a_nan_log_loss(wine) -> None:
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 1e12}, training={"batch_size": 8, "epochs": 10}
    )
    result = fit(config, wine)
    assert math.isnan(evaluate(result.model, wine, "val")["log_loss"])
