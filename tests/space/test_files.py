"""Space files: the packaged spaces, loading by name or path, and ``$include``."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from automl_nn import vocabulary as vocab
from automl_nn.errors import SpaceError
from automl_nn.space import (
    INPUT_KINDS,
    Space,
    list_spaces,
    load_space,
    search_spaces_dir,
)
from automl_nn.space import _yaml as space_yaml

COMBOS = list(itertools.product(vocab.TASK_KINDS, INPUT_KINDS))
PARTS = sorted((search_spaces_dir() / "parts").glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def packaged_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for search_spaces/, so tests can put files inside and outside it."""
    folder = tmp_path / "search_spaces"
    folder.mkdir()
    monkeypatch.setattr(space_yaml, "search_spaces_dir", lambda: folder)
    return folder


def test_presets_are_listed_without_parts() -> None:
    assert list_spaces() == ["default", "nas", "quick"]


@pytest.mark.parametrize("name", ["default", "quick"])
@pytest.mark.parametrize(("task", "input_kind"), COMBOS)
def test_packaged_space_fits_every_data_set(
    name: str, task: str, input_kind: str, vocabulary_check: Callable[..., None]
) -> None:
    space = load_space(name).specialize(task, input_kind)
    rng = random.Random(0)
    for config in [space.sample(rng) for _ in range(100)] + space.covering_configs():
        vocabulary_check(config, task, input_kind)


@pytest.mark.parametrize(("task", "input_kind"), COMBOS)
def test_default_spans_everything_that_fits(task: str, input_kind: str) -> None:
    configs = load_space("default").specialize(task, input_kind).covering_configs()
    rank = INPUT_KINDS[input_kind]

    def names(section: str, key: str = "name") -> set[str]:
        return {config[section][key] for config in configs}

    families = {1: {"mlp"}, 2: {"mlp", "cnn", "resnet"}, 3: {"cnn", "resnet"}}  # no image mlp
    assert names("model", "family") == families[rank]
    assert names("optimizer") == set(vocab.OPTIMIZERS)
    assert names("schedule") == set(vocab.SCHEDULES)
    assert names("loss") == set(vocab.LOSSES_BY_TASK[task])
    fitting = {name for name, ranks in vocab.AUGMENTATION_INPUT_RANKS.items() if rank in ranks}
    assert {c["regularization"]["augmentation"]["name"] for c in configs} == fitting


def test_default_searches_every_regularizer_and_not_epochs() -> None:
    paths = load_space("default").parameter_paths()
    for key in vocab.REGULARIZATION:
        assert any(path.startswith(f"regularization.{key}") for path in paths), key
    assert "training.batch_size" in paths
    assert not any(path.startswith("training.epochs") for path in paths)


@pytest.mark.parametrize("part", PARTS, ids=[part.name for part in PARTS])
def test_every_part_is_included_by_a_preset(part: Path) -> None:
    presets = "".join(path.read_text() for path in search_spaces_dir().glob("*.yaml"))
    other_parts = "".join(path.read_text() for path in PARTS if path != part)
    assert f"parts/{part.name}" in presets or part.name in other_parts


def test_load_by_name_equals_load_by_path() -> None:
    assert load_space("quick") == load_space(search_spaces_dir() / "quick.yaml")
    assert load_space("quick") == load_space(str(search_spaces_dir() / "quick.yaml"))


@pytest.mark.parametrize("name", ["../../etc/passwd", "../pyproject", "nonexistent", "/etc/passwd"])
def test_names_resolve_only_inside_search_spaces(name: str) -> None:
    with pytest.raises(SpaceError, match="default, nas, quick") as caught:
        load_space(name)
    assert (caught.value.field, caught.value.value) == ("space", name)


def test_missing_path_is_a_space_error(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match="existing .yaml file"):
        load_space(tmp_path / "nothing.yaml")


def test_include_with_overrides_deep_merges(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "space.yaml",
        "regularization:\n"
        "  $include: parts/regularization.yaml\n"
        "  dropout: 0.2\n"
        "  batch_norm: {choice: [true]}\n",
    )
    regularization = load_space(path).sample(random.Random(0))["regularization"]
    assert (regularization["dropout"], regularization["batch_norm"]) == (0.2, True)
    assert set(regularization) == set(vocab.REGULARIZATION)


