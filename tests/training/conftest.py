from __future__ import annotations

import numpy as np
import pytest

from automl_nn import TaskData, from_arrays, load_dataset


@pytest.fixture(scope="session")
def wine() -> TaskData:
    return load_dataset("wine")


@pytest.fixture(scope="session")
def tiny_sequences() -> TaskData:
    """60 two-class sequences (1 x 16): the class is the sign of the first half's mean."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 1, 16)).astype(np.float32)
    y = (x[:, 0, :8].mean(1) > 0).astype(np.int64)
    return from_arrays(x, y, name="tiny_sequences")


@pytest.fixture(scope="session")
def tiny_regression() -> TaskData:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype(np.float32)
    return from_arrays(x, 3 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=80), task="regression")


def mlp_config(**sections: dict) -> dict:
    """A small, fast config; each keyword replaces one section."""
    config = {
        "model": {"family": "mlp", "depth": 1, "width": 16},
        "optimizer": {"name": "sgd", "lr": 0.05},
        "training": {"batch_size": 16, "epochs": 3},
    }
    config.update(sections)
    return config


TIMING_KEYS = {"epoch_seconds", "samples_per_second"}


def without_timings(history: list[dict[str, float]]) -> list[dict[str, float]]:
    """A run's history without its wall-clock figures, which differ from run to run."""
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in history]
