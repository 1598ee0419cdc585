"""Fixtures shared by the model tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run as trials do, with one torch thread (see DESIGN.md).

    On a busy two-core machine, OpenMP threads waiting for each other make the tiny
    convolutions here a hundred times slower than one thread.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_task() -> Callable[..., SimpleNamespace]:
    """A factory of task stand-ins: anything with input_shape, kind and num_classes will do."""

    def make(
        input_shape: tuple[int, ...], kind: str = "multiclass", num_classes: int | None = 3
    ) -> SimpleNamespace:
        return SimpleNamespace(input_shape=input_shape, kind=kind, num_classes=num_classes)

    return make
