"""The language: constants, sub-trees, parameters, conditionals, guards, builders, YAML form."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from automl_nn import vocabulary as vocab
from automl_nn.errors import DataError, SpaceError
from automl_nn.space import (
    INPUT_KINDS,
    Space,
    choice,
    flatten_config,
    grid,
    input_kind_of,
    integer,
    load_space,
    loguniform,
    quantized,
    uniform,
)

COMBOS = list(itertools.product(vocab.TASK_KINDS, INPUT_KINDS))

# Two levels of conditionals: ``alpha`` lives under cyclic, ``beta`` under cyclic's exp_range.
NESTED = {
    "optimizer": choice(
        [
            {"name": "adam", "lr": loguniform(1e-4, 1e-2), "beta1": uniform(0.8, 0.95)},
            {
                "name": "sgd",
                "lr": 0.1,
                "momentum": uniform(0.0, 0.9),
                "nesterov": choice([True, False]),
            },
        ]
    ),
    "schedule": choice(
        [
            {"name": "constant"},
            {
                "name": "cyclic",
                "mode": choice(["triangular", "exp_range"]),
                "cycle_epochs": integer(2, 8),
                "gamma": quantized(0.9, 1.0, 0.02),
            },
        ]
    ),
    "training": {"batch_size": grid([32, 64]), "epochs": 3},
}


def test_constants_and_lists_pass_through() -> None:
    tree = {"model": {"family": "mlp", "widths": [64, 32], "bias": None}, "training": {"epochs": 3}}
    assert Space.from_dict(tree).sample(random.Random(0)) == tree


def test_conditional_parameters_appear_only_under_their_option() -> None:
    space = Space.from_dict(NESTED)
    rng = random.Random(0)
    seen = set()
    for _ in range(300):
        config = space.sample(rng)
        optimizer, schedule = config["optimizer"], config["schedule"]
        expected = {"adam": {"name", "lr", "beta1"}, "sgd": {"name", "lr", "momentum", "nesterov"}}
        assert set(optimizer) == expected[optimizer["name"]]
        if schedule["name"] == "constant":
            assert schedule == {"name": "constant"}
        else:
            assert set(schedule) == {"name", "mode", "cycle_epochs", "gamma"}
        seen.add((optimizer["name"], schedule["name"]))
    assert len(seen) == 4


def test_default_never_mixes_keys_of_two_options(vocabulary_check) -> None:
    space = load_space("default").specialize("binary", "image")
    rng = random.Random(1)
    for _ in range(500):
        vocabulary_check(space.sample(rng), "binary", "image")


def test_samples_stay_in_range_on_their_scale() -> None:
    space = Space.from_dict(
        {
            "optimizer": {"name": "adam", "lr": loguniform(1e-4, 1e-1)},
            "model": {"family": "mlp", "depth": integer(1, 4), "width": integer(8, 512, log=True)},
            "regularization": {"dropout": quantized(0.0, 0.5, 0.1)},
            "training": {"batch_size": quantized(16, 100, 16)},
        }
    )
    rng = random.Random(0)
    configs = [space.sample(rng) for _ in range(2000)]
    lrs = [c["optimizer"]["lr"] for c in configs]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs)
    below_1e3 = sum(lr < 1e-3 for lr in lrs) / len(lrs)
    assert 0.25 < below_1e3 < 0.42  # a third of a log range, not a hundredth
    assert {c["model"]["depth"] for c in configs} == {1, 2, 3, 4}
    assert all(
        isinstance(c["model"]["width"], int) and 8 <= c["model"]["width"] <= 512 for c in configs
    )
    assert {c["regularization"]["dropout"] for c in configs} == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}
    assert {c["training"]["batch_size"] for c in configs} == {16, 32, 48, 64, 80, 96}


def test_sampling_is_deterministic_for_a_seed() -> None:
    space = load_space("default")
    first = [space.sample(random.Random(7)) for _ in range(3)]
    assert first == [space.sample(random.Random(7)) for _ in range(3)]
    assert space.sample(random.Random(7)) != space.sample(random.Random(8))


def test_builders_build_the_same_space_as_yaml(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(
        "optimizer:\n"
        "  choice:\n"
        "    - {name: adam, lr: {loguniform: [1.0e-4, 1.0e-2]}, beta1: {uniform: [0.8, 0.95]}}\n"
        "    - name: sgd\n"
        "      lr: 0.1\n"
        "      momentum: {uniform: [0.0, 0.9]}\n"
        "      nesterov: {choice: [true, false]}\n"
        "schedule:\n"
        "  choice:\n"
        "    - {name: constant}\n"
        "    - name: cyclic\n"
        "      mode: {choice: [triangular, exp_range]}\n"
        "      cycle_epochs: {int: [2, 8]}\n"
        "      gamma: {quantized: [0.9, 1.0], q: 0.02}\n"
        "training: {batch_size: {grid: [32, 64]}, epochs: 3}\n"
    )
    assert Space.from_dict(NESTED) == load_space(path)
    assert Space.from_dict(NESTED) != Space.from_dict({**NESTED, "training": {"batch_size": 32}})


@pytest.mark.parametrize("name", ["default", "quick"])
def test_to_yaml_round_trips(tmp_path: Path, name: str) -> None:
    for space in [load_space(name), load_space(name).specialize("multiclass", "sequence")]:
        path = tmp_path / "copy.yaml"
        path.write_text(space.to_yaml())
        assert load_space(path) == space
        assert load_space(path).to_yaml() == space.to_yaml()


def test_to_yaml_round_trips_every_node_kind(tmp_path: Path) -> None:
    tree = {
        **NESTED,
        "model": choice(
            [
                {"$when": {"input": "image"}, "family": "cnn", "depth": integer(2, 64, log=True)},
                {"$when": {"task": ["classification"]}, "family": "mlp", "width": [64, 32]},
            ]
        ),
        "regularization": {"dropout": quantized(0.01, 0.5, 0.01, log=True), "grad_clip": None},
    }
    space = Space.from_dict(tree)
    path = tmp_path / "copy.yaml"
    path.write_text(space.to_yaml())
    assert load_space(path) == space
    assert Space.from_dict(space.to_dict()) == space


def test_specialize_drops_options_whose_guard_does_not_fit() -> None:
    space = Space.from_dict(
        {
            "loss": choice(
                [
                    {"$when": {"task": "classification"}, "name": "cross_entropy"},
                    {"$when": {"task": ["binary"]}, "name": "bce"},
                    {
                        "$when": {"task": ["regression"], "input": ["tabular", "image"]},
                        "name": "mse",
                    },
                    {"name": "huber"},
                ]
            )
        }
    )

    def losses(task: str, input_kind: str) -> list[str]:
        return list(space.specialize(task, input_kind).decisions()[0].options)

    assert losses("binary", "tabular") == ["cross_entropy", "bce", "huber"]
    assert losses("multiclass", "image") == ["cross_entropy", "huber"]
    assert losses("regression", "image") == ["mse", "huber"]
    assert space.specialize("regression", "sequence").sample(random.Random(0)) == {
        "loss": {"name": "huber"}
    }
    assert "$when" in space.to_yaml()
    assert "$when" not in space.specialize("binary", "tabular").to_yaml()


def test_specialize_recurses_into_kept_options() -> None:
    space = load_space("default").specialize("regression", "tabular")
    augmentations = {
        config["regularization"]["augmentation"]["name"] for config in space.covering_configs()
    }
    assert augmentations == {"none", "noise", "mixup"}


def test_choice_left_without_options_names_its_path() -> None:
    space = Space.from_dict(
        {
            "regularization": {
                "augmentation": choice([{"$when": {"input": "image"}, "name": "image"}])
            }
        }
    )
    with pytest.raises(SpaceError, match="task=binary, input=tabular") as caught:
        space.specialize("binary", "tabular")
    assert (caught.value.field, caught.value.value) == ("regularization.augmentation", ["image"])


@pytest.mark.parametrize(("task", "input_kind"), [("classification", "image"), ("binary", "video")])
def test_specialize_rejects_unknown_kinds(task: str, input_kind: str) -> None:
    with pytest.raises(SpaceError):
        load_space("quick").specialize(task, input_kind)


@pytest.mark.parametrize(("task", "input_kind"), COMBOS)
def test_every_packaged_space_specializes(task: str, input_kind: str) -> None:
    for name in ["default", "quick"]:
        assert load_space(name).specialize(task, input_kind).num_parameters() > 0


def test_option_labels_name_conditional_parameters() -> None:
    space = Space.from_dict(NESTED)
    assert space.parameter_paths() == [
        "optimizer",
        "optimizer[adam].lr",
        "optimizer[adam].beta1",
        "optimizer[sgd].momentum",
        "optimizer[sgd].nesterov",
        "schedule",
        "schedule[cyclic].mode",
        "schedule[cyclic].cycle_epochs",
        "schedule[cyclic].gamma",
        "training.batch_size",
    ]


def test_options_sharing_a_name_are_labelled_by_index() -> None:
    space = Space.from_dict(
        {
            "optimizer": choice(
                [
                    {"name": "sgd", "lr": uniform(0.01, 0.1)},
                    {"name": "sgd", "lr": uniform(0.1, 1.0)},
                    {"name": "adam", "lr": uniform(0.001, 0.01)},
                ]
            )
        }
    )
    assert space.parameter_paths() == [
        "optimizer",
        "optimizer[0].lr",
        "optimizer[1].lr",
        "optimizer[adam].lr",
    ]


def test_nothing_to_decide_is_detected() -> None:
    fixed = Space.from_dict(
        {
            "model": {"family": "mlp", "depth": integer(3, 3)},
            "optimizer": choice([{"name": "adam", "lr": loguniform(0.01, 0.01)}]),
            "regularization": {"dropout": quantized(0.1, 0.15, 0.1)},
        }
    )
    assert fixed.is_fixed() and fixed.num_parameters() == 0 and fixed.decisions() == []
    assert fixed.sample(random.Random(0)) == {
        "model": {"family": "mlp", "depth": 3},
        "optimizer": {"name": "adam", "lr": 0.01},
        "regularization": {"dropout": 0.1},
    }
    assert not Space.from_dict({"training": {"batch_size": choice([32, 64])}}).is_fixed()


def test_schedule_takes_warmup_and_model_takes_any_key() -> None:
    space = Space.from_dict(
        {
            "schedule": {"name": "cosine", "warmup_epochs": integer(0, 3)},
            "model": {"family": "my_family", "anything": {"nested": uniform(0.0, 1.0)}},
        }
    )
    assert space.parameter_paths() == ["schedule.warmup_epochs", "model.anything.nested"]


def test_name_may_be_a_choice_of_names() -> None:
    space = Space.from_dict({"optimizer": {"name": choice(["adam", "adamw"]), "lr": 0.01}})
    names = {space.sample(random.Random(seed))["optimizer"]["name"] for seed in range(20)}
    assert names == {"adam", "adamw"}
    with pytest.raises(SpaceError, match="optimizer adamw"):
        Space.from_dict({"optimizer": {"name": choice(["sgd", "adamw"]), "momentum": 0.9}})


def test_flatten_config_gives_dotted_scalar_params() -> None:
    config = load_space("default").specialize("multiclass", "image").sample(random.Random(0))
    flat = flatten_config(config)
    assert flat["optimizer.lr"] == config["optimizer"]["lr"]
    assert (
        flat["regularization.augmentation.name"] == config["regularization"]["augmentation"]["name"]
    )
    assert all(not isinstance(value, (dict, list)) for value in flat.values())
    assert flatten_config({"model": {"widths": [64, 32], "bias": None}}) == {
        "model.widths": "64,32",
        "model.bias": None,
    }


def test_input_kind_of_a_sample_shape() -> None:
    assert [input_kind_of(shape) for shape in [(4,), (2, 30), (3, 8, 8)]] == list(INPUT_KINDS)
    with pytest.raises(DataError, match="input_shape"):
        input_kind_of((1, 2, 3, 4))
