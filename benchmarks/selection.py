"""Ranking trials on small data: the validation split against k-fold cross-validation.

The question behind ``cv_folds="auto"``: when the validation split holds a few dozen samples,
does ranking trials by a 5-fold estimate over train+val pick configs that test better than
ranking them by the validation split? The peers benchmark cannot say: it has one split per
data set and three seeds, and its test splits hold 89 to 114 samples.

Here, on each of several fresh splits of a small data set (``benchmarks._splits.fresh_split``:
each its own validation and test samples, never the peers' split 0), the same random configs
from the default space are each (1) trained on train and scored on val (holdout), (2)
cross-validated on train+val (5 folds, as a trial with ``cv_folds=5`` is) and (3) retrained on
train+val and tested once. No searcher, no scheduler: the figure is what each ranking picks
from the same candidates.

Figures per data set, over splits: the test metric of the config each ranking puts first
(ties go to the earlier config, as the leaderboard's stable sort does), the mean test metric
of each ranking's top 3, the best and median test metric among the candidates (for scale),
and the Spearman rank correlation of each ranking with the test metric.

Run: ``python -m benchmarks selection`` (``--quick``: 1 data set, 2 splits, 6 configs).
Duration: about 10 minutes here on 2 processes.
"""

from __future__ import annotations

import functools
import math
import random
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from automl_nn.defaults import DEFAULT_MAX_EPOCHS
from benchmarks._report import machine, machine_lines, markdown_table, write_results
from benchmarks._splits import FRESH_SPLITS, fresh_split, scored_metric
from benchmarks.peers import is_better

NAME = "selection"
FULL = {"datasets": ("breast_cancer", "diabetes", "wine"), "splits": (1, 2, 3, 4, 5), "configs": 24}
QUICK = {"datasets": ("wine",), "splits": (1, 2), "configs": 6}
FOLDS = 5
EPOCHS = DEFAULT_MAX_EPOCHS  # what a default search trains each trial for
TOP = 3
RANKINGS = ("holdout", "cv")


def score_config(dataset: str, split: int, config: dict[str, Any]) -> dict[str, float]:
    """Holdout validation, 5-fold CV and retrained test metric of one config on one split."""
    import torch

    from automl_nn import cross_validate, evaluate, fit

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    holdout = fit(config, data, seed=0, device="cpu").metrics[f"val_{name}"]
    cv = cross_validate(config, data, k=FOLDS, seed=0, device="cpu").mean[f"val_{name}"]
    final = fit(config, data.merged_train_val(), seed=0, device="cpu")
    test = evaluate(final.model, data, "test")[name]
    return {"holdout": holdout, "cv": cv, "test": test}


@functools.cache
def split_of(dataset: str, split: int) -> Any:
    """One split of a data set, loaded once per worker process (each scores many configs)."""
    return fresh_split(dataset, split)


