"""benchmarks._splits: a fresh split moves the test samples of a scikit-learn set."""

from __future__ import annotations

import torch

from automl_nn import load_dataset
from benchmarks._splits import fresh_split


def _same_samples(first: torch.Tensor, second: torch.Tensor) -> bool:
    """Same samples in the same order, whatever each load's standardization (per feature
    affine and increasing, so it keeps each column's order)."""
    return first.shape == second.shape and torch.equal(first.argsort(0), second.argsort(0))


def test_split_zero_is_the_default_split() -> None:
    default, zero = load_dataset("wine"), fresh_split("wine", 0)
    assert torch.equal(default.x_test, zero.x_test) and torch.equal(default.y_val, zero.y_val)


def test_a_fresh_split_moves_the_test_samples_and_keeps_their_count() -> None:
    zero, one, two = (fresh_split("breast_cancer", split) for split in (0, 1, 2))
    assert not _same_samples(zero.x_test, one.x_test)
    assert not _same_samples(one.x_test, two.x_test)
    assert len(zero.y_test) == len(one.y_test) == len(two.y_test)
    assert _same_samples(one.x_test, fresh_split("breast_cancer", 1).x_test)


def test_mnist1d_keeps_its_own_test_split() -> None:
    assert torch.equal(fresh_split("mnist1d", 3).x_test, load_dataset("mnist1d").x_test)
