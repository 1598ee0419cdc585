"""The final_configs benchmark's test metric of stored outputs (no training here)."""

from __future__ import annotations

import pytest
import torch

from automl_nn import load_dataset
from benchmarks.final_configs import final_test


def stored(*members: torch.Tensor) -> dict[str, list]:
    return {"outputs": [member.tolist() for member in members]}


def test_the_final_test_scores_the_top_configs_stored_outputs() -> None:
    data = load_dataset("wine")
    right = torch.nn.functional.one_hot(data.y_test, 3).float() * 10
    always_first_class = torch.zeros_like(right)
    always_first_class[:, 0] = 10
    scores = [stored(right, right), stored(always_first_class)]
    share_of_first_class = float((data.y_test == 0).float().mean())

    assert final_test(scores, [0, 1], top=1, seeds=2, data=data) == 1.0
    assert final_test(scores, [1, 0], top=1, seeds=1, data=data) == pytest.approx(
        share_of_first_class
    )


def test_the_final_test_of_a_regression_is_its_mse() -> None:
    data = load_dataset("diabetes")
    exact = data.y_test.reshape(-1, 1).float()
    assert final_test([stored(exact)], [0], top=1, seeds=1, data=data) == pytest.approx(0.0)
    assert final_test([stored(exact + 1.0)], [0], top=1, seeds=1, data=data) > 0.0
