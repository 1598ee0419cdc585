"""The final model of a small-data search: the winner's seeds, or the top configs together.

The question behind ``retrain_best(top_k=...)``: a search that cross-validated its trials
(small data) ranks a hundred or more of them by a 5-fold mean that differs from trial to
trial by a sample or two, so which of the top few comes first is partly luck (the winner's
curse).
For the same retraining cost, does the mean prediction of the top ``k`` configs (a
:class:`~automl_nn.training.ConfigEnsemble`, one model each) test better than the winner
retrained from ``k`` seeds (a :class:`~automl_nn.training.SeedEnsemble`, what
``retrain_best(seeds="auto")`` trains)? And with ``k`` configs of 5 seeds each?

Here, on each of several fresh splits of a small data set (``benchmarks._splits.fresh_split``:
each its own validation and test samples, never the peers' split 0), random configs of the
default space are each cross-validated on train+val (5 folds, as a default search's trial is)
and retrained on train+val from seeds 0-4 (``EPOCHS``, no early stopping); each member's test
outputs are kept until the split's figures are computed. The configs are ranked as the
leaderboard ranks trials (CV metric; ties: lower CV log-loss for classes), and each final is
built from the outputs of the first ``k``: ``top{k}x{seeds}`` is the ConfigEnsemble of the top
``k`` configs, each the SeedEnsemble of its first ``seeds`` members (``top1x1``: the winner
alone; ``top1x5``: ``retrain_best``'s default for such searches before ``top_k``).

Figures per data set, over splits: each final's mean test metric, and on how many splits
each final tests better / worse than ``top1x5``. A config with a diverged member is left
out of the ranking.

Run: ``python -m benchmarks final_configs`` (``--quick``: 1 data set, 2 splits, 6 configs).
Duration: about 6 minutes here on 2 processes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks._report import markdown_table
from benchmarks._splits import FRESH_SPLITS, scored_metric
from benchmarks.peers import is_better
from benchmarks.selection import (
    EPOCHS,
    FOLDS,
    candidate_configs,
    data_set_label,
    metric_text,
    split_benchmark_markdown,
    split_of,
    write_split_benchmark,
)

NAME = "final_configs"
FULL = {"datasets": ("breast_cancer", "diabetes", "wine"), "splits": (1, 2, 3, 4, 5), "configs": 24}
QUICK = {"datasets": ("wine",), "splits": (1, 2), "configs": 6}
SEEDS = 5
FINALS: tuple[tuple[int, int], ...] = ((1, 1), (1, 5), (3, 1), (5, 1), (3, 5), (5, 5))
REFERENCE = (1, 5)


def final_name(top: int, seeds: int) -> str:
    return f"top{top}x{seeds}"


def score_config(dataset: str, split: int, config: dict[str, Any]) -> dict[str, Any]:
    """The CV metric (and log-loss) of one config on one split, and its members' test outputs."""
    import torch

    from automl_nn import cross_validate
    from automl_nn.results import retrain_config
    from automl_nn.training import predict

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    cv = cross_validate(config, data, k=FOLDS, seed=0, device="cpu").mean
    final = retrain_config(
        config, data, epochs=EPOCHS, schedule_epochs=EPOCHS, seed=0, seeds=SEEDS, device="cpu"
    )
    return {
        "dataset": dataset,
        "split": split,
        "cv": cv[f"val_{name}"],
        "cv_log_loss": cv.get("val_log_loss", math.nan),
        "diverged": any(member.status == "diverged" for member in final.members),
        "outputs": [predict(member.model, data.x_test).tolist() for member in final.members],
    }


def ranked(scores: Sequence[dict[str, Any]], mode: str) -> list[int]:
    """Indices of the usable configs, best first, as the leaderboard ranks trials."""
    usable = [i for i, s in enumerate(scores) if not s["diverged"] and math.isfinite(s["cv"])]
    sign = -1.0 if mode == "max" else 1.0

    def key(i: int) -> tuple[float, float]:
        tie = scores[i]["cv_log_loss"]
        return (sign * scores[i]["cv"], tie if math.isfinite(tie) else math.inf)

    return sorted(usable, key=key)


def kept_like_retrain_best(items: Sequence[Any], diverged: Sequence[bool]) -> list[Any]:
    """The items whose model did not diverge (all, when each did): what a SeedEnsemble and a
    ConfigEnsemble keep.

    Example:
        >>> kept_like_retrain_best(["a", "b"], [True, False]), kept_like_retrain_best(["a"], [True])
        (['b'], ['a'])
    """
    kept = [item for item, gone in zip(items, diverged, strict=True) if not gone]
    return kept or list(items)


