"""Quality: a sensible config reaches the accuracy the MNIST-1D literature leads us to expect."""

from __future__ import annotations

import pytest

from automl_nn import evaluate, fit, load_dataset

# A small dilated CNN trained with AdamW and a one-cycle schedule. The MNIST-1D paper's
# hand-made CNN reached 94% test accuracy.
DILATED_CNN = {
    "model": {
        "family": "cnn",
        "depth": 5,
        "channels": 64,
        "kernel_size": 5,
        "dilation_growth": 2,
        "pooling": "none",
        "global_pool": "flatten",
        "activation": "gelu",
    },
    "optimizer": {"name": "adamw", "lr": 3e-3},
    "schedule": {"name": "one_cycle"},
    "regularization": {
        "weight_decay": 0.05,
        "batch_norm": True,
        "augmentation": {"name": "sequence", "shift": 0.05, "scale": 0.1, "noise": 0.02},
    },
    "training": {"batch_size": 64, "epochs": 30},
}


@pytest.mark.slow  # 30 epochs of a CNN: about a minute on 2 cores
def test_dilated_cnn_reaches_98_percent_test_accuracy_on_mnist1d() -> None:
    data = load_dataset("mnist1d")
    result = fit(DILATED_CNN, data, seed=0)
    assert result.status == "completed"
    assert evaluate(result.model, data, "test")["accuracy"] >= 0.98
