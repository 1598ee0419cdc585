"""Retraining a winner that stopped early: its validated epochs, all of them, or as before.

The question behind ``retrain_best``'s rule (2e8f1f8). A trial that early stopping ended
after E < max_epochs epochs is retrained on train+val; should that model train E epochs
(the rule today), all max_epochs, or (before 2e8f1f8) max_epochs with the config's early
stopping watching the validation split, which is training data in a retrain? The peers
benchmark cannot say: it has one split per data set, and its winners differ from run to run.

Here, on each of several fresh splits of a data set (``benchmarks._splits.fresh_split``: each
its own validation and test samples, never the peers' split 0), random configs of the default
space that use early stopping are each trained on train with that early stopping on val, as a
trial on the validation split is (E: the epochs it trained), then retrained on train+val three
ways from the same seed and tested once:

- ``validated``: E epochs, the schedule laid out over max_epochs, no early stopping
  (``retrain_best`` today: :func:`automl_nn.results.retrain_config`);
- ``max_epochs``: all max_epochs, no early stopping;
- ``early_stopping``: max_epochs with the config's early stopping on the validation split
  (``retrain_best`` before 2e8f1f8).

Figures per data set, over the configs that stopped early (E < max_epochs; the rules agree on
the others) and over splits: the mean test metric of each rule, how often ``validated`` tests
better / worse than ``max_epochs``, and the same for each split's winner (the config with the
best validation metric, which is what ``retrain_best`` retrains). A trial that diverged is left
out. Cross-validated trials (the default on breast_cancer and diabetes) take E from their
longest fold; here E comes from the validation split.

Run: ``python -m benchmarks retrain_rule`` (``--quick``: 1 data set, 2 splits, 4 configs).
Duration: about 15 minutes here on 2 processes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks._report import markdown_table
from benchmarks._splits import FRESH_SPLITS, scored_metric
from benchmarks.selection import (
    EPOCHS,
    candidate_configs,
    data_set_label,
    first_by,
    metric_text,
    split_benchmark_markdown,
    split_of,
    summary_row,
    write_split_benchmark,
)

NAME = "retrain_rule"
FULL = {
    "datasets": ("breast_cancer", "digits", "diabetes"),
    "splits": (1, 2, 3, 4, 5),
    "configs": 16,
}
QUICK = {"datasets": ("wine",), "splits": (1, 2), "configs": 4}
RULES = ("validated", "max_epochs", "early_stopping")


def score_config(dataset: str, split: int, config: dict[str, Any]) -> dict[str, Any]:
    """The validated epochs and metric of one config on one split, and each rule's test."""
    import torch

    from automl_nn import evaluate, fit
    from automl_nn.results import retrain_config

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    validated = fit(config, data, seed=0, device="cpu")
    scores: dict[str, Any] = {
        "val": validated.metrics[f"val_{name}"],
        "epochs": validated.epochs,
        "status": validated.status,
    }
    retrained = {
        "validated": retrain_config(
            config, data, epochs=validated.epochs, schedule_epochs=EPOCHS, seed=0, device="cpu"
        ),
        "max_epochs": retrain_config(
            config, data, epochs=EPOCHS, schedule_epochs=EPOCHS, seed=0, device="cpu"
        ),
        "early_stopping": fit(config, data.merged_train_val(), seed=0, device="cpu"),
    }
    for rule, final in retrained.items():
        scores[rule] = evaluate(final.model, data, "test")[name]
        scores[f"{rule}_epochs"] = final.epochs
    return scores


def stopped_early(scores: dict[str, Any]) -> bool:
    """Whether the rules can differ: the config stopped before max_epochs, not by diverging."""
    return scores["status"] != "diverged" and scores["epochs"] < EPOCHS


