"""Built-in data sets and the user's own arrays / CSV files become TaskData."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from automl_nn import TaskData, from_arrays, from_csv, list_datasets, load_dataset
from automl_nn.errors import AutomlNNError, DataError

EXPECTED = {
    "mnist1d": ("multiclass", (1, 40), 10),
    "digits": ("multiclass", (1, 8, 8), 10),
    "breast_cancer": ("binary", (30,), 2),
    "wine": ("multiclass", (13,), 3),
    "diabetes": ("regression", (10,), None),
}


def test_list_datasets_names_every_builtin() -> None:
    assert list_datasets() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_kind_shape_and_classes(name: str) -> None:
    data = load_dataset(name)
    kind, shape, classes = EXPECTED[name]
    assert isinstance(data, TaskData)
    assert (data.kind, data.input_shape, data.num_classes) == (kind, shape, classes)
    for split in ("train", "val", "test"):
        x, y = data.split(split)
        assert x.dtype == torch.float32 and len(x) == len(y) > 0
        assert torch.isfinite(x).all()


def test_mnist1d_keeps_its_own_4000_1000_split() -> None:
    data = load_dataset("mnist1d", val_fraction=0.2)
    assert len(data.y_train) + len(data.y_val) == 4000
    assert len(data.y_val) == 800
    assert len(data.y_test) == 1000
    from mnist1d.data import get_dataset_args, make_dataset

    raw = make_dataset(get_dataset_args())
    assert np.allclose(data.x_test.numpy()[:, 0, :], raw["x_test"])


def test_validation_split_is_stratified_and_moves_with_seed_but_test_does_not() -> None:
    first, second = load_dataset("wine", seed=0), load_dataset("wine", seed=1)
    # Same test samples (their scaling follows each seed's training split).
    assert torch.equal(first.y_test, second.y_test)
    assert torch.equal(first.x_test.argsort(0), second.x_test.argsort(0))
    assert not torch.equal(first.y_val, second.y_val) or not torch.equal(first.x_val, second.x_val)
    train_share = np.bincount(first.y_train.numpy()) / len(first.y_train)
    val_share = np.bincount(first.y_val.numpy()) / len(first.y_val)
    assert np.abs(train_share - val_share).max() < 0.1


def _sample_indices(data: TaskData, split: str) -> set[int]:
    """Which samples of the raw scikit-learn set a split holds (each split is scaled by its
    own load's training statistics: re-scaling every load by the statistics of all its rows
    puts the same raw sample at the same point)."""
    from sklearn.datasets import load_breast_cancer

    raw = torch.tensor(load_breast_cancer().data, dtype=torch.float32)
    every_row = torch.cat([data.x_train, data.x_val, data.x_test])
    x, _ = data.split(split)
    ours = (x - every_row.mean(0)) / every_row.std(0)
    theirs = (raw - raw.mean(0)) / raw.std(0)
    return set(torch.cdist(ours, theirs).argmin(dim=1).tolist())


def test_test_seed_draws_another_stratified_test_split_of_the_same_size() -> None:
    standard = load_dataset("breast_cancer")
    standard_test = _sample_indices(standard, "test")
    assert _sample_indices(load_dataset("breast_cancer", test_seed=None), "test") == standard_test
    moved = load_dataset("breast_cancer", test_seed=1)
    moved_test = _sample_indices(moved, "test")
    assert moved_test == _sample_indices(load_dataset("breast_cancer", test_seed=1), "test")
    assert moved_test != standard_test and len(moved_test) == len(standard_test) == 114
    moved_rest = _sample_indices(moved, "train") | _sample_indices(moved, "val")
    assert not moved_test & moved_rest and len(moved_test | moved_rest) == 569
    test_share = float(moved.y_test.float().mean())
    train_share = float(moved.y_train.float().mean())
    assert abs(test_share - train_share) < 0.02


def test_tabular_features_standardized_with_training_statistics_only() -> None:
    data = load_dataset("breast_cancer")
    assert data.x_train.mean(0).abs().max() < 1e-4
    assert (data.x_train.std(0) - 1).abs().max() < 0.01
    # The test split was scaled by the training statistics, so it is not exactly centred.
    assert data.x_test.mean(0).abs().max() > 1e-3


def test_regression_targets_are_standardized_and_remember_their_units() -> None:
    data = load_dataset("diabetes")
    assert abs(float(data.y_train.mean())) < 1e-4
    assert data.target_std > 10


def test_from_arrays_infers_the_task_kind() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    assert from_arrays(X, rng.integers(0, 2, 200)).kind == "binary"
    assert from_arrays(X, rng.integers(0, 5, 200)).kind == "multiclass"
    assert from_arrays(X, rng.normal(size=200)).kind == "regression"
    text = from_arrays(X, np.array(["cat", "dog", "eel", "fox"] * 50))
    assert text.kind == "multiclass" and text.class_names == ("cat", "dog", "eel", "fox")


def test_from_arrays_split_sizes_and_sequences() -> None:
    X = np.random.default_rng(0).normal(size=(100, 2, 16)).astype(np.float32)
    data = from_arrays(X, np.arange(100) % 4, test_fraction=0.3, val_fraction=0.25)
    assert len(data.y_test) == 30 and len(data.y_val) == 18 and len(data.y_train) == 52
    assert data.input_shape == (2, 16) and data.input_kind == "sequence"


def test_from_csv_encodes_text_columns_and_target(tmp_path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=60),
            "colour": rng.choice(["red", "blue"], 60),
            "species": rng.choice(["a", "b", "c"], 60),
        }
    )
    path = tmp_path / "animals.csv"
    frame.to_csv(path, index=False)
    data = from_csv(path, target="species")
    assert data.kind == "multiclass" and data.num_classes == 3
    assert data.input_shape == (3,)  # size + two one-hot colours
    assert data.name == "animals"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: from_arrays(np.zeros((20, 3)), np.zeros(19)), "len(y)"),
        (lambda: from_arrays(np.full((20, 3), np.nan), np.arange(20) % 2), "X[0]"),
        (lambda: from_arrays(np.ones((20, 3)) * np.inf, np.arange(20) % 2), "X[0]"),
        (lambda: from_arrays(np.zeros((20, 3)), np.arange(20) % 3, num_classes=2), "y"),
        (lambda: from_arrays(np.zeros((20, 3)), -(np.arange(20) % 2), task="binary"), "y"),
        (lambda: from_arrays(np.zeros((20, 3)), np.arange(20) % 2, task="ranking"), "task"),
        (
            lambda: from_arrays(np.zeros((20, 3)), np.arange(20) % 2, test_fraction=1.5),
            "test_fraction",
        ),
        (lambda: from_arrays(np.zeros(20), np.arange(20) % 2), "X.shape"),
        (lambda: load_dataset("imagenet"), "dataset"),
        (lambda: load_dataset("mnist1d", test_seed=1), "test_seed"),
        (lambda: load_dataset("wine", test_seed=-1), "test_seed"),
        (lambda: load_dataset("wine", test_seed="1"), "test_seed"),
        (lambda: load_dataset("wine", test_seed=True), "test_seed"),
        (lambda: from_csv("/nonexistent/file.csv", target="y"), "path"),
    ],
)
def test_bad_data_raises_one_clear_error(make, field: str) -> None:
    with pytest.raises(DataError) as caught:
        make()
    assert isinstance(caught.value, AutomlNNError)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_from_csv_unknown_target_names_the_columns(tmp_path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": range(20), "b": range(20)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="one of a, b"):
        from_csv(path, target="label")
