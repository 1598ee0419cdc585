"""Behaviour particular to the NAS families ``chain`` and ``cell``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import torch
from torch import nn

from automl_nn.errors import ConfigError
from automl_nn.models import build_model, check_model_config, count_parameters
from automl_nn.models._cell import EDGE_OPS, Cell, live_edges
from automl_nn.models._chain import ResidualLinearBlock
from automl_nn.models._resnet import ResidualBlock
from automl_nn.tracking._model_format import traced_problem


def modules_of(model: nn.Module, cls: type[nn.Module] | tuple[type[nn.Module], ...]) -> list:
    return [module for module in model.modules() if isinstance(module, cls)]


def chain(*layers: dict[str, Any], stem_channels: int = 8) -> dict[str, Any]:
    return {"family": "chain", "stem_channels": stem_channels, "layers": list(layers)}


def cell(edges: list[str], **keys: Any) -> dict[str, Any]:
    return {
        "family": "cell",
        "channels": 4,
        "cells_per_stage": 1,
        "stages": 1,
        "edges": edges,
        **keys,
    }


def is_conv(kernel_size: int, dilation: int = 1) -> Any:
    def check(layer: nn.Module) -> bool:
        convs = modules_of(layer, (nn.Conv1d, nn.Conv2d))
        return (
            len(convs) == 1
            and convs[0].kernel_size[0] == kernel_size
            and convs[0].dilation[0] == dilation
        )

    return check


def is_separable(layer: nn.Module) -> bool:
    depthwise, pointwise = modules_of(layer, (nn.Conv1d, nn.Conv2d))
    return depthwise.groups == depthwise.in_channels == 8 and pointwise.kernel_size[0] == 1


# op -> a check of the module built for it, on sequences and images.
SPATIAL_OPS = {
    "conv3": is_conv(3),
    "conv5": is_conv(5),
    "conv7": is_conv(7),
    "dilconv3": is_conv(3, dilation=2),
    "sepconv3": is_separable,
    "residual": lambda layer: isinstance(layer, ResidualBlock),
    "skip": lambda layer: isinstance(layer, nn.Identity),
    "maxpool": lambda layer: isinstance(layer, (nn.MaxPool1d, nn.MaxPool2d)),
    "avgpool": lambda layer: isinstance(layer, (nn.AvgPool1d, nn.AvgPool2d)),
}
TABULAR_OPS = {
    "linear": lambda layer: [m.out_features for m in modules_of(layer, nn.Linear)] == [16],
    "residual": lambda layer: isinstance(layer, ResidualLinearBlock),
    "skip": lambda layer: isinstance(layer, nn.Identity),
}
WIDTHLESS = {"skip", "maxpool", "avgpool"}


def layer_of(op: str) -> dict[str, Any]:
    return {"op": op} if op in WIDTHLESS else {"op": op, "width": 16}


def output_shapes(model: nn.Module, modules: list[nn.Module], x: torch.Tensor) -> list[tuple]:
    shapes: list[tuple] = []
    for module in modules:
        module.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
    model(x)
    return shapes


# -- chain --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "shape"),
    [(op, shape) for op in SPATIAL_OPS for shape in [(2, 12), (2, 6, 6)]]
    + [(op, (5,)) for op in TABULAR_OPS],
)
def test_chain_builds_each_op_and_uses_it(make_task, op: str, shape: tuple[int, ...]) -> None:
    checks = TABULAR_OPS if len(shape) == 1 else SPATIAL_OPS
    model = build_model(chain(layer_of(op)), make_task(shape))
    (layer,) = model.layers
    assert checks[op](layer)
    out_channels = 8 if op in WIDTHLESS else 16
    expected_spatial = tuple(size // 2 for size in shape[1:]) if op.endswith("pool") else shape[1:]
    assert output_shapes(model, [layer], torch.randn(3, *shape)) == [
        (out_channels, *expected_spatial)
    ]
    assert modules_of(model.head, nn.Linear)[-1].in_features == out_channels


def test_chain_has_one_module_per_layer_and_none_beyond(make_task) -> None:
    layers = [layer_of(op) for op in ["conv5", "skip", "maxpool", "sepconv3", "residual"]]
    models = [
        build_model(chain(*layers[:depth]), make_task((1, 40))) for depth in range(len(layers) + 1)
    ]
    assert [len(model.layers) for model in models] == list(range(len(layers) + 1))
    counts = [count_parameters(model) for model in models]
    # conv5 adds weights, skip and pooling add none, sepconv3 adds some again
    assert counts[0] < counts[1] == counts[2] == counts[3] < counts[4]


def test_chain_pooling_never_shrinks_below_one(make_task) -> None:
    model = build_model(chain(*[{"op": "maxpool"}, {"op": "avgpool"}] * 3), make_task((1, 5)))
    pools = modules_of(model.layers, (nn.MaxPool1d, nn.AvgPool1d))
    assert len(pools) == 2  # 5 -> 2 -> 1, then the identity
    assert len(modules_of(model.layers, nn.Identity)) == 4
    assert model(torch.randn(2, 1, 5)).shape == (2, 3)


def test_chain_of_no_layers_is_stem_and_head(make_task) -> None:
    model = build_model(chain(), make_task((1, 40)))
    assert len(model.layers) == 0 and model(torch.randn(2, 1, 40)).shape == (2, 3)


@pytest.mark.parametrize(
    ("op", "shape", "valid"),
    [
        ("conv3", (13,), "tabular input: one of linear, residual, skip"),
        ("maxpool", (13,), "tabular input"),
        ("linear", (1, 40), "sequence input: one of avgpool, conv3, conv5"),
        ("linear", (1, 8, 8), "image input"),
    ],
)
def test_chain_op_that_does_not_fit_the_input_is_a_config_error(
    make_task, op, shape, valid
) -> None:
    config = chain({"op": "skip"}, layer_of(op))
    for check in (
        lambda: check_model_config(config, shape),
        lambda: build_model(config, make_task(shape)),
    ):
        with pytest.raises(ConfigError) as error:
            check()
        assert (error.value.field, error.value.value) == ("model.layers[1].op", op)
        assert valid in error.value.expected


@pytest.mark.parametrize(
    ("layers", "field", "expected"),
    [
        ("conv3", "model.layers", "a list of layers"),
        (["conv3"], "model.layers[0]", "a mapping with an op"),
        ([{"width": 16}], "model.layers[0]", "a mapping with an op"),
        ([{"op": "conv9", "width": 16}], "model.layers[0].op", "one of avgpool, conv3"),
        ([{"op": "skip"}, {"op": "conv3"}], "model.layers[1].width", "an integer >= 1"),
        ([{"op": "conv3", "width": 0}], "model.layers[0].width", "an integer >= 1"),
        ([{"op": "conv3", "width": 2.5}], "model.layers[0].width", "an integer >= 1"),
        ([{"op": "skip", "width": 16}], "model.layers[0].width", "a key of op 'skip': one of op"),
        ([{"op": "conv3", "width": 8, "kernel": 3}], "model.layers[0].kernel", "one of op, width"),
    ],
)
def test_chain_layers_are_validated(layers, field, expected) -> None:
    with pytest.raises(ConfigError) as error:
        check_model_config({"family": "chain", "layers": layers}, (1, 40))
    assert error.value.field == field and expected in error.value.expected


def test_chain_layers_are_normalized() -> None:
    checked = check_model_config(
        {"family": "chain", "layers": ({"op": "conv3", "width": 16.0}, {"op": "skip"})}, (1, 40)
    )
    assert checked["layers"] == [{"op": "conv3", "width": 16}, {"op": "skip"}]
    assert type(checked["layers"][0]["width"]) is int


# -- cell ---------------------------------------------------------------------------------


def test_none_edges_have_no_parameters_and_dead_edges_are_left_out(make_task) -> None:
    def cell_parameters(edges: list[str]) -> int:
        model = build_model(cell(edges), make_task((1, 20)))
        return sum(count_parameters(module) for module in modules_of(model, Cell))

    conv3 = cell_parameters(["none", "none", "none", "conv3", "none", "none"])
    assert conv3 == 4 * 4 * 3 + 4  # weights and bias of one 4-channel conv
    assert cell_parameters(["none"] * 6) == 0
    assert cell_parameters(["conv3", "none", "none", "conv3", "none", "none"]) == conv3  # 1 is dead
    assert (
        cell_parameters(["conv3", "none", "none", "conv3", "conv1", "none"])
        == 2 * conv3 + 4 * 4 + 4
    )


def test_live_edges_need_a_path_from_input_to_output() -> None:
    assert live_edges(["none", "conv3", "none", "none", "none", "skip"]) == [
        (0, 2, "conv3"),
        (2, 3, "skip"),
    ]
    assert live_edges(["skip", "none", "none", "none", "none", "conv1"]) == []  # 2 gets nothing
    assert live_edges(["conv3", "none", "conv1", "skip", "none", "none"]) == [(0, 3, "skip")]


def test_cell_sums_its_edges_and_outputs_zeros_without_a_path() -> None:
    x = torch.randn(2, 3, 10)
    all_skip = Cell(2, 3, ["skip"] * 6, activation="relu", batch_norm=False)
    # node1 = x, node2 = x + node1 = 2x, node3 = x + node1 + node2 = 4x
    assert torch.allclose(all_skip(x), 4 * x)
    empty = Cell(2, 3, ["none"] * 6, activation="relu", batch_norm=False)
    assert torch.equal(empty(x), torch.zeros_like(x))


@pytest.mark.parametrize("op", [op for op in EDGE_OPS if op != "none"])
@pytest.mark.parametrize("shape", [(1, 12), (1, 6, 6)])
def test_cell_builds_each_edge_op_and_uses_it(make_task, op: str, shape: tuple[int, ...]) -> None:
    model = build_model(cell([op, "none", "none", "none", op, "none"]), make_task(shape))
    (built,) = modules_of(model, Cell)
    assert built.links == [(0, 1), (1, 3)] and len(built.ops) == 2
    expected = {
        "skip": nn.Identity,
        "conv1": nn.Sequential,
        "conv3": nn.Sequential,
        "avgpool3": (nn.AvgPool1d, nn.AvgPool2d),
    }[op]
    assert all(isinstance(edge, expected) for edge in built.ops)
    if op.startswith("conv"):
        kernel = int(op[-1])
        assert [m.kernel_size[0] for m in modules_of(built, (nn.Conv1d, nn.Conv2d))] == [kernel] * 2
    assert output_shapes(model, list(built.ops), torch.randn(2, *shape)) == [(4, *shape[1:])] * 2


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((1, 40), [(8, 20), (16, 10)]),
        ((1, 8, 8), [(8, 4, 4), (16, 2, 2)]),
        ((1, 1), [(8, 1), (16, 1)]),
    ],
)
def test_reductions_halve_the_size_and_double_the_channels(make_task, shape, expected) -> None:
    model = build_model(cell(["conv3"] * 6, stages=3, cells_per_stage=2), make_task(shape))
    reductions = modules_of(model, ResidualBlock)
    assert len(modules_of(model, Cell)) == 6 and len(reductions) == 2
    assert output_shapes(model, reductions, torch.randn(2, *shape)) == expected
    assert modules_of(model.head, nn.Linear)[-1].in_features == 16


@pytest.mark.parametrize(
    ("edges", "field", "expected"),
    [
        (["conv3"] * 5, "model.edges", "a list of 6 edge ops, for edges (1<-0), (2<-0)"),
        ("conv3", "model.edges", "a list of 6 edge ops"),
        (
            ["conv3", "skip", "conv5", "none", "none", "none"],
            "model.edges[2]",
            "one of avgpool3, conv1, conv3, none, skip",
        ),
    ],
)
def test_cell_edges_are_validated(edges, field, expected) -> None:
    with pytest.raises(ConfigError) as error:
        check_model_config({"family": "cell", "edges": edges}, (1, 40))
    assert error.value.field == field and expected in error.value.expected


# -- both: a found architecture is a plain config -----------------------------------------

FOUND = [
    pytest.param(
        chain(
            {"op": "conv5", "width": 16},
            {"op": "skip"},
            {"op": "maxpool"},
            {"op": "sepconv3", "width": 8},
            {"op": "residual", "width": 12},
            {"op": "dilconv3", "width": 8},
        ),
        (1, 40),
        id="chain-sequence",
    ),
    pytest.param(
        chain({"op": "conv3", "width": 8}, {"op": "avgpool"}, {"op": "residual", "width": 16}),
        (3, 8, 8),
        id="chain-image",
    ),
    pytest.param(
        chain({"op": "linear", "width": 16}, {"op": "residual", "width": 8}, {"op": "skip"}),
        (13,),
        id="chain-tabular",
    ),
    pytest.param(
        cell(["conv3", "avgpool3", "none", "skip", "conv1", "conv3"], stages=2, cells_per_stage=2),
        (1, 40),
        id="cell-sequence",
    ),
    pytest.param(
        cell(["conv1", "conv3", "skip", "none", "avgpool3", "conv3"], stages=3),
        (3, 8, 8),
        id="cell-image",
    ),
]


@pytest.mark.parametrize(("config", "shape"), FOUND)
@pytest.mark.parametrize("batch_norm", [False, True])
def test_found_architecture_is_rebuilt_exactly_from_its_config(
    make_task, config, shape, batch_norm
) -> None:
    torch.manual_seed(0)
    model = build_model(config, make_task(shape), dropout=0.1, batch_norm=batch_norm)
    model(torch.randn(8, *shape))  # a train step moves the batch-norm statistics
    rebuilt_config = json.loads(json.dumps(check_model_config(config, shape)))
    torch.manual_seed(1)
    rebuilt = build_model(rebuilt_config, make_task(shape), dropout=0.1, batch_norm=batch_norm)
    assert count_parameters(rebuilt) == count_parameters(model)
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(4, *shape)
    assert torch.equal(model.eval()(x), rebuilt.eval()(x))


@pytest.mark.parametrize(("config", "shape"), FOUND)
def test_found_architecture_exports_with_torch_jit_trace(make_task, config, shape) -> None:
    model = build_model(config, make_task(shape), batch_norm=True).eval()
    x = torch.randn(4, *shape)
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.trace(model, x), buffer)
    buffer.seek(0)
    exported = torch.jit.load(buffer)
    other = torch.randn(3, *shape)
    assert torch.allclose(exported(other), model(other))


SPATIAL_CHAIN_OPS = ("conv3", "conv5", "conv7", "dilconv3", "sepconv3", "residual")


@pytest.mark.parametrize(
    ("config", "shape"),
    [
        pytest.param(chain(*({"op": op, "width": 8} for op in SPATIAL_CHAIN_OPS), {"op": "skip"},
                           {"op": "maxpool"}, {"op": "avgpool"}), (1, 40), id="chain-spatial"),
        pytest.param(chain({"op": "linear", "width": 8}, {"op": "residual", "width": 8},
                           {"op": "skip"}), (13,), id="chain-tabular"),
        pytest.param(cell(list(EDGE_OPS) + ["conv3"]), (1, 8, 8), id="cell-every-edge-op"),
    ],
)  # fmt: skip
def test_every_op_exports_with_torch_for_any_batch_size(config, shape) -> None:
    """Models of any op, not only the defaults (which the model contract exports), log as pt2."""
    task = type("Task", (), {"input_shape": shape, "kind": "multiclass", "num_classes": 3})
    model = build_model(config, task(), batch_norm=True).eval()
    assert traced_problem(model, torch.randn(4, *shape).numpy()) is None
