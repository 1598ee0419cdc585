"""Bad configs raise one automl_nn error naming the field, the value and what is valid."""

from __future__ import annotations

import pytest

from automl_nn import fit, load_dataset
from automl_nn.errors import AutomlNNError, ConfigError
from automl_nn.training import check_config

BAD_CONFIGS = [
    ({"optimizer": {"name": "sgdd"}}, "optimizer.name", "adamw"),
    ({"schedule": {"name": "warm_restarts"}}, "schedule.name", "one_cycle"),
    ({"loss": {"name": "kl"}}, "loss.name", "cross_entropy"),
    ({"model": {"family": "transformer"}}, "model.family", "mlp"),
    ({"model": {"family": "mlp", "activation": "swish"}}, "model.activation", "gelu"),
    ({"loss": {"name": "bce"}}, "loss.name", "10 classes"),
    ({"loss": {"name": "mse"}}, "loss.name", "cross_entropy"),
    ({"optimizer": {"name": "adam", "momentum": 0.9}}, "optimizer.momentum", "beta1"),
    ({"regularization": {"drop_out": 0.1}}, "regularization.drop_out", "dropout"),
    ({"training": {"epochs": 0}}, "training.epochs", ">= 1"),
    ({"training": {"batch_size": -4}}, "training.batch_size", ">= 1"),
    ({"optimizer": {"name": "sgd", "lr": -0.1}}, "optimizer.lr", "> 0.0"),
    ({"regularization": {"dropout": 1.5}}, "regularization.dropout", "< 1.0"),
    ({"schedule": {"name": "cyclic", "mode": "sawtooth"}}, "schedule.mode", "triangular2"),
    (
        {"regularization": {"augmentation": {"name": "image"}}},
        "regularization.augmentation.name",
        "sequence",
    ),
    (
        {"regularization": {"augmentation": {"name": "rotate"}}},
        "regularization.augmentation.name",
        "mixup",
    ),
    ({"trainer": {}}, "trainer", "regularization"),
    (
        {"schedule": {"name": "plateau", "replayed_scales": []}},
        "schedule.replayed_scales",
        "one per epoch",
    ),
    (
        {"schedule": {"name": "plateau", "replayed_scales": [1.0, 0.0]}},
        "schedule.replayed_scales[1]",
        "> 0.0",
    ),
    ({"schedule": {"name": "plateau", "replayed_scales": 0.5}}, "schedule.replayed_scales", "list"),
    (
        {"schedule": {"name": "cosine", "replayed_scales": [1.0]}},
        "schedule.replayed_scales",
        "min_lr",
    ),
]


@pytest.mark.parametrize(("config", "field", "valid_hint"), BAD_CONFIGS)
def test_bad_config_names_field_value_and_what_is_valid(config, field, valid_hint) -> None:
    data = load_dataset("mnist1d")
    with pytest.raises(ConfigError) as caught:
        fit(config, data)
    error = caught.value
    assert isinstance(error, AutomlNNError)
    assert error.field == field
    message = str(error)
    assert field in message and valid_hint in message


def test_check_config_fills_every_default() -> None:
    full = check_config({"optimizer": {"name": "sgd"}}, load_dataset("wine"))
    assert full["optimizer"] == {"name": "sgd", "lr": 0.01, "momentum": 0.0, "nesterov": False}
    assert full["schedule"]["name"] == "constant" and full["loss"]["name"] == "cross_entropy"
    assert full["regularization"]["augmentation"] == {"name": "none"}


def test_regression_defaults_to_mse() -> None:
    assert check_config({}, load_dataset("diabetes"))["loss"]["name"] == "mse"