def test_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path, "parts/opt.yaml", "{$include: lr.yaml, name: adam}")
    write(tmp_path, "parts/lr.yaml", "lr: 0.005")
    path = write(tmp_path, "space.yaml", "optimizer: {$include: parts/opt.yaml}")
    assert load_space(path).sample(random.Random(0))["optimizer"] == {"lr": 0.005, "name": "adam"}


def test_a_copied_file_finds_the_packaged_parts(tmp_path: Path) -> None:
    copy = write(tmp_path, "mine.yaml", (search_spaces_dir() / "default.yaml").read_text())
    assert load_space(copy) == load_space("default")


def test_include_cycle_is_detected(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: adam\nlr: {$include: b.yaml}\n")
    write(tmp_path, "b.yaml", "{$include: a.yaml}")
    main = write(tmp_path, "main.yaml", "optimizer: {$include: a.yaml}")
    with pytest.raises(SpaceError, match="a.yaml -> b.yaml -> a.yaml") as caught:
        load_space(main)
    assert caught.value.field == "optimizer.lr.$include"
    assert caught.value.where == str(tmp_path / "b.yaml")


def test_missing_include_is_named(tmp_path: Path) -> None:
    main = write(tmp_path, "main.yaml", "optimizer: {$include: parts/nope.yaml}")
    with pytest.raises(SpaceError, match="existing file") as caught:
        load_space(main)
    assert (caught.value.field, caught.value.value) == ("optimizer.$include", "parts/nope.yaml")
    assert caught.value.where == str(main)


def test_include_over_a_choice_cannot_take_overrides(tmp_path: Path) -> None:
    main = write(tmp_path, "main.yaml", "optimizer: {$include: parts/optimizers.yaml, lr: 0.1}")
    with pytest.raises(SpaceError, match="holding a mapping"):
        load_space(main)


@pytest.mark.parametrize("target", ["../outside.yaml", "../../etc/passwd"])
def test_packaged_file_cannot_include_outside_search_spaces(
    packaged_folder: Path, target: str
) -> None:
    write(packaged_folder.parent, "outside.yaml", "lr: 0.1")
    write(packaged_folder, "evil.yaml", f"optimizer: {{$include: {target}, name: adam}}")
    with pytest.raises(SpaceError, match="stays inside search_spaces") as caught:
        load_space("evil")
    assert caught.value.value == target


def test_packaged_file_cannot_include_an_absolute_path(packaged_folder: Path) -> None:
    outside = write(packaged_folder.parent, "outside.yaml", "lr: 0.1")
    write(packaged_folder, "evil.yaml", f"optimizer: {{$include: {outside}, name: adam}}")
    with pytest.raises(SpaceError, match="stays inside search_spaces"):
        load_space("evil")


def test_python_tree_includes_stay_inside_search_spaces() -> None:
    with pytest.raises(SpaceError, match="stays inside search_spaces"):
        Space.from_dict({"optimizer": {"$include": "../pyproject.toml"}})
    tree = {"optimizer": {"$include": "parts/optimizers.yaml"}}
    assert Space.from_dict(tree).parameter_paths()[0] == "optimizer"


def test_user_file_may_include_any_path(tmp_path: Path) -> None:
    write(tmp_path, "shared/lr.yaml", "lr: 0.1")
    main = write(
        tmp_path, "project/space.yaml", "optimizer: {$include: ../shared/lr.yaml, name: sgd}"
    )
    assert load_space(main).sample(random.Random(0))["optimizer"] == {"lr": 0.1, "name": "sgd"}


def test_exponent_without_a_dot_reads_as_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, "space.yaml", "optimizer: {name: adam, lr: {loguniform: [1e-5, 1e-1]}}")
    lr = load_space(path).sample(random.Random(0))["optimizer"]["lr"]
    assert isinstance(lr, float) and 1e-5 <= lr <= 1e-1


def test_yaml_tags_are_not_run(tmp_path: Path) -> None:
    path = write(tmp_path, "space.yaml", "training: !!python/object/apply:os.system ['echo hi']")
    with pytest.raises(SpaceError, match="well-formed YAML"):
        load_space(path)


@pytest.mark.parametrize("name", ["default", "quick"])
def test_packaged_files_use_only_safe_yaml(name: str) -> None:
    assert yaml.safe_load((search_spaces_dir() / f"{name}.yaml").read_text())


def test_space_package_imports_neither_torch_nor_ray() -> None:
    code = (
        "import random, sys, automl_nn.space as space\n"
        "space.load_space('default').sample(random.Random(0))\n"
        "print(sorted(m for m in ('torch', 'ray', 'optuna', 'nevergrad') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
