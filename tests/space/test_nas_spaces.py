"""The ``repeat`` node (searched depth) and the NAS preset ``nas.yaml`` with its parts."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import optuna
import pytest
import torch

from automl_nn.errors import SpaceError
from automl_nn.models import build_model
from automl_nn.models._cell import EDGE_OPS
from automl_nn.space import (
    Space,
    active_decisions,
    choice,
    flatten_config,
    load_space,
)
from automl_nn.training import check_config

LAYER = choice([{"op": "conv3", "width": choice([16, 32])}, {"op": "skip"}])
CHAIN = Space.from_dict({"model": {"family": "chain", "layers": {"repeat": [1, 3], "each": LAYER}}})
INPUT_SHAPES = {"tabular": (13,), "sequence": (1, 40), "image": (1, 8, 8)}
TABULAR_OPS = {"linear", "residual", "skip"}
SPATIAL_OPS = {
    "conv3",
    "conv5",
    "conv7",
    "dilconv3",
    "sepconv3",
    "residual",
    "skip",
    "maxpool",
    "avgpool",
}
NAS_CASES = [
    ("multiclass", "sequence"),
    ("multiclass", "image"),
    ("binary", "tabular"),
    ("regression", "tabular"),
]


@pytest.fixture(autouse=True)
def quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(params=NAS_CASES, ids=[f"{task}-{kind}" for task, kind in NAS_CASES])
def nas(request: pytest.FixtureRequest) -> tuple[Space, SimpleNamespace]:
    """nas.yaml specialized for a task and input kind, and a stand-in task of that kind."""
    task, input_kind = request.param
    num_classes = {"multiclass": 10, "binary": 2, "regression": None}[task]
    data = SimpleNamespace(input_shape=INPUT_SHAPES[input_kind], kind=task, num_classes=num_classes)
    return load_space("nas").specialize(task, input_kind), data


def layers_of(config: dict[str, Any]) -> list[dict[str, Any]]:
    return config["model"]["layers"]


def random_choices(space: Space, rng: random.Random) -> list[int]:
    return [rng.randrange(len(decision.options)) for decision in space.decisions()]


# -- the repeat node ----------------------------------------------------------------------


def test_repeat_names_the_count_and_each_copy() -> None:
    assert CHAIN.parameter_paths() == [
        "model.layers",
        "model.layers[0]",
        "model.layers[0][conv3].width",
        "model.layers[1]",
        "model.layers[1][conv3].width",
        "model.layers[2]",
        "model.layers[2][conv3].width",
    ]


def test_sample_draws_every_count_and_resolves_copies_independently() -> None:
    rng = random.Random(0)
    configs = [CHAIN.sample(rng) for _ in range(200)]
    assert {len(layers_of(config)) for config in configs} == {1, 2, 3}
    deep = [layers_of(config) for config in configs if len(layers_of(config)) == 3]
    assert any(len({layer["op"] for layer in layers}) > 1 for layers in deep)
    for layers in map(layers_of, configs):
        assert all(
            layer in ({"op": "skip"}, {"op": "conv3", "width": 16}, {"op": "conv3", "width": 32})
            for layer in layers
        )


def test_repeat_of_a_constant_and_an_empty_repeat() -> None:
    space = Space.from_dict({"model": {"family": "mlp", "widths": {"repeat": [0, 2], "each": 8}}})
    widths = {tuple(space.sample(random.Random(seed))["model"]["widths"]) for seed in range(30)}
    assert widths == {(), (8,), (8, 8)}


def test_fixed_count_is_a_list_of_independent_parameters() -> None:
    space = Space.from_dict(
        {"model": {"family": "cell", "edges": {"repeat": [6, 6], "each": choice(list(EDGE_OPS))}}}
    )
    decisions = space.decisions()
    assert [d.path for d in decisions] == [f"model.edges[{i}]" for i in range(6)]
    assert all(d.parent is None for d in decisions)
    edges = space.config_from_decisions([0, 1, 2, 3, 4, 0])["model"]["edges"]
    assert edges == ["none", "skip", "conv1", "conv3", "avgpool3", "none"]


def test_grid_enumerates_every_count_and_every_copy() -> None:
    configs = CHAIN.grid_configs(random.Random(0))
    # each copy has 3 values (conv3/16, conv3/32, skip): 3 + 3**2 + 3**3
    assert CHAIN.grid_size() == len(configs) == 3 + 9 + 27
    assert len({str(config) for config in configs}) == len(configs)


def test_covering_takes_both_counts_and_every_option_at_every_copy(
    value_at: Callable, label_of: Callable
) -> None:
    configs = CHAIN.covering_configs()
    assert {len(layers_of(config)) for config in configs} == {1, 3}
    for decision in CHAIN.decisions(num_bins=2)[1:]:  # after the count, the copies' decisions
        seen = {
            label_of(value)
            for found, value in (value_at(c, decision.path) for c in configs)
            if found
        }
        assert seen == set(decision.options), decision.path


def test_define_by_run_asks_only_for_the_copies_the_count_keeps() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    configs = {}

    def objective(trial: optuna.Trial) -> float:
        configs[trial.number] = CHAIN.define_by_run(trial)
        return float(len(layers_of(configs[trial.number])))

    study.optimize(objective, n_trials=30)
    for trial in study.trials:
        layers = layers_of(configs[trial.number])
        assert trial.params["model.layers"] == len(layers)
        copies = {
            int(name.split("[")[1].rstrip("]"))
            for name in trial.params
            if name.startswith("model.layers[")
        }
        assert copies == set(range(len(layers)))
        for index, layer in enumerate(layers):
            assert trial.params[f"model.layers[{index}]"] == layer["op"]
    assert study.trials[0].distributions["model.layers"] == optuna.distributions.IntDistribution(
        1, 3
    )


def test_nevergrad_draws_counts_and_copies_and_a_new_count_keeps_the_copies() -> None:
    def draw(seed: int) -> list[dict[str, Any]]:
        parameter = CHAIN.to_nevergrad()
        parameter.random_state = np.random.RandomState(seed)
        return [CHAIN.from_nevergrad(parameter.sample().value) for _ in range(20)]

    configs = draw(0)
    assert configs == draw(0) and configs != draw(1)
    assert {len(layers_of(config)) for config in configs} == {1, 2, 3}
    assert {layer["op"] for config in configs for layer in layers_of(config)} == {"conv3", "skip"}
    value = CHAIN.to_nevergrad().value
    _, copies = value["model"]["layers"]
    deep, shallow = ({**value, "model": {**value["model"], "layers": (n, copies)}} for n in (3, 1))
    assert layers_of(CHAIN.from_nevergrad(deep))[:1] == layers_of(CHAIN.from_nevergrad(shallow))


def test_count_decision_activates_the_copies_it_reaches() -> None:
    decisions = CHAIN.decisions()
    count = decisions[0]
    assert (count.path, count.options, count.numeric, count.parent) == (
        "model.layers",
        (1, 2, 3),
        True,
        None,
    )
    parents = {d.path: d.parent for d in decisions}
    assert parents["model.layers[0]"] is None  # the first copy always exists (low = 1)
    assert parents["model.layers[1]"] == (0, (1, 2))
    assert parents["model.layers[2]"] == (0, (2,))
    ops = [d.path for d in decisions].index("model.layers[2]")
    assert parents["model.layers[2][conv3].width"] == (ops, (0,))
    for depth in (1, 2, 3):
        choices = [depth - 1] + [0] * (len(decisions) - 1)
        active = {decisions[i].path for i in active_decisions(decisions, choices)}
        assert {path for path in active if path.startswith("model.layers[")} == {
            path
            for index in range(depth)
            for path in (f"model.layers[{index}]", f"model.layers[{index}][conv3].width")
        }
        assert len(layers_of(CHAIN.config_from_decisions(choices))) == depth


def test_decisions_enumerate_exactly_the_repeated_space() -> None:
    space = Space.from_dict(
        {"model": {"family": "mlp", "widths": {"repeat": [0, 2], "each": choice([8, 16])}}}
    )
    decisions = space.decisions()
    sequences = itertools.product(*(range(len(d.options)) for d in decisions))
    configs = {str(space.config_from_decisions(list(sequence))) for sequence in sequences}
    assert len(configs) == 1 + 2 + 4


def test_repeat_inside_a_guarded_option_is_specialized() -> None:
    space = Space.from_dict(
        {
            "model": {
                "family": "chain",
                "layers": {
                    "repeat": [2, 2],
                    "each": choice(
                        [
                            {"$when": {"input": "tabular"}, "op": "linear", "width": 8},
                            {"op": "skip"},
                        ]
                    ),
                },
            }
        }
    )
    assert space.specialize("binary", "image").is_fixed()
    assert (
        layers_of(space.specialize("binary", "image").sample(random.Random(0)))
        == [{"op": "skip"}] * 2
    )
    assert space.specialize("binary", "tabular").num_parameters() == 2


def test_repeat_round_trips_through_yaml(tmp_path: Path) -> None:
    text = CHAIN.to_yaml()
    assert "repeat: [1, 3]" in text and "each:" in text
    path = tmp_path / "chain.yaml"
    path.write_text(text)
    assert load_space(path) == CHAIN
    assert Space.from_dict(CHAIN.to_dict()) == CHAIN
    nas = load_space("nas")
    assert Space.from_dict(nas.to_dict()) == nas


def test_flatten_config_keys_layers_by_position() -> None:
    config = {
        "model": {
            "family": "chain",
            "layers": [{"op": "conv5", "width": 64}, {"op": "skip"}],
            "edges": ["skip", "none"],
        }
    }
    assert flatten_config(config) == {
        "model.family": "chain",
        "model.layers.0.op": "conv5",
        "model.layers.0.width": 64,
        "model.layers.1.op": "skip",
        "model.edges": "skip,none",
    }


@pytest.mark.parametrize(
    ("layers", "field", "value", "expected"),
    [
        ({"repeat": [3, 1], "each": 1}, "model.layers.repeat", [3, 1], "0 <= low <= high"),
        ({"repeat": [-1, 2], "each": 1}, "model.layers.repeat", [-1, 2], "0 <= low <= high"),
        ({"repeat": [1, 2.5], "each": 1}, "model.layers.repeat", [1, 2.5], "two integers"),
        ({"repeat": [True, 2], "each": 1}, "model.layers.repeat", [True, 2], "two integers"),
        ({"repeat": [1], "each": 1}, "model.layers.repeat", [1], "[low, high]"),
        ({"repeat": 3, "each": 1}, "model.layers.repeat", 3, "[low, high]"),
        ({"repeat": [1, 2]}, "model.layers.each", None, "the node each copy is made of"),
        (
            {"repeat": [1, 2], "each": 1, "low": 1},
            "model.layers.low",
            1,
            "no key beside repeat but each",
        ),
        ({"repeat": [1, 2], "each": {"int": [3, 1]}}, "model.layers[*].int", [3, 1], "low <= high"),
        (
            {"repeat": [1, 2], "int": [1, 2]},
            "model.layers",
            {"repeat": [1, 2], "int": [1, 2]},
            "one parameter key",
        ),
    ],
)
def test_malformed_repeat_is_a_space_error(
    layers: Any, field: str, value: Any, expected: str
) -> None:
    with pytest.raises(SpaceError) as caught:
        Space.from_dict({"model": {"family": "chain", "layers": layers}})
    assert (caught.value.field, caught.value.value) == (field, value)
    assert expected in caught.value.expected


def test_guard_that_leaves_a_copy_without_options_names_the_copy() -> None:
    each = choice([{"$when": {"input": "image"}, "op": "maxpool"}])
    space = Space.from_dict(
        {"model": {"family": "chain", "layers": {"repeat": [1, 2], "each": each}}}
    )
    with pytest.raises(SpaceError, match=r"model\.layers\[\*\]"):
        space.specialize("binary", "tabular")


# -- nas.yaml -----------------------------------------------------------------------------


def test_nas_preset_searches_architecture_and_recipe_together(nas) -> None:
    space, data = nas
    paths = space.parameter_paths()
    for prefix in (
        "model[chain].layers",
        "optimizer",
        "schedule",
        "regularization.dropout",
        "training.batch_size",
    ):
        assert any(path.startswith(prefix) for path in paths), prefix
    families = {config["model"]["family"] for config in space.covering_configs()}
    assert families == ({"chain"} if len(data.input_shape) == 1 else {"chain", "cell"})


def test_nas_chain_falls_back_to_linear_ops_on_tabular_data(nas) -> None:
    space, data = nas
    models = [config["model"] for config in space.covering_configs()]
    chains = [model["layers"] for model in models if model["family"] == "chain"]
    ops = {layer["op"] for layers in chains for layer in layers}
    assert {len(layers) for layers in chains} == {1, 6}
    if len(data.input_shape) == 1:
        assert ops == TABULAR_OPS
        assert not any(path.startswith("model[cell]") for path in space.parameter_paths())
    else:
        assert ops == SPATIAL_OPS
        edges = {edge for model in models if model["family"] == "cell" for edge in model["edges"]}
        assert edges == set(EDGE_OPS)


def test_every_sampled_and_covering_config_builds_and_checks(nas) -> None:
    space, data = nas
    rng = random.Random(0)
    configs = space.covering_configs() + [space.sample(rng) for _ in range(40)]
    torch.set_num_threads(1)
    for config in configs:
        full = check_config(config, data)
        model = build_model(full["model"], data, batch_norm=full["regularization"]["batch_norm"])
        outputs = model.eval()(torch.randn(2, *data.input_shape))
        assert outputs.shape[0] == 2 and torch.isfinite(outputs).all()


def test_nas_decision_sequences_round_trip_and_skip_inactive_decisions(
    nas, value_at: Callable, label_of: Callable
) -> None:
    space, data = nas
    decisions = space.decisions()
    rng = random.Random(0)
    for _ in range(10):
        choices = random_choices(space, rng)
        config = space.config_from_decisions(choices)
        check_config(config, data)
        active = set(active_decisions(decisions, choices))
        for index in active:
            decision, chosen = decisions[index], decisions[index].options[choices[index]]
            found, value = value_at(config, decision.path)
            assert found, decision.path
            shown = len(value) if isinstance(value, list) else label_of(value)
            assert shown == chosen, decision.path
        redrawn = random_choices(space, rng)
        changed = [choices[i] if i in active else redrawn[i] for i in range(len(decisions))]
        assert space.config_from_decisions(changed) == config


def test_nas_define_by_run_drives_a_real_optuna_study(nas) -> None:
    space, data = nas
    paths = set(space.parameter_paths())
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
    study.optimize(
        lambda trial: float(len(str(check_config(space.define_by_run(trial), data)))), n_trials=15
    )
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in study.trials)
    assert all(set(trial.params) <= paths for trial in study.trials)


@pytest.mark.parametrize(
    ("task", "input_kind"), [("multiclass", "sequence"), ("binary", "tabular")]
)
def test_nas_nevergrad_values_make_valid_configs(task: str, input_kind: str) -> None:
    space = load_space("nas").specialize(task, input_kind)
    data = SimpleNamespace(input_shape=INPUT_SHAPES[input_kind], kind=task, num_classes=2)
    parameter = space.to_nevergrad()
    parameter.random_state = np.random.RandomState(0)
    for _ in range(2):  # Nevergrad copies the whole tree per sample: slow on a big space
        check_config(space.from_nevergrad(parameter.sample().value), data)


def test_depth_of_nas_chain_is_searched_from_one_to_six() -> None:
    space = load_space("nas").specialize("multiclass", "sequence")
    count = next(d for d in space.decisions() if d.path == "model[chain].layers")
    assert count.options == (1, 2, 3, 4, 5, 6)
