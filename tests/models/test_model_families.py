"""Behaviour particular to each built-in model family."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from automl_nn.errors import ConfigError
from automl_nn.models import build_model, check_model_config, count_parameters
from automl_nn.models._resnet import ResidualBlock


def modules_of(model: nn.Module, cls: type[nn.Module]) -> list[nn.Module]:
    return [module for module in model.modules() if isinstance(module, cls)]


def output_sizes(model: nn.Module, cls: type[nn.Module], x: torch.Tensor) -> list[tuple]:
    """Shapes (without the batch dim) of every ``cls`` module's output in one forward."""
    sizes: list[tuple] = []
    for module in modules_of(model, cls):
        module.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape[1:])))
    model(x)
    return sizes


# mlp


def test_mlp_widths_list_sets_every_hidden_layer(make_task) -> None:
    model = build_model({"family": "mlp", "widths": [64, 16, 8], "depth": 5}, make_task((13,)))
    linears = modules_of(model, nn.Linear)
    assert [(m.in_features, m.out_features) for m in linears] == [
        (13, 64),
        (64, 16),
        (16, 8),
        (8, 3),
    ]


def test_mlp_depth_and_width_without_widths(make_task) -> None:
    model = build_model({"family": "mlp", "depth": 3, "width": 10}, make_task((13,)))
    assert [m.out_features for m in modules_of(model, nn.Linear)] == [10, 10, 10, 3]


def test_mlp_flattens_images(make_task) -> None:
    model = build_model({"family": "mlp", "widths": [4]}, make_task((2, 3, 5), "regression"))
    assert modules_of(model, nn.Linear)[0].in_features == 30
    assert count_parameters(model) == 30 * 4 + 4 + 4 * 1 + 1


@pytest.mark.parametrize("widths", [[], [8, 0], "64", [2.5]])
def test_mlp_rejects_bad_widths(widths) -> None:
    with pytest.raises(ConfigError, match=r"model\.widths = "):
        check_model_config({"family": "mlp", "widths": widths}, (13,))


def test_mlp_widths_are_normalized_to_int_list() -> None:
    checked = check_model_config({"family": "mlp", "widths": (32.0, 16)}, (13,))
    assert checked["widths"] == [32, 16]
    assert all(type(width) is int for width in checked["widths"])


# cnn


@pytest.mark.parametrize(
    ("shape", "conv", "other"),
    [((2, 40), nn.Conv1d, nn.Conv2d), ((3, 8, 8), nn.Conv2d, nn.Conv1d)],
)
def test_cnn_picks_conv_dimension_from_input_rank(make_task, shape, conv, other) -> None:
    model = build_model({"family": "cnn", "depth": 2}, make_task(shape))
    assert len(modules_of(model, conv)) == 2
    assert not modules_of(model, other)
    assert modules_of(model, conv)[0].in_channels == shape[0]


def test_cnn_dilation_growth_multiplies_dilation_per_layer(make_task) -> None:
    config = {"family": "cnn", "depth": 3, "dilation": 2, "dilation_growth": 3}
    model = build_model(config, make_task((1, 40)))
    assert [m.dilation for m in modules_of(model, nn.Conv1d)] == [(2,), (6,), (18,)]
    plain = build_model({"family": "cnn", "depth": 3}, make_task((1, 40)))
    assert [m.dilation for m in modules_of(plain, nn.Conv1d)] == [(1,), (1,), (1,)]


@pytest.mark.parametrize("shape", [(1, 40), (1, 8, 8)])
def test_cnn_padding_keeps_the_spatial_size(make_task, shape) -> None:
    config = {"family": "cnn", "depth": 3, "kernel_size": 5, "dilation": 2, "dilation_growth": 2}
    model = build_model(config, make_task(shape))
    conv = nn.Conv1d if len(shape) == 2 else nn.Conv2d
    assert [size[1:] for size in output_sizes(model, conv, torch.randn(2, *shape))] == [
        shape[1:]
    ] * 3


@pytest.mark.parametrize(
    ("pooling", "present", "absent"),
    [
        ("max", nn.MaxPool1d, nn.AvgPool1d),
        ("avg", nn.AvgPool1d, nn.MaxPool1d),
    ],
)
def test_cnn_pooling_choice_picks_the_layer_type(make_task, pooling, present, absent) -> None:
    model = build_model({"family": "cnn", "depth": 3, "pooling": pooling}, make_task((1, 40)))
    assert len(modules_of(model, present)) == 3
    assert not modules_of(model, absent)


def test_cnn_without_pooling_has_no_pooling_layers(make_task) -> None:
    model = build_model({"family": "cnn", "pooling": "none"}, make_task((1, 8, 8)))
    assert not modules_of(model, nn.MaxPool2d) and not modules_of(model, nn.AvgPool2d)