def candidate_configs(data: Any, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` random configs of the default space for the data set, ``EPOCHS`` epochs."""
    from automl_nn.space import input_kind_of, load_space
    from automl_nn.trainable import trial_config

    space = load_space("default").specialize(data.kind, input_kind_of(data.input_shape))
    rng = random.Random(seed)
    return [trial_config(space.sample(rng), EPOCHS) for _ in range(count)]


def first_by(scores: Sequence[dict[str, float]], key: str, mode: str, top: int = 1) -> list[int]:
    """Indices of the ``top`` best scores by ``key`` (NaN last; ties keep their order)."""
    sign = -1.0 if mode == "max" else 1.0
    ordered = sorted(
        range(len(scores)),
        key=lambda i: math.inf if math.isnan(scores[i][key]) else sign * scores[i][key],
    )
    return ordered[:top]


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation of the finite pairs (NaN with fewer than 3)."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x + y)]
    if len(pairs) < 3:
        return math.nan
    ranks = [_ranks([p[0] for p in pairs]), _ranks([p[1] for p in pairs])]
    return statistics.correlation(*ranks)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = float(rank)
    return ranks


def split_figures(scores: Sequence[dict[str, float]], mode: str) -> dict[str, Any]:
    """What each ranking picks on one split, with the candidates' best and median test."""
    tests = [s["test"] for s in scores]
    finite = [t for t in tests if math.isfinite(t)]
    figures: dict[str, Any] = {
        "best_test": (max if mode == "max" else min)(finite),
        "median_test": statistics.median(finite),
    }
    for ranking in RANKINGS:
        picked = first_by(scores, ranking, mode, TOP)
        figures[f"{ranking}_first_test"] = tests[picked[0]]
        figures[f"{ranking}_top{TOP}_test"] = statistics.fmean(tests[i] for i in picked)
        figures[f"{ranking}_spearman"] = spearman([s[ranking] for s in scores], tests)
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    """Score every candidate on every split; writes results/selection.{json,md}."""
    settings = QUICK if quick else FULL
    scoring = (candidate_configs, score_config, split_figures)
    return write_split_benchmark(
        NAME, quick, settings, scoring, summarize, to_markdown, folds=FOLDS
    )


def write_split_benchmark(
    name: str,
    quick: bool,
    settings: dict[str, Any],
    scoring: tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]],
    summarize: Callable[[dict[str, Any]], list[dict[str, Any]]],
    to_markdown: Callable[[dict[str, Any]], str],
    **extra: Any,
) -> dict[str, Any]:
    """Score on splits and write ``results/<name>.{json,md}``; the payload, returned.

    ``scoring`` is :func:`score_on_splits`'s (candidates, score, figures); the payload holds
    the settings, ``extra``, the epochs, the scores per data set, the summary and the machine.
    """
    datasets = score_on_splits(settings, *scoring)
    payload = {
        "benchmark": name,
        "quick": quick,
        "settings": {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
            "splits_drawn_by": FRESH_SPLITS,
        },
        **extra,
        "epochs": EPOCHS,
        "datasets": datasets,
        "summary": summarize(datasets),
        "machine": machine(),
    }
    write_results(name, payload, to_markdown(payload))
    return payload


def summary_row(
    dataset: str, found: dict[str, Any], counts: Sequence[str] = ()
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A data set's summary row begun (data set, mode, splits, ``counts`` summed over the
    splits) and its splits' figures, which the benchmark's own summary goes on from."""
    splits = list(found["splits"].values())
    row: dict[str, Any] = {"dataset": dataset, "mode": found["mode"], "splits": len(splits)}
    for count in counts:
        row[count] = sum(s[count] for s in splits)
    return row, splits


def data_set_label(row: dict[str, Any]) -> str:
    """A summary row's data set with what its figures are: ``wine (acc.)``, ``diabetes (MSE)``."""
    return f"{row['dataset']} ({'MSE' if row['mode'] == 'min' else 'acc.'})"


def metric_text(row: dict[str, Any], name: str) -> str:
    """A summary row's metric ``name`` as its tables print it: accuracy to 4 places, MSE to 0.

    Example:
        >>> metric_text({"mode": "max", "test": 0.97368}, "test")
        '0.9737'
        >>> metric_text({"mode": "min", "test": 2599.4}, "test")
        '2599'
    """
    return f"{row[name]:.{4 if row['mode'] == 'max' else 0}f}"


def split_benchmark_markdown(payload: dict[str, Any], title: str, method: str, table: str) -> str:
    """A split benchmark's report: the title (and the run's kind), the method, table, machine."""
    kind = "QUICK (checks the machinery only)" if payload["quick"] else "full"
    return "\n".join(
        [
            f"# {title} ({kind} run)",
            "",
            method,
            "",
            table,
            "",
            "Machine:",
            "",
            *machine_lines(payload["machine"]),
        ]
    )


def score_on_splits(
    settings: dict[str, Any],
    candidates: Callable[[Any, int, int], list[dict[str, Any]]],
    score: Callable[[str, int, dict[str, Any]], dict[str, Any]],
    figures: Callable[[Sequence[dict[str, Any]], str], dict[str, Any]],
) -> dict[str, Any]:
    """Score each data set's candidates on each of its splits, in 2 processes.

    ``candidates(data, count, seed)`` draws the configs once per data set (seed 0), and
    ``score(dataset, split, config)`` (a module-level function: it runs in a worker) scores
    one; per data set: its mode and, per split, the scores with ``figures(scores, mode)``.
    """
    from automl_nn import load_dataset

    datasets: dict[str, Any] = {}
    with ProcessPoolExecutor(max_workers=2) as pool:
        for dataset in settings["datasets"]:
            data = load_dataset(dataset)
            mode = "min" if data.kind == "regression" else "max"
            configs = candidates(data, settings["configs"], 0)
            splits = {}
            for split in settings["splits"]:
                jobs = [pool.submit(score, dataset, split, config) for config in configs]
                scores = [job.result() for job in jobs]
                splits[split] = {"scores": scores, **figures(scores, mode)}
            datasets[dataset] = {"mode": mode, "splits": splits}
    return datasets


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set: means over splits, and on how many splits CV picked better."""
    rows = []
    for dataset, found in datasets.items():
        row, splits = summary_row(dataset, found)
        mode = row["mode"]
        for name in ("best_test", "median_test"):
            row[name] = statistics.fmean(s[name] for s in splits)
        for ranking in RANKINGS:
            for figure in ("first_test", f"top{TOP}_test", "spearman"):
                values = [s[f"{ranking}_{figure}"] for s in splits]
                row[f"{ranking}_{figure}"] = statistics.fmean(v for v in values if math.isfinite(v))
        row["cv_first_better"] = sum(
            is_better(s["cv_first_test"], s["holdout_first_test"], mode) for s in splits
        )
        row["cv_first_worse"] = sum(
            is_better(s["holdout_first_test"], s["cv_first_test"], mode) for s in splits
        )
        rows.append(row)
    return rows


def _table_row(row: dict[str, Any]) -> list[Any]:
    return [
        data_set_label(row),
        row["splits"],
        metric_text(row, "holdout_first_test"),
        metric_text(row, "cv_first_test"),
        f"{row['cv_first_better']} / {row['cv_first_worse']}",
        metric_text(row, f"holdout_top{TOP}_test"),
        metric_text(row, f"cv_top{TOP}_test"),
        f"{row['holdout_spearman']:.2f}",
        f"{row['cv_spearman']:.2f}",
        f"{metric_text(row, 'best_test')} / {metric_text(row, 'median_test')}",
    ]


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, the table, and the machine."""
    settings = payload["settings"]
    table = markdown_table(
        [
            "data set",
            "splits",
            "test of holdout's pick",
            "test of CV's pick",
            "CV pick better / worse",
            f"top {TOP}: holdout",
            f"top {TOP}: CV",
            "Spearman holdout",
            "Spearman CV",
            "best / median candidate",
        ],
        [_table_row(row) for row in payload["summary"]],
    )
    return split_benchmark_markdown(
        payload,
        f"Ranking trials on small data: validation split vs {payload['folds']}-fold CV",
        f"{settings['configs']} random configs of the default space ({payload['epochs']} "
        f"epochs) on each of the splits {settings['splits']} ({FRESH_SPLITS})."
        " Each is scored on the validation split, cross-validated on train+val, and "
        "retrained on train+val and tested. Test metric of the config each ranking puts "
        f"first, and the mean of its top {TOP}, averaged over splits (accuracy: higher is "
        "better; MSE: lower); Spearman: rank correlation of the ranking with the test "
        "metric over the candidates.",
        table,
    )
