"""Breaking ties between trials: the earliest one, or the one with the lowest log-loss.

The question behind the leaderboard's order. On small data many trials tie on validation
accuracy (in the peers benchmark every tool's winner on digits scored 0.9965 on its 360-sample
validation split, and on breast_cancer default's 5-fold trials tied at 0.9868 by the
hundreds), and the leaderboard's stable sort puts the earliest tied trial first. Would the
tied trial whose outputs are most confident where they are right (the lowest log-loss of its
softmax, or sigmoid, outputs on the same validation data, whatever loss it trained with) test
better? A trial's own validation loss cannot say: losses differ across trials (MSE, hinge,
focal, label smoothing), so it was tried and reverted on 2026-11-26.

Here, on each of several fresh splits of a data set (``benchmarks._splits.fresh_split``: each
its own validation and test samples, never the peers' split 0), random configs of the default
space are each validated as a default search's trial is (``cv_folds="auto"``: 5 folds of
train+val on breast_cancer and wine, the validation split on digits), then retrained on
train+val as ``retrain_best`` does (the validated epochs; the longest fold's when
cross-validated) and tested once. No searcher, no scheduler: the figure is what each order puts
first among the same candidates.

Figures per data set, over splits: how many candidates tie at the best validation metric;
the test metric of the pick of each order (``earliest``: metric, then the earlier candidate,
as today; ``log_loss``: metric, then the lower validation log-loss); the mean test metric of
the tied candidates (what ``earliest`` scores on average over candidate orders); how often
``log_loss``'s pick tests better / worse than that mean; over every pair of candidates tied
on validation metric (at the top or not: 40 random candidates seldom tie at the best, a
search's hundreds of trials do), how often the one with the lower log-loss tests better /
worse; and the best and median candidate.

Run: ``python -m benchmarks tie_break`` (``--quick``: 1 data set, 2 splits, 6 configs).
Duration: about 27 minutes here on 2 processes.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks._report import markdown_table
from benchmarks._splits import FRESH_SPLITS, scored_metric
from benchmarks.selection import (
    EPOCHS,
    candidate_configs,
    split_benchmark_markdown,
    split_of,
    write_split_benchmark,
)

NAME = "tie_break"
FULL = {"datasets": ("breast_cancer", "wine", "digits"), "splits": (1, 2, 3, 4, 5), "configs": 40}
QUICK = {"datasets": ("wine",), "splits": (1, 2), "configs": 6}
ORDERS = ("earliest", "log_loss")


def score_config(dataset: str, split: int, config: dict[str, Any]) -> dict[str, float]:
    """Validation metric and log-loss of one config as a default trial, and its retrained test."""
    import torch

    from automl_nn import evaluate, fit
    from automl_nn.api import resolve_cv_folds
    from automl_nn.results import retrain_config
    from automl_nn.training import fold_splits

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    folds = resolve_cv_folds("auto", data)
    validations = fold_splits(data, folds, seed=0) if folds else [data]
    metrics, losses, epochs = [], [], []
    for seed, fold in enumerate(validations):
        result = fit(config, fold, seed=seed, device="cpu")
        metrics.append(result.metrics[f"val_{name}"])
        losses.append(result.metrics["val_log_loss"])
        epochs.append(result.epochs)
    final = retrain_config(
        config, data, epochs=max(epochs), schedule_epochs=EPOCHS, seed=0, device="cpu"
    )
    return {
        "val": _mean_or_nan(metrics),
        "log_loss": _mean_or_nan(losses),
        "test": evaluate(final.model, data, "test")[name],
        "folds": len(validations),
    }


def _mean_or_nan(values: Sequence[float]) -> float:
    return statistics.fmean(values) if all(math.isfinite(v) for v in values) else math.nan


def pick(scores: Sequence[dict[str, float]], order: str) -> int:
    """The index each order puts first: best ``val`` (NaN never), then its tie-break.

    Example:
        >>> scores = [{"val": 0.9, "log_loss": 0.3}, {"val": 0.9, "log_loss": 0.2}]
        >>> pick(scores, "earliest"), pick(scores, "log_loss")
        (0, 1)
    """
    finite = [i for i, s in enumerate(scores) if math.isfinite(s["val"])]
    tied = tied_at_best(scores, finite)
    if order == "earliest":
        return tied[0]
    return min(tied, key=lambda i: _nan_last(scores[i]["log_loss"]))


def tied_at_best(scores: Sequence[dict[str, float]], finite: Sequence[int]) -> list[int]:
    """The indices whose validation metric equals the best one (higher is better)."""
    best = max(scores[i]["val"] for i in finite)
    return [i for i in finite if scores[i]["val"] == best]


def _nan_last(value: float) -> float:
    return value if math.isfinite(value) else math.inf


def split_figures(scores: Sequence[dict[str, float]], mode: str) -> dict[str, Any]:
    """Each order's pick, the tied candidates' mean test, and the best and median candidate."""
    if mode != "max":
        raise ValueError(f"tie_break ranks classification only; got mode {mode!r}")
    finite = [i for i, s in enumerate(scores) if math.isfinite(s["val"] + s["test"])]
    tied = tied_at_best(scores, finite)
    tests = [scores[i]["test"] for i in finite]
    figures: dict[str, Any] = {
        "tied": len(tied),
        "tied_mean_test": statistics.fmean(scores[i]["test"] for i in tied),
        "best_test": max(tests),
        "median_test": statistics.median(tests),
    }
    kept = [scores[i] for i in finite]
    for order in ORDERS:
        figures[f"{order}_test"] = kept[pick(kept, order)]["test"]
    figures["pairs_lower_log_loss_better"], figures["pairs_lower_log_loss_worse"] = (
        tied_pairs_won_by_lower_log_loss(kept)
    )
    return figures


def tied_pairs_won_by_lower_log_loss(scores: Sequence[dict[str, float]]) -> tuple[int, int]:
    """Over pairs tied on validation metric: how often the lower log-loss tests better, worse.

    Every tied pair counts, not only those at the top: few of a handful of random candidates
    tie at the best metric, while a search's hundreds of trials do. Pairs whose log-losses or
    tests are equal, or not finite, are left out.

    Example:
        >>> low = {"val": 0.9, "log_loss": 0.2, "test": 0.8}
        >>> tied_pairs_won_by_lower_log_loss([low, {**low, "log_loss": 0.3, "test": 0.7}])
        (1, 0)
    """
    better = worse = 0
    for a, b in itertools.combinations(scores, 2):
        if a["val"] != b["val"] or not math.isfinite(a["log_loss"] + b["log_loss"]):
            continue
        lower, higher = (a, b) if a["log_loss"] < b["log_loss"] else (b, a)
        if lower["log_loss"] == higher["log_loss"]:
            continue
        better += lower["test"] > higher["test"]
        worse += lower["test"] < higher["test"]
    return better, worse


def run(quick: bool = False) -> dict[str, Any]:
    """Score every candidate on every split; writes results/tie_break.{json,md}."""
    settings = QUICK if quick else FULL
    scoring = (candidate_configs, score_config, split_figures)
    return write_split_benchmark(NAME, quick, settings, scoring, summarize, to_markdown)


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set: figures averaged over splits, and log_loss's wins and losses."""
    rows = []
    for dataset, found in datasets.items():
        splits = list(found["splits"].values())
        row: dict[str, Any] = {"dataset": dataset, "splits": len(splits)}
        row["folds"] = found["splits"][next(iter(found["splits"]))]["scores"][0]["folds"]
        for name in ("tied", "tied_mean_test", "best_test", "median_test"):
            row[name] = statistics.fmean(s[name] for s in splits)
        for order in ORDERS:
            row[f"{order}_test"] = statistics.fmean(s[f"{order}_test"] for s in splits)
        row["log_loss_better"] = sum(s["log_loss_test"] > s["tied_mean_test"] for s in splits)
        row["log_loss_worse"] = sum(s["log_loss_test"] < s["tied_mean_test"] for s in splits)
        for count in ("pairs_lower_log_loss_better", "pairs_lower_log_loss_worse"):
            row[count] = sum(s[count] for s in splits)
        rows.append(row)
    return rows


