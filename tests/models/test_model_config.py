"""check_model_config, build_model's arguments and the registry itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from automl_nn.errors import ConfigError, DataError
from automl_nn.models import (
    _registry,
    build_model,
    check_model_config,
    count_parameters,
    list_model_families,
    model_family_defaults,
    register_model_family,
)
from automl_nn.models._rules import positive_int


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made in a test vanish after it."""
    monkeypatch.setattr(_registry, "_FAMILIES", dict(_registry._FAMILIES))


def test_built_in_families_are_registered() -> None:
    assert {"mlp", "cnn", "resnet"} <= set(list_model_families())
    assert list_model_families() == sorted(list_model_families())


def test_families_filtered_by_input_rank() -> None:
    assert "mlp" in list_model_families(input_rank=1)
    assert "cnn" not in list_model_families(input_rank=1)
    assert {"mlp", "cnn", "resnet"} <= set(list_model_families(input_rank=3))


def test_model_family_defaults_is_a_copy() -> None:
    defaults = model_family_defaults("cnn")
    defaults["depth"] = 99
    assert model_family_defaults("cnn")["depth"] == 3


@pytest.mark.parametrize("config", [{}, {"family": "transformer"}, {"family": None}])
def test_missing_or_unknown_family_names_the_field_and_the_families(config) -> None:
    with pytest.raises(
        ConfigError, match=r"model\.family = .*one of cell, chain, cnn, mlp, resnet"
    ):
        check_model_config(config, (13,))


def test_model_config_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^model = 'mlp'"):
        check_model_config("mlp", (13,))


def test_unknown_key_lists_the_valid_keys() -> None:
    with pytest.raises(ConfigError) as error:
        check_model_config({"family": "mlp", "channels": 8}, (13,))
    assert error.value.field == "model.channels"
    assert "activation, depth, family, width, widths" in str(error.value)


def test_family_on_wrong_input_rank_says_which_inputs_fit() -> None:
    with pytest.raises(ConfigError) as error:
        check_model_config({"family": "cnn"}, (13,))
    message = str(error.value)
    assert error.value.field == "model.family"
    assert "tabular" in message and "one of chain, mlp" in message
    assert "sequence (C, L), image (C, H, W)" in message


@pytest.mark.parametrize("shape", [(), (0, 5), (3, -1), "13", (2.5,)])
def test_bad_input_shape_is_a_data_error(shape) -> None:
    with pytest.raises(DataError, match="input_shape"):
        check_model_config({"family": "mlp"}, shape)


def test_check_does_not_mutate_and_normalizes_numbers() -> None:
    config = {"family": "cnn", "depth": 4.0, "channels": np.int64(16)}
    checked = check_model_config(config, (1, 40))
    assert config == {"family": "cnn", "depth": 4.0, "channels": np.int64(16)}
    assert type(checked["depth"]) is int and checked["depth"] == 4
    assert type(checked["channels"]) is int and checked["channels"] == 16
    assert checked["kernel_size"] == 3  # a default filled in


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dropout": 1.0}, "regularization.dropout"),
        ({"dropout": -0.1}, "regularization.dropout"),
        ({"dropout": "0.1"}, "regularization.dropout"),
        ({"batch_norm": 1}, "regularization.batch_norm"),
        ({"num_outputs": 0}, "num_outputs"),
    ],
)
def test_build_model_rejects_bad_arguments(make_task, kwargs, field) -> None:
    with pytest.raises(ConfigError) as error:
        build_model({"family": "mlp"}, make_task((13,)), **kwargs)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("kind", "num_classes", "field"),
    [("ranking", 3, "task.kind"), ("multiclass", None, "task.num_classes")],
)
def test_build_model_rejects_a_bad_task(make_task, kind, num_classes, field) -> None:
    with pytest.raises(DataError) as error:
        build_model({"family": "mlp"}, make_task((13,), kind, num_classes))
    assert error.value.field == field


def test_count_parameters_counts_every_weight_and_bias(make_task) -> None:
    model = build_model({"family": "mlp", "widths": [4]}, make_task((13,), "binary", 2))
    assert count_parameters(model) == (13 * 4 + 4) + (4 * 2 + 2)
    assert count_parameters(nn.Sequential()) == 0


def test_a_registered_family_is_checked_and_built(scratch_registry, make_task) -> None:
    @register_model_family(
        "linear", defaults={"scale": 1}, input_ranks=(1,), rules={"scale": positive_int}
    )
    def build_linear(config, input_shape, num_outputs, dropout, batch_norm) -> nn.Module:
        return nn.Linear(input_shape[0] * config["scale"], num_outputs)

    assert "linear" in list_model_families(input_rank=1)
    assert check_model_config({"family": "linear"}, (5,)) == {"family": "linear", "scale": 1}
    with pytest.raises(ConfigError, match=r"model\.scale"):
        check_model_config({"family": "linear", "scale": 0}, (5,))
    model = build_model({"family": "linear"}, make_task((5,)))
    assert model(torch.randn(2, 5)).shape == (2, 3)


def test_registering_a_taken_name_fails(scratch_registry) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_model_family("mlp", defaults={}, input_ranks=(1,))


def test_registering_a_key_without_a_rule_fails(scratch_registry) -> None:
    with pytest.raises(ValueError, match="keys without a rule: width"):
        register_model_family("wide", defaults={"width": 8}, input_ranks=(1,))


def test_registering_a_bad_default_fails(scratch_registry) -> None:
    decorator = register_model_family(
        "broken", defaults={"depth": 0}, input_ranks=(1,), rules={"depth": positive_int}
    )
    with pytest.raises(ConfigError, match=r"model\.depth = 0"):
        decorator(lambda *args: nn.Identity())
    assert "broken" not in list_model_families()
