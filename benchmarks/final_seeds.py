"""The final model of a small-data search: one retrained model, or the mean of several seeds.

The question behind ``retrain_best(seeds="auto")``: a search whose trials cross-validated
(small data) ranked them by the mean of 5 fold models, yet retraining the winner gives one
model, whose test score on a test split of ~100 samples moves by a sample or two with its
seed. Does the mean of several models retrained from different seeds (a
:class:`~automl_nn.training.SeedEnsemble`) test better? The peers benchmark cannot say: it
has one split per data set, and its winners differ from run to run.

Here, on each of several fresh splits of a small data set (``benchmarks._splits.fresh_split``:
each its own validation and test samples, never the peers' split 0), random configs of the
default space are each scored as a default search's trial is on that data set (to pick each
split's winner): cross-validated on train+val (5 folds) where ``cv_folds="auto"`` gives
folds, else trained on train and scored on the validation split (digits, mnist1d). Each is
then retrained on train+val from seeds 0-4 (``max_epochs``, no early stopping) and tested
once: each member alone, and the ensembles of the first 3 and of all 5 members.

Figures per data set, over splits: the mean test metric of one model (seed 0, what
``retrain_best`` trained until the ensembles), of the members on average, and of the 3- and
5-seed ensembles, over every config and for each split's winner; and how often the 5-seed
ensemble tests better / worse than the seed-0 model over the configs. A config with a
member that diverged is left out.

Run: ``python -m benchmarks final_seeds`` (``--quick``: 1 data set, 2 splits, 4 configs).
Duration: about 10 minutes here on 2 processes. ``python -m benchmarks.final_seeds --datasets
digits --configs 16`` runs other data sets and writes ``results/final_seeds_digits.*``.
"""

from __future__ import annotations

import argparse
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
    first_by,
    metric_text,
    split_benchmark_markdown,
    split_of,
    summary_row,
    write_split_benchmark,
)

NAME = "final_seeds"
FULL = {"datasets": ("breast_cancer", "diabetes", "wine"), "splits": (1, 2, 3, 4, 5), "configs": 24}
QUICK = {"datasets": ("wine",), "splits": (1, 2), "configs": 4}
SEEDS = 5
SMALLER_ENSEMBLE = 3
# How the configs of a payload written before it recorded ``ranked_by`` were ranked: its data
# sets (breast_cancer, diabetes, wine) all cross-validate.
RANKED_BY_BEFORE_RECORDING = ["cv"]
FINALS = ("one_model", "member_mean", f"ensemble_{SMALLER_ENSEMBLE}", f"ensemble_{SEEDS}")


def score_config(dataset: str, split: int, config: dict[str, Any]) -> dict[str, Any]:
    """The ranking metric of one config on one split, and the test metric of each final model.

    ``ranking`` is what a default search ranks the trial by: the 5-fold CV mean where
    ``cv_folds="auto"`` cross-validates (``ranked_by`` ``cv``), else the validation split's
    metric of a model trained on train (``holdout``).
    """
    import torch

    from automl_nn import cross_validate, evaluate, fit
    from automl_nn.api import resolve_cv_folds
    from automl_nn.results import retrain_config
    from automl_nn.training import SeedEnsemble

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    folds = resolve_cv_folds("auto", data)
    if folds is None:
        ranked_by, ranking = "holdout", fit(config, data, seed=0, device="cpu").metrics
    else:
        ranked_by = "cv"
        ranking = cross_validate(config, data, k=folds, seed=0, device="cpu").mean
    final = retrain_config(
        config, data, epochs=EPOCHS, schedule_epochs=EPOCHS, seed=0, seeds=SEEDS, device="cpu"
    )
    members = [member.model for member in final.members]
    smaller = SeedEnsemble(members[:SMALLER_ENSEMBLE]).eval()
    return {
        "ranking": ranking[f"val_{name}"],
        "ranked_by": ranked_by,
        "members": [evaluate(model, data, "test")[name] for model in members],
        "diverged": any(member.status == "diverged" for member in final.members),
        f"ensemble_{SMALLER_ENSEMBLE}": evaluate(smaller, data, "test")[name],
        f"ensemble_{SEEDS}": evaluate(final.model, data, "test")[name],
    }


def finals_of(scores: dict[str, Any]) -> dict[str, float]:
    """Each final model's test metric for one config."""
    return {
        "one_model": scores["members"][0],
        "member_mean": statistics.fmean(scores["members"]),
        **{final: scores[final] for final in FINALS[2:]},
    }