def _table_row(row: dict[str, Any]) -> list[Any]:
    return [
        row["dataset"],
        row["splits"],
        "validation split" if row["folds"] == 1 else f"{row['folds']}-fold CV",
        f"{row['tied']:.1f}",
        f"{row['earliest_test']:.4f}",
        f"{row['tied_mean_test']:.4f}",
        f"{row['log_loss_test']:.4f}",
        f"{row['log_loss_better']} / {row['log_loss_worse']}",
        f"{row['pairs_lower_log_loss_better']} / {row['pairs_lower_log_loss_worse']}",
        f"{row['best_test']:.4f} / {row['median_test']:.4f}",
    ]


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, the table, and the machine."""
    settings = payload["settings"]
    table = markdown_table(
        [
            "data set",
            "splits",
            "trials validate on",
            "tied at the best val. accuracy",
            "test of earliest's pick",
            "mean test of the tied",
            "test of log_loss's pick",
            "log_loss better / worse than the tied mean",
            "tied pairs: lower log-loss tests better / worse",
            "best / median candidate",
        ],
        [_table_row(row) for row in payload["summary"]],
    )
    return split_benchmark_markdown(
        payload,
        "Breaking ties between trials: earliest vs lowest validation log-loss",
        f"{settings['configs']} random configs of the default space ({payload['epochs']} "
        f"epochs) on each of the splits {settings['splits']} ({FRESH_SPLITS}),"
        " each validated as a default search's trial is and retrained as `retrain_best` "
        "does, then tested once. Test accuracy of the config each order puts first among "
        "those tied at the best validation accuracy (`earliest`: today's order; `log_loss`:"
        " the lowest log-loss of softmax outputs on the same validation data), and the tied"
        " candidates' mean test accuracy (what `earliest` scores on average over candidate "
        "orders), averaged over splits. Tied pairs: every pair of candidates with the same "
        "validation accuracy on a split (at the top or not), counted by whether the one "
        "with the lower validation log-loss tests better or worse (test ties left out).",
        table,
    )
