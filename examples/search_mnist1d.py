"""The main job in Python: search MNIST-1D, retrain the winner, test it, export it.

Run from the repository root:  python examples/search_mnist1d.py
Then open the MLflow UI:        mlflow ui --backend-store-uri sqlite:///mlflow.db
"""

from __future__ import annotations

import automl_nn


def main() -> None:
    result = automl_nn.search("mnist1d", "default", registered_model_name="mnist1d-classifier")
    columns = ["trial_id", "status", "epochs", "val_accuracy", "config.model.family"]
    print(result.leaderboard[columns].head(10).to_string(index=False))
    final = result.retrain_best()
    print(f"test accuracy of the retrained winner: {final.test_metrics['test_accuracy']:.4f}")
    print(f"exported to {result.export('mnist1d_best_model')}")


if __name__ == "__main__":
    main()