def split_figures(scores: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Each rule's mean test over the configs that stopped early, and its winner's test."""
    early = [s for s in scores if stopped_early(s)]
    figures: dict[str, Any] = {
        "configs": len(scores),
        "stopped_early": len(early),
        "median_epochs": statistics.median(s["epochs"] for s in early) if early else math.nan,
    }
    candidates = [s for s in scores if s["status"] != "diverged"]
    winner = candidates[first_by(candidates, "val", mode)[0]] if candidates else None
    figures["winner_stopped_early"] = winner is not None and stopped_early(winner)
    for rule in RULES:
        tests = [s[rule] for s in early if math.isfinite(s[rule])]
        figures[f"{rule}_mean_test"] = statistics.fmean(tests) if tests else math.nan
        figures[f"{rule}_winner_test"] = winner[rule] if winner else math.nan
    figures["validated_better"] = sum(_better(s["validated"], s["max_epochs"], mode) for s in early)
    figures["validated_worse"] = sum(_better(s["max_epochs"], s["validated"], mode) for s in early)
    return figures


def _better(value: float, than: float, mode: str) -> bool:
    return value > than if mode == "max" else value < than


def run(quick: bool = False) -> dict[str, Any]:
    """Score every candidate on every split; writes results/retrain_rule.{json,md}."""
    settings = QUICK if quick else FULL
    scoring = (early_stopping_configs, score_config, split_figures)
    return write_split_benchmark(NAME, quick, settings, scoring, summarize, to_markdown)


def early_stopping_configs(data: Any, count: int, seed: int) -> list[dict[str, Any]]:
    """The first ``count`` random configs of the default space that use early stopping."""
    drawn = candidate_configs(data, 8 * count, seed)
    chosen = [c for c in drawn if c.get("regularization", {}).get("early_stopping")]
    return chosen[:count]


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set: the rules' tests averaged over splits, and the counts summed."""
    rows = []
    for dataset, found in datasets.items():
        counts = ("configs", "stopped_early", "validated_better", "validated_worse")
        row, splits = summary_row(dataset, found, counts)
        row["winners_stopped_early"] = sum(bool(s["winner_stopped_early"]) for s in splits)
        epochs = [s["median_epochs"] for s in splits if math.isfinite(s["median_epochs"])]
        row["median_epochs"] = statistics.median(epochs) if epochs else math.nan
        for rule in RULES:
            for figure in ("mean_test", "winner_test"):
                values = [s[f"{rule}_{figure}"] for s in splits]
                finite = [v for v in values if math.isfinite(v)]
                row[f"{rule}_{figure}"] = statistics.fmean(finite) if finite else math.nan
        rows.append(row)
    return rows


def _table_row(row: dict[str, Any]) -> list[Any]:
    return [
        data_set_label(row),
        f"{row['stopped_early']} of {row['configs']}",
        f"{row['median_epochs']:g}",
        " / ".join(metric_text(row, f"{rule}_mean_test") for rule in RULES),
        f"{row['validated_better']} / {row['validated_worse']}",
        " / ".join(metric_text(row, f"{rule}_winner_test") for rule in RULES),
        f"{row['winners_stopped_early']} of {row['splits']}",
    ]


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, the table, and the machine."""
    settings = payload["settings"]
    rules = " / ".join(RULES)
    table = markdown_table(
        [
            "data set",
            "stopped early",
            "median E",
            f"mean test: {rules}",
            "validated better / worse than max_epochs",
            f"winner's test: {rules}",
            "winners that stopped early",
        ],
        [_table_row(row) for row in payload["summary"]],
    )
    return split_benchmark_markdown(
        payload,
        "Retraining a config that stopped early",
        f"{settings['configs']} random configs of the default space that use early stopping"
        f" ({payload['epochs']} epochs at most) on each of the splits {settings['splits']} "
        f"({FRESH_SPLITS}). Each trains on train with early stopping on val "
        "(E: the epochs it trained), then is retrained on train+val from the same seed "
        "three ways and tested once: `validated` (E epochs, no early stopping: "
        "`retrain_best` today), `max_epochs` (all of them, no early stopping) and "
        "`early_stopping` (max_epochs, early stopping on the validation split, which is "
        "training data here: `retrain_best` before 2e8f1f8). Mean test metric over the "
        "configs that stopped early (E < max_epochs), averaged over splits (accuracy: "
        "higher is better; MSE: lower); the winner is each split's config with the best "
        "validation metric.",
        table,
    )
