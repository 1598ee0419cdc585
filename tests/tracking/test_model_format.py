"""Which of MLflow's formats a model goes in: pt2 (torch.export) when it serves any batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from automl_nn.tracking._model_format import export_problem, is_export_error, traced_problem

EXAMPLE = np.ones((4, 3), dtype=np.float32)


class Plain(torch.nn.Module):
    """A plugin's model that exports: nothing in forward depends on the input's values."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


class ValueBranching(Plain):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) if x.sum() > 0 else -self.linear(x)


class BatchSizeBranching(Plain):
    """Exports without an error, but its graph serves the example's batch size alone."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x[: x.shape[0] // 2 * 2]) if x.shape[0] > 3 else self.linear(x)


class Counting(torch.nn.Linear):
    """Counts its forward calls: a model that is traced calls it."""

    calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        Counting.calls += 1
        return super().forward(x)


def test_a_plugin_model_that_exports_for_any_batch_size_goes_as_pt2() -> None:
    assert export_problem(Plain(), EXAMPLE) is None


def test_a_model_branching_on_input_values_goes_as_pickle_with_the_reason() -> None:
    problem = export_problem(ValueBranching(), EXAMPLE)
    assert problem is not None and problem.startswith("torch.export failed: ")


def test_a_model_exported_for_one_batch_size_only_goes_as_pickle() -> None:
    problem = export_problem(BatchSizeBranching(), EXAMPLE)
    assert problem is not None and problem.startswith("its exported graph fails at batch size 1")


def test_only_models_with_classes_from_elsewhere_are_traced_here() -> None:
    Counting.calls = 0
    assert (
        export_problem(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()), EXAMPLE) is None
    )
    assert export_problem(torch.nn.Sequential(Counting(3, 2)), EXAMPLE) is None
    assert Counting.calls > 0  # a class of these tests is not torch's or automl_nn's
    Counting.calls = 0
    assert traced_problem(Counting(3, 2), EXAMPLE) is None and Counting.calls > 0


def test_errors_of_torch_are_export_errors_and_others_are_not() -> None:
    with pytest.raises(Exception) as traced:  # noqa: PT011 - whatever torch raises
        torch.export.export(ValueBranching(), (torch.ones(4, 3),))
    assert is_export_error(traced.value)
    with pytest.raises(RuntimeError) as raised_in_torch:  # a builtin class, raised in torch
        torch.nn.Linear(3, 2)(torch.ones(2, 4))
    assert is_export_error(raised_in_torch.value)
    with pytest.raises(ConnectionError) as elsewhere:
        raise ConnectionError("the tracking server went away")
    assert not is_export_error(elsewhere.value)
