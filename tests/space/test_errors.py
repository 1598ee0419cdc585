"""Every documented fault in a space file is a SpaceError naming file, path, value and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_nn.errors import SpaceError
from automl_nn.space import Space, load_space

# (YAML text, dotted path, offending value, words the expectation must contain)
FAULTS = [
    # sections and keys
    ("optimiser: {name: adam}", "optimiser", "optimiser", "optimizer"),
    ("optimizer: {name: sgd, momentm: 0.9}", "optimizer.momentm", "momentm", "momentum"),
    (
        "optimizer: {choice: [{name: adam}, {name: sgd, momentm: 0.9}]}",
        "optimizer[sgd].momentm",
        "momentm",
        "nesterov",
    ),
    ("optimizer: {name: adam, momentum: 0.9}", "optimizer.momentum", "momentum", "beta1"),
    ("loss: {name: mse, delta: 1.0}", "loss.delta", "delta", "name"),
    ("schedule: {name: step, mode: triangular}", "schedule.mode", "mode", "step_size"),
    ("regularization: {dropoutt: 0.1}", "regularization.dropoutt", "dropoutt", "dropout"),
    ("training: {batch: 32}", "training.batch", "batch", "batch_size"),
    (
        "regularization: {augmentation: {name: noise, alpha: 0.2}}",
        "regularization.augmentation.alpha",
        "alpha",
        "std",
    ),
    ("optimizer: adam", "optimizer", "adam", "a mapping with a name"),
    ("model: {depth: 3}", "model.family", None, "family"),
    ("model: {family: {uniform: [0, 1]}}", "model.family", {"uniform": [0, 1]}, "family"),
    ("- model\n- optimizer\n", "space", ["model", "optimizer"], "a mapping of sections"),
    ("training: {1: 2}", "training.1", 1, "a string key"),
    # names
    ("optimizer: {name: sgdd}", "optimizer.name", "sgdd", "adamw"),
    ("optimizer: {name: {choice: [adam, lion]}}", "optimizer.name[1]", "lion", "adamw"),
    ("schedule: {name: warm_restarts}", "schedule.name", "warm_restarts", "cosine"),
    ("loss: {name: l1}", "loss.name", "l1", "huber"),
    (
        "regularization: {augmentation: {name: cutout}}",
        "regularization.augmentation.name",
        "cutout",
        "mixup",
    ),
    ("schedule: {name: cyclic, mode: sawtooth}", "schedule.mode", "sawtooth", "triangular2"),
    (
        "schedule: {name: cyclic, mode: {choice: [triangular, saw]}}",
        "schedule.mode[1]",
        "saw",
        "exp_range",
    ),
    # ranges
    (
        "regularization: {dropout: {uniform: [0.5, 0.1]}}",
        "regularization.dropout.uniform",
        [0.5, 0.1],
        "low <= high",
    ),
    ("model: {family: mlp, depth: {int: [4, 1]}}", "model.depth.int", [4, 1], "low <= high"),
    (
        "optimizer: {name: adam, lr: {loguniform: [0, 0.1]}}",
        "optimizer.lr.loguniform",
        [0, 0.1],
        "above 0",
    ),
    (
        "optimizer: {name: adam, lr: {loguniform: [-1, 0.1]}}",
        "optimizer.lr.loguniform",
        [-1, 0.1],
        "above 0",
    ),
    (
        "model: {family: mlp, width: {int: [0, 512], log: true}}",
        "model.width.int",
        [0, 512],
        "above 0",
    ),
    (
        "regularization: {dropout: {quantized: [0.0, 0.5], q: 0.1, log: true}}",
        "regularization.dropout.quantized",
        [0.0, 0.5],
        "above 0",
    ),
    (
        "regularization: {dropout: {quantized: [0, 0.5], q: 0}}",
        "regularization.dropout.q",
        0,
        "q > 0",
    ),
    (
        "regularization: {dropout: {quantized: [0, 0.5], q: -0.1}}",
        "regularization.dropout.q",
        -0.1,
        "q > 0",
    ),
    ("regularization: {dropout: {quantized: [0, 0.5]}}", "regularization.dropout.q", None, "q > 0"),
    ("training: {batch_size: {choice: []}}", "training.batch_size.choice", [], "non-empty"),
    ("training: {batch_size: {grid: []}}", "training.batch_size.grid", [], "non-empty"),
    ("training: {batch_size: {choice: 32}}", "training.batch_size.choice", 32, "non-empty list"),
    # malformed parameter nodes
    (
        "regularization: {dropout: {uniform: [1]}}",
        "regularization.dropout.uniform",
        [1],
        "two numbers",
    ),
    (
        "regularization: {dropout: {uniform: [a, b]}}",
        "regularization.dropout.uniform",
        ["a", "b"],
        "two numbers",
    ),
    (
        "regularization: {dropout: {uniform: 0.5}}",
        "regularization.dropout.uniform",
        0.5,
        "two numbers",
    ),
    ("model: {family: mlp, depth: {int: [1.5, 3]}}", "model.depth.int", [1.5, 3], "two integers"),
    (
        "regularization: {dropout: {uniform: [0, 1], log: true}}",
        "regularization.dropout.log",
        True,
        "no key beside uniform",
    ),
    (
        "regularization: {dropout: {uniform: [0, 1], high: 2}}",
        "regularization.dropout.high",
        2,
        "no key beside uniform",
    ),
    (
        "model: {family: mlp, depth: {int: [1, 3], log: yes please}}",
        "model.depth.log",
        "yes please",
        "true or false",
    ),
    (
        "regularization: {dropout: {uniform: [0, 1], int: [0, 1]}}",
        "regularization.dropout",
        {"uniform": [0, 1], "int": [0, 1]},
        "one parameter key",
    ),
    # $ keys and guards
    ("optimizer: {name: adam, $foo: 1}", "optimizer.$foo", 1, "$include"),
    (
        "optimizer: {$when: {task: binary}, name: adam}",
        "optimizer.$when",
        {"task": "binary"},
        "$when",
    ),
    (
        "loss: {choice: [{$when: {task: [classify]}, name: mse}]}",
        "loss[mse].$when.task",
        ["classify"],
        "classification",
    ),
    (
        "model: {choice: [{$when: {input: video}, family: mlp}]}",
        "model[mlp].$when.input",
        "video",
        "sequence",
    ),
    (
        "model: {choice: [{$when: {size: big}, family: mlp}]}",
        "model[mlp].$when.size",
        "big",
        "input",
    ),
    ("model: {choice: [{$when: [binary], family: mlp}]}", "model[mlp].$when", ["binary"], "task"),
    ("model: {family: mlp, part: {$include: 3}}", "model.part.$include", 3, "file path"),
]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "field", "value", "words"), FAULTS, ids=[f[1] for f in FAULTS])
def test_fault_is_a_space_error_naming_file_path_and_value(
    tmp_path: Path, text: str, field: str, value: object, words: str
) -> None:
    path = write(tmp_path, "space.yaml", text)
    with pytest.raises(SpaceError) as caught:
        load_space(path)
    error = caught.value
    assert (error.field, error.value, error.where) == (field, value, str(path))
    assert words in error.expected
    assert str(path) in str(error) and field in str(error)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "training:\n  batch_size: 32\n  epochs: [1, 2\n")
    with pytest.raises(SpaceError, match="well-formed YAML") as caught:
        load_space(path)
    assert caught.value.field.startswith("line 4")
    assert caught.value.where == str(path)


def test_fault_in_an_included_part_names_the_part(tmp_path: Path) -> None:
    part = write(tmp_path, "part.yaml", "name: sgd\nmomentm: 0.9\n")
    main = write(tmp_path, "main.yaml", "optimizer: {$include: part.yaml}\n")
    with pytest.raises(SpaceError) as caught:
        load_space(main)
    assert (caught.value.field, caught.value.where) == ("optimizer.momentm", str(part))


def test_python_tree_faults_are_space_errors_too() -> None:
    with pytest.raises(SpaceError) as caught:
        Space.from_dict({"optimizer": {"name": "adam", "lr": {"loguniform": [0.0, 0.1]}}})
    assert caught.value.field == "optimizer.lr.loguniform"
    assert caught.value.where is None


def test_source_of_a_python_tree_is_named() -> None:
    with pytest.raises(SpaceError, match="^my_space.py: training.batch"):
        Space.from_dict({"training": {"batch": 32}}, source="my_space.py")


def test_fault_in_an_included_part_names_its_path_in_the_whole_tree(tmp_path: Path) -> None:
    part = write(tmp_path, "part.yaml", "choice:\n  - {name: sgd, lr: {loguniform: [0, 1]}}\n")
    main = write(tmp_path, "main.yaml", "optimizer: {$include: part.yaml}\n")
    with pytest.raises(SpaceError) as caught:
        load_space(main)
    assert (caught.value.field, caught.value.where) == ("optimizer[sgd].lr.loguniform", str(part))
