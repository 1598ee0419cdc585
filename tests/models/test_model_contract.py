"""The contract every registered model family passes, parametrized over the registry.

A family that registers is tested here for every input rank it claims to support.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from automl_nn.errors import ConfigError
from automl_nn.models import (
    build_model,
    check_model_config,
    list_model_families,
    model_family_defaults,
)
from automl_nn.tracking._model_format import traced_problem
from automl_nn.vocabulary import ACTIVATIONS

INPUT_SHAPES: dict[int, tuple[int, ...]] = {1: (13,), 2: (1, 40), 3: (1, 8, 8)}
BATCH = 4

# Written out here, not taken from the package, so that a wrong mapping there fails a test.
ACTIVATION_CLASSES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}

SUPPORTED = [
    pytest.param(family, shape, id=f"{family}-rank{rank}")
    for rank, shape in INPUT_SHAPES.items()
    for family in list_model_families(input_rank=rank)
]
UNSUPPORTED = [
    pytest.param(family, shape, id=f"{family}-rank{rank}")
    for rank, shape in INPUT_SHAPES.items()
    for family in sorted(set(list_model_families()) - set(list_model_families(input_rank=rank)))
]
INTEGER_KEYS = [
    pytest.param(family, key, id=f"{family}-{key}")
    for family in list_model_families()
    for key, default in model_family_defaults(family).items()
    if isinstance(default, int) and not isinstance(default, bool)
]


def supported_shape(family: str) -> tuple[int, ...]:
    """The first of INPUT_SHAPES that ``family`` fits."""
    return next(
        shape
        for rank, shape in INPUT_SHAPES.items()
        if family in list_model_families(input_rank=rank)
    )


def test_every_family_fits_some_input_rank() -> None:
    fitting = {family for family, _ in (param.values for param in SUPPORTED)}
    assert fitting == set(list_model_families())


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
def test_defaults_are_filled_in(family: str, shape: tuple[int, ...]) -> None:
    checked = check_model_config({"family": family}, shape)
    assert checked == {"family": family, **model_family_defaults(family)}


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
@pytest.mark.parametrize(
    ("kind", "num_classes", "outputs"),
    [("multiclass", 5, 5), ("binary", 2, 2), ("regression", None, 1)],
)
def test_output_is_batch_by_num_outputs(
    make_task, family, shape, kind, num_classes, outputs
) -> None:
    model = build_model({"family": family}, make_task(shape, kind, num_classes))
    assert model(torch.randn(BATCH, *shape)).shape == (BATCH, outputs)
    explicit = build_model({"family": family}, make_task(shape), num_outputs=7)
    assert explicit(torch.randn(BATCH, *shape)).shape == (BATCH, 7)


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
@pytest.mark.parametrize("batch_norm", [False, True])
def test_backward_gives_finite_gradients_on_every_parameter(
    make_task, family, shape, batch_norm
) -> None:
    model = build_model({"family": family}, make_task(shape), dropout=0.2, batch_norm=batch_norm)
    model(torch.randn(BATCH, *shape)).square().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
def test_dropout_is_active_in_train_mode_only(make_task, family, shape) -> None:
    model = build_model({"family": family}, make_task(shape), dropout=0.5)
    x = torch.randn(BATCH, *shape)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
def test_without_dropout_train_mode_is_deterministic(make_task, family, shape) -> None:
    model = build_model({"family": family}, make_task(shape), dropout=0.0).train()
    x = torch.randn(BATCH, *shape)
    assert torch.equal(model(x), model(x))
    assert not any(isinstance(module, nn.Dropout) for module in model.modules())


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
def test_torch_export_traces_it_for_any_batch_size(make_task, family, shape) -> None:
    """What logging it to MLflow in the pt2 format (automl_nn.tracking) relies on."""
    model = build_model({"family": family}, make_task(shape), dropout=0.2, batch_norm=True)
    example = torch.randn(BATCH, *shape).numpy()
    assert traced_problem(model.eval(), example) is None


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
def test_batch_norm_layers_only_when_asked(make_task, family, shape) -> None:
    def has_batch_norm(model: nn.Module) -> bool:
        return any(
            isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) for module in model.modules()
        )

    assert not has_batch_norm(build_model({"family": family}, make_task(shape)))
    assert has_batch_norm(build_model({"family": family}, make_task(shape), batch_norm=True))


def test_activation_classes_cover_the_vocabulary() -> None:
    assert set(ACTIVATION_CLASSES) == set(ACTIVATIONS)


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_is_built_and_used(make_task, family, shape, activation) -> None:
    model = build_model({"family": family, "activation": activation}, make_task(shape))
    expected = ACTIVATION_CLASSES[activation]
    others = tuple(cls for name, cls in ACTIVATION_CLASSES.items() if name != activation)
    calls: list[str] = []
    for module in model.modules():
        assert not isinstance(module, others), f"{type(module).__name__} in a {activation} model"
        if isinstance(module, expected):
            module.register_forward_hook(lambda *_: calls.append(activation))
    model(torch.randn(BATCH, *shape))
    assert calls


@pytest.mark.parametrize(("family", "shape"), SUPPORTED)
def test_construction_is_deterministic_under_manual_seed(make_task, family, shape) -> None:
    def weights(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        return list(build_model({"family": family}, make_task(shape)).state_dict().values())

    first, again, other = weights(0), weights(0), weights(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize(("family", "shape"), UNSUPPORTED)
def test_unsupported_input_rank_is_rejected(make_task, family, shape) -> None:
    with pytest.raises(ConfigError, match="model.family") as error:
        build_model({"family": family}, make_task(shape))
    assert error.value.value == family


@pytest.mark.parametrize("family", list_model_families())
def test_unknown_key_is_rejected(family: str) -> None:
    with pytest.raises(ConfigError, match=r"model\.bogus .*expected a key of family"):
        check_model_config({"family": family, "bogus": 1}, supported_shape(family))


@pytest.mark.parametrize("family", list_model_families())
def test_unknown_activation_is_rejected(family: str) -> None:
    with pytest.raises(ConfigError, match=r"model\.activation = 'swish'.*relu"):
        check_model_config({"family": family, "activation": "swish"}, supported_shape(family))


@pytest.mark.parametrize(("family", "key"), INTEGER_KEYS)
@pytest.mark.parametrize("value", [0, -1, 2.5, "3", True])
def test_integer_keys_reject_values_that_are_not_positive_integers(family, key, value) -> None:
    with pytest.raises(ConfigError, match=rf"model\.{key} = "):
        check_model_config({"family": family, key: value}, supported_shape(family))