def split_figures(scores: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Each final's mean test over the configs and its winner's test on one split."""
    kept = [s for s in scores if not s["diverged"] and math.isfinite(s["ranking"])]
    figures: dict[str, Any] = {
        "configs": len(scores),
        "kept": len(kept),
        "ranked_by": sorted({s["ranked_by"] for s in scores}),
    }
    finals = [finals_of(s) for s in kept]
    winner = finals[first_by(kept, "ranking", mode)[0]] if kept else None
    for final in FINALS:
        values = [f[final] for f in finals]
        figures[f"{final}_mean_test"] = statistics.fmean(values) if values else math.nan
        figures[f"{final}_winner_test"] = winner[final] if winner else math.nan
    biggest = f"ensemble_{SEEDS}"
    figures["ensemble_better"] = sum(is_better(f[biggest], f["one_model"], mode) for f in finals)
    figures["ensemble_worse"] = sum(is_better(f["one_model"], f[biggest], mode) for f in finals)
    return figures


def run(
    quick: bool = False,
    *,
    datasets: Sequence[str] | None = None,
    configs: int | None = None,
) -> dict[str, Any]:
    """Score every candidate on every split; writes results/final_seeds.{json,md}.

    ``datasets`` (and ``configs``) replace the run's: the files are then named
    ``final_seeds_<data sets>``, so the default run's stay.
    """
    settings = dict(QUICK if quick else FULL)
    if datasets:
        settings["datasets"] = tuple(datasets)
    if configs is not None:
        settings["configs"] = configs
    name = f"{NAME}_{'_'.join(datasets)}" if datasets else NAME
    scoring = (candidate_configs, score_config, split_figures)
    return write_split_benchmark(
        name, quick, settings, scoring, summarize, to_markdown, folds=FOLDS, seeds=SEEDS
    )


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set: the finals' tests averaged over splits, and the counts summed."""
    rows = []
    for dataset, found in datasets.items():
        counts = ("configs", "kept", "ensemble_better", "ensemble_worse")
        row, splits = summary_row(dataset, found, counts)
        row["ranked_by"] = sorted({way for s in splits for way in s["ranked_by"]})
        for final in FINALS:
            for figure in ("mean_test", "winner_test"):
                values = [s[f"{final}_{figure}"] for s in splits]
                finite = [v for v in values if math.isfinite(v)]
                row[f"{final}_{figure}"] = statistics.fmean(finite) if finite else math.nan
        rows.append(row)
    return rows


def _table_row(row: dict[str, Any]) -> list[Any]:
    return [
        data_set_label(row),
        ", ".join(row.get("ranked_by", RANKED_BY_BEFORE_RECORDING)),
        f"{row['kept']} of {row['configs']}",
        " / ".join(metric_text(row, f"{final}_mean_test") for final in FINALS),
        f"{row['ensemble_better']} / {row['ensemble_worse']}",
        " / ".join(metric_text(row, f"{final}_winner_test") for final in FINALS),
    ]


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, the table, and the machine."""
    settings = payload["settings"]
    finals = " / ".join(FINALS)
    table = markdown_table(
        [
            "data set",
            "ranked by",
            "configs",
            f"mean test: {finals}",
            f"{SEEDS} seeds better / worse than one model",
            f"winner's test: {finals}",
        ],
        [_table_row(row) for row in payload["summary"]],
    )
    return split_benchmark_markdown(
        payload,
        "The final model of a small-data search: one model or the mean of several seeds",
        f"{settings['configs']} random configs of the default space ({payload['epochs']} "
        f"epochs) on each of the splits {settings['splits']} ({FRESH_SPLITS}). "
        "Each is ranked as a default search ranks its trials on that data set (which picks "
        f"each split's winner): `cv`, cross-validated on train+val ({payload['folds']} folds) "
        "where `cv_folds='auto'` gives folds, else `holdout`, trained on train and scored on "
        f"the validation split. Each is retrained on train+val from seeds 0-{SEEDS - 1} (all "
        "epochs, no "
        "early stopping), then tested once: `one_model` (seed 0 alone: `retrain_best` "
        "before its seeds), `member_mean` (the members' test metrics averaged: what one "
        f"model scores at an unknown seed), `ensemble_{SMALLER_ENSEMBLE}` and "
        f"`ensemble_{SEEDS}` (a SeedEnsemble of the first {SMALLER_ENSEMBLE} and of all "
        f"{SEEDS} members: `retrain_best(seeds=...)`). Means over the configs without a "
        "diverged member and over splits (accuracy: higher is better; MSE: lower); the "
        "winner is each split's config with the best ranking metric.",
        table,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.final_seeds``: the options of :func:`run`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.final_seeds", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--configs", type=int)
    args = parser.parse_args(argv)
    payload = run(args.quick, datasets=args.datasets, configs=args.configs)
    print(to_markdown(payload))


if __name__ == "__main__":
    main()
