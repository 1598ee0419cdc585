"""What ``automl-nn`` prints: leaderboards, the best config, test metrics, the data sets."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from automl_nn.results import CONFIG_PREFIX

if TYPE_CHECKING:
    from automl_nn._cli_show import StoredSearch
    from automl_nn.results import SearchResult
    from automl_nn.training import FitResult

LEADERBOARD_ROWS = 10
CONFIG_COLUMNS = 4
# Metrics shown next to the optimized one when the trials report them.
EXTRA_METRICS = ("val_loss",)


def leaderboard_table(board: pd.DataFrame, metric: str, rows: int | None = None) -> str:
    """The key columns of a leaderboard as text: trial, status, epochs, metrics, config.

    The config columns are those that differ between the rows shown (at most
    :data:`CONFIG_COLUMNS`), named without their ``config.`` prefix.

    Example:
        >>> board = pd.DataFrame({"trial_id": ["a", "b"], "status": ["completed"] * 2,
        ...     "epochs": [2, 1], "val_loss": [0.25, 0.5],
        ...     "config.optimizer.name": ["sgd", "adam"]})
        >>> print(leaderboard_table(board, "val_loss"))
        trial_id    status  epochs  val_loss optimizer.name
               a completed       2      0.25            sgd
               b completed       1       0.5           adam
    """
    top = board if rows is None else board.head(rows)
    metrics = [name for name in dict.fromkeys((metric, *EXTRA_METRICS)) if name in top]
    columns = ["trial_id", "status", "epochs", *metrics, *_config_columns(top)]
    shown = top[[name for name in columns if name in top]]
    return shown.rename(columns=lambda name: name.removeprefix(CONFIG_PREFIX)).to_string(
        index=False, float_format=_number, na_rep="-"
    )


def _config_columns(board: pd.DataFrame) -> list[str]:
    config = [name for name in board.columns if name.startswith(CONFIG_PREFIX)]
    varying = [name for name in config if board[name].nunique(dropna=False) > 1]
    return (varying or config)[:CONFIG_COLUMNS]


def _number(value: float) -> str:
    return f"{value:.4g}"


def config_yaml(config: dict[str, Any]) -> str:
    """A trial config as YAML, in the section order of the config.

    Example:
        >>> print(config_yaml({"optimizer": {"name": "sgd", "lr": 0.1}}), end="")
        optimizer:
          name: sgd
          lr: 0.1
    """
    # Through JSON, because searchers may hand back numpy scalars that YAML cannot write.
    plain = json.loads(json.dumps(config, default=lambda value: value.item()))
    return yaml.safe_dump(plain, sort_keys=False, default_flow_style=False)


def print_search_report(result: SearchResult) -> None:
    """The top of the leaderboard and the best config of a finished search."""
    trials = len(result.leaderboard)
    print(
        f"\nLeaderboard: top {min(trials, LEADERBOARD_ROWS)} of {trials} trials "
        f"by {result.metric} ({result.mode})"
    )
    print(leaderboard_table(result.leaderboard, result.metric, LEADERBOARD_ROWS))
    print(
        f"\nBest config: trial {result.best_trial_id}, {result.metric} "
        f"{_number(result.best_metric)}"
    )
    print(config_yaml(result.best_config), end="")


def print_test_metrics(final: FitResult) -> None:
    """The test metrics of the final model retrained on train+val: its configs, epochs, seeds."""
    from automl_nn.training import ensemble_size

    configs, seeds = ensemble_size(final)
    averaged = f" from {seeds} seeds, their outputs averaged" if seeds > 1 else ""
    if configs > 1:
        print(
            f"\nTest metrics of the top {configs} trials' configs, retrained on train+val "
            f"(each for its trial's epochs{averaged}), their predictions averaged:"
        )
    else:
        print(
            "\nTest metrics of the best config, retrained on train+val for "
            f"{len(final.history)} epochs{averaged}:"
        )
    for name, value in sorted(final.test_metrics.items()):
        shown = _number(value) if math.isfinite(value) else str(value)
        print(f"  {name:<16} {shown}")


def print_stored_search(search: StoredSearch) -> None:
    """Every trial of a search read back from MLflow, best first."""
    print(
        f"Search {search.run_name} (MLflow parent run {search.parent_run_id}) in experiment "
        f"{search.experiment!r}: {len(search.leaderboard)} trials by {search.metric} "
        f"({search.mode})"
    )
    if search.leaderboard.empty:
        print("No trial has started yet.")
    else:
        print(leaderboard_table(search.leaderboard, search.metric))


def datasets_table() -> str:
    """The built-in data sets: task kind, input kind and shape, classes, split sizes."""
    from automl_nn.data import list_datasets, load_dataset

    rows = []
    for name in list_datasets():
        described = load_dataset(name).describe()
        rows.append(
            {
                "name": name,
                "kind": described["kind"],
                "input": described["input_kind"],
                "shape": "x".join(str(size) for size in described["input_shape"]),
                "classes": described["num_classes"] or "-",
                "train": described["num_train"],
                "val": described["num_val"],
                "test": described["num_test"],
            }
        )
    return pd.DataFrame(rows).to_string(index=False)
