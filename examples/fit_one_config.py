"""Train one config without Ray or MLflow: fit, evaluate, cross-validate."""

from __future__ import annotations

import automl_nn

CONFIG = {
    "model": {"family": "cnn", "depth": 4, "channels": 32, "kernel_size": 5, "dilation_growth": 2},
    "optimizer": {"name": "adamw", "lr": 3e-3},
    "schedule": {"name": "one_cycle"},
    "regularization": {"weight_decay": 0.05, "batch_norm": True},
    "training": {"batch_size": 64, "epochs": 10},
}


def main() -> None:
    data = automl_nn.load_dataset("mnist1d")
    result = automl_nn.fit(CONFIG, data, on_epoch=lambda epoch, m: print(epoch, m["val_accuracy"]))
    print(result.status, result.num_parameters, "parameters")
    print("test:", automl_nn.evaluate(result.model, data, "test"))


if __name__ == "__main__":
    main()
