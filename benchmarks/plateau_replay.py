"""A plateau schedule in the final retraining: watch train+val's validation split, or replay.

The question behind ``schedule.replayed_scales``: ``retrain_best`` trains the winner on
train+val, so the validation split it still reports on is training data. A ``plateau``
schedule that watches that split's loss sees it fall where the trial's stalled, and lowers the
rate at other epochs than the trial did (or never), so the final model does not repeat what
was validated. Replaying the trial's recorded rates (its history's ``lr``; a cross-validated
trial's mean over its folds) does.

Here, on each of several fresh splits of a small data set (``benchmarks._splits.fresh_split``,
never the peers' split 0), random configs of the default space with a plateau schedule are
each run as a default search's trial is (cross-validated on train+val where
``cv_folds="auto"`` gives folds, else trained on train), then retrained from seed 0 for the
trial's epochs (``retrain_config``) twice: ``watching`` (without the trial's rates: what
``retrain_best`` did before) and ``replaying`` (with them: what it does now), and each is
tested once. Figures per data set: how many configs' watching retrain had rates that differ
from the trial's, the replaying retrain's (it should be none), and the two tests, over the
configs whose rates differed (the others train the same model).

Run: ``python -m benchmarks plateau_replay`` (``--quick``: 1 data set, 2 splits, 3 configs).
Duration: about 6 minutes here (2026-11-28) on 2 processes.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks._report import markdown_table
from benchmarks._splits import FRESH_SPLITS, scored_metric
from benchmarks.peers import is_better
from benchmarks.selection import (
    EPOCHS,
    FOLDS,
    data_set_label,
    metric_text,
    split_benchmark_markdown,
    split_of,
    summary_row,
    write_split_benchmark,
)

NAME = "plateau_replay"
FULL = {"datasets": ("breast_cancer", "diabetes", "wine"), "splits": (1, 2, 3, 4, 5), "configs": 8}
QUICK = {"datasets": ("wine",), "splits": (1, 2), "configs": 3}
FINALS = ("watching", "replaying")
# The figures of a split that its data set's summary sums.
COUNTS = (
    "configs",
    "kept",
    "watching_strayed",
    "replaying_strayed",
    "replaying_better",
    "replaying_worse",
)
# Rates within this relative distance are the same rate (a replayed scale is rate / base).
SAME_RATE = 1e-9


def plateau_configs(data: Any, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` random configs of the default space whose schedule is a plateau."""
    from automl_nn.space import input_kind_of, load_space
    from automl_nn.trainable import trial_config

    space = load_space("default").specialize(data.kind, input_kind_of(data.input_shape))
    rng = random.Random(seed)
    configs: list[dict[str, Any]] = []
    while len(configs) < count:
        config = space.sample(rng)
        if (config.get("schedule") or {}).get("name") == "plateau":
            configs.append(trial_config(config, EPOCHS))
    return configs


def score_config(dataset: str, split: int, config: dict[str, Any]) -> dict[str, Any]:
    """The trial's rates, each retrain's rates and test metric, for one config on one split."""
    import torch

    from automl_nn import evaluate
    from automl_nn.api import resolve_cv_folds
    from automl_nn.results import retrain_config
    from automl_nn.training import CrossValidatedRun, TrainingRun

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    folds = resolve_cv_folds("auto", data)
    trial = (
        TrainingRun(config, data, seed=0)
        if folds is None
        else CrossValidatedRun(config, data, k=folds, seed=0)
    )
    status = trial.run()
    trial_rates = [row["lr"] for row in trial.history]
    scores: dict[str, Any] = {
        "trial": "holdout" if folds is None else "cv",
        "epochs": len(trial_rates),
        "trial_rates": trial_rates,
        "diverged": status == "diverged",
    }
    for final, replayed in zip(FINALS, (None, trial_rates), strict=True):
        retrained = retrain_config(
            config,
            data,
            epochs=len(trial_rates),
            schedule_epochs=EPOCHS,
            seed=0,
            trial_learning_rates=replayed,
        )
        scores[f"{final}_rates"] = [row["lr"] for row in retrained.history]
        scores[f"{final}_test"] = evaluate(retrained.model, data, "test")[name]
        scores["diverged"] = scores["diverged"] or retrained.status == "diverged"
    return scores


