"""Search on your own CSV file (here one written from scikit-learn's wine data).

Run from the repository root:  python examples/search_csv.py [path/to/data.csv target_column]
"""

from __future__ import annotations

import sys
from pathlib import Path

import automl_nn


def write_example_csv(path: Path) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame.to_csv(path, index=False)


def main(csv_path: Path, target: str) -> None:
    data = automl_nn.from_csv(csv_path, target=target)
    print(f"{data.name}: {data.kind}, {data.input_shape} features, classes {data.class_names}")
    result = automl_nn.search(data, "quick", num_trials=12, max_epochs=15)
    print(result.leaderboard[["trial_id", "status", "val_accuracy"]].head().to_string(index=False))
    final = result.retrain_best()
    print(f"test accuracy: {final.test_metrics['test_accuracy']:.4f}")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        main(Path(sys.argv[1]), sys.argv[2])
    else:
        example = Path("wine_example.csv")
        write_example_csv(example)
        main(example, "target")
