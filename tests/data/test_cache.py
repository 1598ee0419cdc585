"""mnist1d is generated once per machine and read from the cache after (AUTOML_NN_CACHE_DIR)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from automl_nn import load_dataset
from automl_nn.data._builtin import _MNIST1D_SHAPES, _mnist1d, _mnist1d_cache_file
from automl_nn.data._cache import cache_dir


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache folder, and no mnist1d kept in this process before or after the test."""
    monkeypatch.setenv("AUTOML_NN_CACHE_DIR", str(tmp_path / "cache"))
    _mnist1d.cache_clear()
    yield tmp_path / "cache"
    _mnist1d.cache_clear()


def stored(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as arrays:
        return {name: arrays[name] for name in arrays.files}


def test_the_first_load_writes_the_cache_and_later_ones_read_it(empty_cache: Path) -> None:
    made = load_dataset("mnist1d")
    path = _mnist1d_cache_file()
    assert path is not None and path.parent == empty_cache and path.name.startswith("mnist1d-")
    assert torch.equal(made.x_test[:, 0, :], torch.as_tensor(stored(path)["x_test"]).float())
    np.savez(path, **{name: np.zeros_like(array) for name, array in stored(path).items()})
    _mnist1d.cache_clear()  # as a new process
    assert torch.count_nonzero(load_dataset("mnist1d").x_test) == 0  # what the file holds


def test_a_cache_file_that_cannot_be_read_is_made_again(empty_cache: Path) -> None:
    path = _mnist1d_cache_file()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"cut short by a full disk")
    data = load_dataset("mnist1d")
    assert data.x_test.shape == (1000, 1, 40) and torch.count_nonzero(data.x_test) > 0
    arrays = stored(path)
    assert {name: array.shape for name, array in arrays.items()} == _MNIST1D_SHAPES
    assert torch.equal(data.x_test[:, 0, :], torch.as_tensor(arrays["x_test"]).float())


def test_a_cache_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("AUTOML_NN_CACHE_DIR", str(blocker / "cache"))  # under a file
    _mnist1d.cache_clear()
    try:
        assert load_dataset("mnist1d").x_train.shape == (3200, 1, 40)
    finally:
        _mnist1d.cache_clear()
    assert blocker.read_text() == ""


def test_the_cache_folder_follows_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOML_NN_CACHE_DIR", "~/elsewhere")
    assert cache_dir() == Path.home() / "elsewhere"
    monkeypatch.delenv("AUTOML_NN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert cache_dir() == Path("/var/cache/me/automl_nn")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/someone")
    assert cache_dir() == Path("/home/someone/.cache/automl_nn")


def test_no_home_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A container user with no HOME and no passwd entry: Path.home() raises."""

    def no_such_user(uid: int) -> None:
        raise KeyError(uid)

    for variable in ("AUTOML_NN_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("pwd.getpwuid", no_such_user)
    with pytest.raises(RuntimeError):
        Path.home()
    assert _mnist1d_cache_file() is None