def same_rates(ours: Sequence[float], theirs: Sequence[float]) -> bool:
    """Whether two runs trained at the same rate in every epoch (and as many epochs)."""
    return len(ours) == len(theirs) and all(
        math.isclose(a, b, rel_tol=SAME_RATE) for a, b in zip(ours, theirs, strict=True)
    )


def split_figures(scores: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    """How many retrains strayed from their trial's rates; the tests where the two differ."""
    kept = [s for s in scores if not s["diverged"]]
    strayed = [s for s in kept if not same_rates(s["watching_rates"], s["trial_rates"])]
    figures: dict[str, Any] = {
        "configs": len(scores),
        "kept": len(kept),
        "trials": sorted({s["trial"] for s in scores}),
        "watching_strayed": len(strayed),
        "replaying_strayed": sum(
            not same_rates(s["replaying_rates"], s["trial_rates"]) for s in kept
        ),
        "replaying_better": sum(
            is_better(s["replaying_test"], s["watching_test"], mode) for s in strayed
        ),
        "replaying_worse": sum(
            is_better(s["watching_test"], s["replaying_test"], mode) for s in strayed
        ),
    }
    for final in FINALS:
        figures[f"{final}_strayed_tests"] = [s[f"{final}_test"] for s in strayed]
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    """Score every plateau config on every split; writes results/plateau_replay.{json,md}."""
    settings = QUICK if quick else FULL
    scoring = (plateau_configs, score_config, split_figures)
    return write_split_benchmark(
        NAME, quick, settings, scoring, summarize, to_markdown, folds=FOLDS
    )


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set: the counts summed over splits, the strayed configs' mean tests."""
    rows = []
    for dataset, found in datasets.items():
        row, splits = summary_row(dataset, found, COUNTS)
        row["trials"] = sorted({way for s in splits for way in s["trials"]})
        for final in FINALS:
            tests = [test for s in splits for test in s[f"{final}_strayed_tests"]]
            row[f"{final}_strayed_mean_test"] = statistics.fmean(tests) if tests else math.nan
        rows.append(row)
    return rows


def _table_row(row: dict[str, Any]) -> list[Any]:
    return [
        data_set_label(row),
        ", ".join(row["trials"]),
        f"{row['kept']} of {row['configs']}",
        f"{row['watching_strayed']} / {row['replaying_strayed']}",
        " / ".join(metric_text(row, f"{final}_strayed_mean_test") for final in FINALS),
        f"{row['replaying_better']} / {row['replaying_worse']}",
    ]


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, the table, and the machine."""
    settings = payload["settings"]
    finals = " / ".join(FINALS)
    table = markdown_table(
        [
            "data set",
            "trials",
            "configs",
            f"rates not the trial's: {finals}",
            f"mean test where they differ: {finals}",
            "replaying better / worse",
        ],
        [_table_row(row) for row in payload["summary"]],
    )
    return split_benchmark_markdown(
        payload,
        "A plateau schedule in the final retraining: watching train+val's validation split, "
        "or replaying the trial's rates",
        f"{settings['configs']} random configs of the default space with a plateau schedule "
        f"({payload['epochs']} epochs) on each of the splits {settings['splits']} "
        f"({FRESH_SPLITS}). Each runs as a default search's trial does (`cv`: cross-validated "
        f"on train+val, {payload['folds']} folds; `holdout`: trained on train), then is "
        "retrained on train+val from seed 0 for the trial's epochs, twice: `watching` (its "
        "plateau watches the validation split, which it trains on: `retrain_best` before "
        "`replayed_scales`) and `replaying` (the trial's rate at each epoch: `retrain_best` "
        "now), and each is tested once. Counts of configs (without a diverged run) whose "
        "retrain's rates were not the trial's, and the mean test of the two retrains over the "
        "configs where the watching one's were not (elsewhere both train the same model; "
        "accuracy: higher is better, MSE: lower).",
        table,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.plateau_replay [--quick]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.plateau_replay", description=__doc__
    )
    parser.add_argument("--quick", action="store_true")
    payload = run(parser.parse_args(argv).quick)
    print(to_markdown(payload))


if __name__ == "__main__":
    main()
