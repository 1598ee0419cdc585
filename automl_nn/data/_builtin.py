"""Built-in data sets, all made on this machine: nothing is downloaded."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import tempfile
import zipfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from automl_nn.data._arrays import make_task_data, stratified_split
from automl_nn.data._cache import cache_dir
from automl_nn.data._task_data import TaskData
from automl_nn.errors import DataError, one_of

# By default the test split of the scikit-learn sets does not move with `seed`, so that every
# search and every seed is judged on the same held-out samples; `test_seed` draws another.
_TEST_SPLIT_SEED = 12345
_TEST_FRACTION = 0.2

RawSet = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, str]


_MNIST1D_SHAPES = {"x": (4000, 40), "y": (4000,), "x_test": (1000, 40), "y_test": (1000,)}


@lru_cache(maxsize=1)  # the arrays are never mutated
def _mnist1d() -> RawSet:
    raw = _generated_mnist1d()
    return (
        raw["x"][:, None, :],
        raw["y"],
        raw["x_test"][:, None, :],
        raw["y_test"],
        "multiclass",
    )


def _generated_mnist1d() -> dict[str, np.ndarray]:
    """mnist1d's default data set, from the cache when an earlier process generated it.

    Generating it takes seconds (importing mnist1d and making 5000 series); the file, keyed
    by mnist1d's version, loads in milliseconds. A cache that cannot be read is made again;
    one that cannot be written is skipped.
    """
    path = _mnist1d_cache_file()
    if path is not None:
        cached = _read_arrays(path, _MNIST1D_SHAPES)
        if cached is not None:
            return cached
    from mnist1d.data import get_dataset_args, make_dataset

    made = make_dataset(get_dataset_args())  # default args, seed 42: 4000 / 1000, length 40
    arrays = {name: made[name] for name in _MNIST1D_SHAPES}
    if path is not None:
        _write_arrays(path, arrays)
    return arrays


def _mnist1d_cache_file() -> Path | None:
    try:
        version = importlib.metadata.version("mnist1d")
        folder = cache_dir()
    # A source copy of mnist1d has no version to key on; RuntimeError: no home folder.
    except (importlib.metadata.PackageNotFoundError, RuntimeError):
        return None
    return folder / f"mnist1d-{version}-default.npz"


def _read_arrays(path: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray] | None:
    """The arrays of an ``.npz`` file when it holds exactly ``shapes``, else None."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # absent, cut short, not npz
        return None
    if {name: array.shape for name, array in arrays.items()} != shapes:
        return None
    return arrays


def _write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically, so a process reading at the same time sees the whole file or none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    except OSError:  # a read-only place: go on without the cache
        return
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(partial, path)
    except OSError:  # a full disk
        with contextlib.suppress(OSError):
            os.unlink(partial)


def _digits() -> RawSet:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images[:, None, :, :] / 16.0, bunch.target, None, None, "multiclass"


def _breast_cancer() -> RawSet:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return bunch.data, bunch.target, None, None, "binary"


def _wine() -> RawSet:
    from sklearn.datasets import load_wine

    bunch = load_wine()
    return bunch.data, bunch.target, None, None, "multiclass"


def _diabetes() -> RawSet:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    return bunch.data, bunch.target, None, None, "regression"


_BUILTIN: dict[str, Callable[[], RawSet]] = {
    "mnist1d": _mnist1d,
    "digits": _digits,
    "breast_cancer": _breast_cancer,
    "wine": _wine,
    "diabetes": _diabetes,
}


def list_datasets() -> list[str]:
    """Names of the built-in data sets.

    Example:
        >>> list_datasets()
        ['breast_cancer', 'diabetes', 'digits', 'mnist1d', 'wine']
    """
    return sorted(_BUILTIN)


def load_dataset(
    name: str, *, val_fraction: float = 0.2, seed: int = 0, test_seed: int | None = None
) -> TaskData:
    """Load a built-in data set as train/val/test tensors.

    ``mnist1d`` keeps its own 4000/1000 train/test split (shape ``(N, 1, 40)``) and is
    generated once, then read from ``$AUTOML_NN_CACHE_DIR`` (``~/.cache/automl_nn``); ``digits``
    comes as 1x8x8 images scaled to [0, 1]; ``breast_cancer``, ``wine`` and ``diabetes`` are
    tabular and standardized with training statistics. The test split of the scikit-learn
    sets is fixed (20%, stratified); ``seed`` only moves the validation split, which is carved
    from the training data (stratified for classes). ``test_seed`` draws another test split
    of a scikit-learn set (repeated holdout: is a verdict on one test split the data set's?);
    ``mnist1d``'s test split is its own and cannot move.

    Example:
        >>> data = load_dataset("digits")
        >>> data.input_shape, data.num_classes
        ((1, 8, 8), 10)
    """
    if name not in _BUILTIN:
        raise DataError("dataset", name, one_of(_BUILTIN))
    if not isinstance(val_fraction, (int, float)) or not 0.0 < val_fraction < 1.0:
        raise DataError("val_fraction", val_fraction, "a fraction strictly between 0 and 1")
    x, y, x_test, y_test, kind = _BUILTIN[name]()
    _check_test_seed(name, test_seed, has_own_test_split=x_test is not None)
    if x_test is None or y_test is None:
        strata = y if kind != "regression" else None
        split_seed = _TEST_SPLIT_SEED if test_seed is None else test_seed
        rest, test = stratified_split(len(y), _TEST_FRACTION, strata, split_seed)
        x, y, x_test, y_test = x[rest], y[rest], x[test], y[test]
    features = np.concatenate([x, x_test]).astype(np.float32)
    targets = np.concatenate([y, y_test])
    train, val = stratified_split(len(y), val_fraction, y if kind != "regression" else None, seed)
    test = np.arange(len(y), len(targets))
    num_classes = None if kind == "regression" else int(targets.max()) + 1
    return make_task_data(
        name=name,
        kind=kind,
        features=features,
        targets=targets,
        splits=(train, val, test),
        num_classes=num_classes,
        standardize_features=features.ndim == 2,
        source={"builtin": True},
    )


def _check_test_seed(name: str, test_seed: int | None, *, has_own_test_split: bool) -> None:
    if test_seed is None:
        return
    if has_own_test_split:
        raise DataError("test_seed", test_seed, f"None: {name} keeps its own test split")
    if not isinstance(test_seed, int) or isinstance(test_seed, bool) or test_seed < 0:
        raise DataError("test_seed", test_seed, "None (the fixed test split) or an int >= 0")