def final_test(
    scores: Sequence[dict[str, Any]], order: Sequence[int], top: int, seeds: int, data: Any
) -> float:
    """Test metric of the ConfigEnsemble of the top configs, each a SeedEnsemble of seeds."""
    import torch

    from automl_nn.training import mean_prediction, outputs_metrics

    classification = data.kind != "regression"
    per_config, config_diverged = [], []
    for i in order[:top]:
        outputs = scores[i]["outputs"][:seeds]
        flags = scores[i].get("member_diverged", [False] * len(outputs))[:seeds]
        kept = kept_like_retrain_best(outputs, flags)
        per_config.append(torch.stack([torch.tensor(out) for out in kept]).mean(dim=0))
        config_diverged.append(all(flags))
    per_config = kept_like_retrain_best(per_config, config_diverged)
    outputs = (
        per_config[0]
        if len(per_config) == 1
        else mean_prediction(per_config, classification=classification)
    )
    return outputs_metrics(outputs, data, "test")["accuracy" if classification else "mse"]


def split_figures(scores: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Each final's test metric on one split; the members' outputs are dropped afterwards."""
    order = ranked(scores, mode)
    figures: dict[str, Any] = {"configs": len(scores), "kept": len(order)}
    if order:
        data = split_of(scores[0]["dataset"], scores[0]["split"])
        for top, seeds in FINALS:
            figures[final_name(top, seeds)] = final_test(scores, order, top, seeds, data)
    for score in scores:
        del score["outputs"]  # tens of thousands of numbers per split; the figures hold them
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    """Score every candidate on every split; writes results/final_configs.{json,md}."""
    settings = QUICK if quick else FULL
    scoring = (candidate_configs, score_config, split_figures)
    return write_split_benchmark(
        NAME, quick, settings, scoring, summarize, to_markdown, folds=FOLDS, seeds=SEEDS
    )


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set: each final's test averaged over splits, and its wins over top1x5."""
    reference = final_name(*REFERENCE)
    return [
        summary_row(dataset, found["mode"], [s for s in found["splits"].values() if reference in s])
        for dataset, found in datasets.items()
    ]


def summary_row(
    dataset: str,
    mode: str,
    splits: Sequence[dict[str, Any]],
    finals: Sequence[tuple[int, int]] = FINALS,
) -> dict[str, Any]:
    """Each final's mean test over ``splits`` (one figure per final each), and the splits on
    which it tests better / worse than ``REFERENCE``."""
    reference = final_name(*REFERENCE)
    row: dict[str, Any] = {"dataset": dataset, "mode": mode, "splits": len(splits)}
    for final in (final_name(*f) for f in finals):
        values = [s[final] for s in splits if math.isfinite(s[final])]
        row[f"{final}_mean_test"] = statistics.fmean(values) if values else math.nan
        row[f"{final}_better"] = sum(is_better(s[final], s[reference], mode) for s in splits)
        row[f"{final}_worse"] = sum(is_better(s[reference], s[final], mode) for s in splits)
    return row


def summary_table(
    rows: Sequence[dict[str, Any]], finals: Sequence[tuple[int, int]] = FINALS
) -> str:
    """A markdown table of :func:`summary_row` rows: a column per final."""
    return markdown_table(
        ["data set", "splits", *(final_name(*f) for f in finals)],
        [_table_row(row, finals) for row in rows],
    )


def _table_row(row: dict[str, Any], finals: Sequence[tuple[int, int]]) -> list[Any]:
    cells = [data_set_label(row), row["splits"]]
    for final in (final_name(*f) for f in finals):
        cells.append(
            f"{metric_text(row, f'{final}_mean_test')} "
            f"({row[f'{final}_better']} / {row[f'{final}_worse']})"
        )
    return cells


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, the table, and the machine."""
    settings = payload["settings"]
    reference = final_name(*REFERENCE)
    table = summary_table(payload["summary"])
    return split_benchmark_markdown(
        payload,
        "The final model of a small-data search: the winner's seeds or the top configs",
        f"{settings['configs']} random configs of the default space ({payload['epochs']} "
        f"epochs) on each of the splits {settings['splits']} ({FRESH_SPLITS}), "
        f"each cross-validated on train+val ({payload['folds']} folds) and retrained on "
        f"train+val from seeds 0-{SEEDS - 1}, then ranked as the leaderboard ranks trials "
        "(CV metric; ties: lower CV log-loss for classes). `topKxS`: the mean prediction "
        "of the top K configs (probabilities for classes, a ConfigEnsemble), each the mean "
        f"of its first S seeds (a SeedEnsemble). Cells: the test metric averaged over "
        f"splits (accuracy: higher is better; MSE: lower), and (splits better / worse than "
        f"`{reference}`, the winner from {SEEDS} seeds).",
        table,
    )