@pytest.mark.parametrize(("shape", "pools"), [((1, 3), 1), ((1, 8, 8), 3), ((1, 8, 1), 0)])
def test_cnn_pooling_stops_before_a_dimension_would_vanish(make_task, shape, pools) -> None:
    model = build_model({"family": "cnn", "depth": 6, "pooling": "max"}, make_task(shape))
    pool = nn.MaxPool1d if len(shape) == 2 else nn.MaxPool2d
    assert len(modules_of(model, pool)) == pools
    assert model(torch.randn(2, *shape)).shape == (2, 3)


def test_cnn_stride_halves_the_length_and_never_reaches_zero(make_task) -> None:
    model = build_model({"family": "cnn", "depth": 8, "stride": 2}, make_task((1, 40)))
    lengths = [size[1] for size in output_sizes(model, nn.Conv1d, torch.randn(2, 1, 40))]
    assert lengths == [20, 10, 5, 3, 2, 1, 1, 1]


def test_cnn_channel_growth_multiplies_channels_per_layer(make_task) -> None:
    config = {"family": "cnn", "depth": 3, "channels": 8, "channel_growth": 2.0}
    model = build_model(config, make_task((1, 40)))
    assert [m.out_channels for m in modules_of(model, nn.Conv1d)] == [8, 16, 32]


@pytest.mark.parametrize(
    ("global_pool", "features", "pool_class"),
    [("avg", 8, nn.AdaptiveAvgPool1d), ("max", 8, nn.AdaptiveMaxPool1d), ("flatten", 8 * 5, None)],
)
def test_cnn_global_pool_sets_the_head_input(make_task, global_pool, features, pool_class) -> None:
    config = {"family": "cnn", "depth": 3, "channels": 8, "stride": 2, "global_pool": global_pool}
    model = build_model(config, make_task((1, 40)))
    assert modules_of(model, nn.Linear)[-1].in_features == features
    adaptive = (nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d)
    assert [type(m) for m in modules_of(model, adaptive)] == ([pool_class] if pool_class else [])
    assert model(torch.randn(2, 1, 40)).shape == (2, 3)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("kernel_size", 4),
        ("channel_growth", 0),
        ("channel_growth", float("nan")),
        ("pooling", "min"),
        ("global_pool", "sum"),
    ],
)
def test_cnn_rejects_out_of_range_values(key, value) -> None:
    with pytest.raises(ConfigError, match=rf"model\.{key} = "):
        check_model_config({"family": "cnn", key: value}, (1, 40))


# resnet


def test_resnet_stages_double_channels_and_halve_length(make_task) -> None:
    config = {"family": "resnet", "stages": 3, "blocks": 2, "channels": 8}
    model = build_model(config, make_task((1, 40)))
    blocks = modules_of(model, ResidualBlock)
    assert len(blocks) == 6
    sizes = output_sizes(model, ResidualBlock, torch.randn(2, 1, 40))
    assert sizes == [(8, 40), (8, 40), (16, 20), (16, 20), (32, 10), (32, 10)]
    assert modules_of(model, nn.Linear)[-1].in_features == 32


def test_resnet_projects_the_shortcut_only_where_the_shape_changes(make_task) -> None:
    model = build_model({"family": "resnet", "stages": 2, "blocks": 2}, make_task((1, 8, 8)))
    shortcuts = [block.shortcut for block in modules_of(model, ResidualBlock)]
    assert [isinstance(shortcut, nn.Identity) for shortcut in shortcuts] == [
        True,
        True,
        False,
        True,
    ]
    projection = modules_of(shortcuts[2], nn.Conv2d)[0]
    assert projection.kernel_size == (1, 1) and projection.stride == (2, 2)


def test_resnet_block_adds_the_input_back(make_task) -> None:
    model = build_model({"family": "resnet", "stages": 1, "blocks": 1}, make_task((1, 40)))
    block = modules_of(model, ResidualBlock)[0]
    with torch.no_grad():
        for parameter in block.branch.parameters():
            parameter.zero_()
    x = torch.randn(2, 32, 40)
    # With the branch silenced the block is activation(x): only the skip path carries x.
    assert torch.equal(block(x), torch.relu(x))


def test_resnet_stride_never_shrinks_below_one(make_task) -> None:
    model = build_model({"family": "resnet", "stages": 5, "blocks": 1}, make_task((1, 3, 2)))
    sizes = output_sizes(model, ResidualBlock, torch.randn(2, 1, 3, 2))
    assert [size[1:] for size in sizes] == [(3, 2), (2, 1), (1, 1), (1, 1), (1, 1)]


def test_resnet_rejects_even_kernel_size() -> None:
    with pytest.raises(ConfigError, match=r"model\.kernel_size = 2 .*odd"):
        check_model_config({"family": "resnet", "kernel_size": 2}, (1, 40))
