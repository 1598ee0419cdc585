"""The default space against the peers' space: what a random config of each tests at.

The question behind the breast_cancer gap of the peers benchmark (its split 0): is the default
space's typical config worse on small tabular data than the peers' plain one (an MLP, Adam /
AdamW / SGD with momentum, dropout, weight decay, cross-entropy or MSE), so that a search
must first climb out of it? Or is split 0's test set hard for every config?

No search and no ranking here: on each split (split 0, the peers' one, and fresh splits
``benchmarks._splits.fresh_split``, each with its own validation and test samples), the same
random configs of each space are trained on train+val, each by its own tool's loop (automl_nn's
``fit`` of a trial config of the default space; the peers' hand loop, ``benchmarks.peers``,
for theirs), for the epochs every search trains a trial, and tested once. Figures per split
and space: the median test metric and its quartiles over the configs (diverged ones count as
the worst: a random config that diverges is a real draw of the space), the share that
diverged; per data set, on how many splits the default space's median is better, the same,
worse.

Run: ``python -m benchmarks spaces`` (``--quick``: 1 data set, 2 splits, 4 configs).
Duration: about 10 minutes here on 2 processes.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks._report import markdown_table
from benchmarks._splits import FRESH_SPLITS, scored_metric
from benchmarks.peers import ParameterSpec, is_better, peer_space
from benchmarks.selection import (
    EPOCHS,
    candidate_configs,
    data_set_label,
    split_benchmark_markdown,
    split_of,
    write_split_benchmark,
)

NAME = "spaces"
FULL = {"datasets": ("breast_cancer", "diabetes"), "splits": (0, 1, 2, 3, 4, 5), "configs": 60}
QUICK = {"datasets": ("wine",), "splits": (0, 1), "configs": 4}
SPACES = ("default", "peers")


def draw_peer_params(space: dict[str, ParameterSpec], rng: random.Random) -> dict[str, Any]:
    """One random config of the peers' space, each parameter drawn as Optuna and Ray Tune do.

    Example:
        >>> params = draw_peer_params(peer_space(1), random.Random(0))
        >>> 1 <= params["depth"] <= 4 and 1e-4 <= params["lr"] <= 1e-1
        True
    """
    draw = {
        "choice": lambda args: rng.choice(args),
        "int": lambda args: rng.randint(*args),
        "uniform": lambda args: rng.uniform(*args),
        "loguniform": lambda args: math.exp(rng.uniform(math.log(args[0]), math.log(args[1]))),
    }
    return {name: draw[kind](args) for name, (kind, args) in space.items()}


def candidates(data: Any, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` random configs of each space for the data set, tagged with their space."""
    rng = random.Random(seed)
    peers = [draw_peer_params(peer_space(len(data.input_shape)), rng) for _ in range(count)]
    return [
        *({"space": "default", "config": c} for c in candidate_configs(data, count, seed)),
        *({"space": "peers", "config": p} for p in peers),
    ]


def score_candidate(dataset: str, split: int, candidate: dict[str, Any]) -> dict[str, Any]:
    """The candidate trained on the split's train+val by its own tool's loop, tested once."""
    import torch

    from automl_nn import evaluate, fit
    from benchmarks.peers import train_by_hand

    torch.set_num_threads(1)
    data = split_of(dataset, split)
    name = scored_metric(data)
    merged = data.merged_train_val()
    if candidate["space"] == "default":
        model = fit(candidate["config"], merged, seed=0, device="cpu").model
    else:
        model = train_by_hand(candidate["config"], merged, epochs=EPOCHS, seed=0)
    return {"space": candidate["space"], "test": evaluate(model, data, "test")[name]}


def spread_of(tests: Sequence[float], mode: str) -> dict[str, float]:
    """Median and quartiles of test metrics, a diverged one (NaN) counted as the worst.

    Example:
        >>> spread = spread_of([0.9, 0.95, float("nan"), 0.97], "max")
        >>> spread["median"], spread["worse_quartile"], spread["better_quartile"]
        (0.925, -inf, 0.96)
    """
    worst = -math.inf if mode == "max" else math.inf
    ordered = sorted(t if math.isfinite(t) else worst for t in tests)
    half = len(ordered) // 2  # quartiles: the medians of each half (Tukey's hinges)
    q1 = statistics.median(ordered[:half] or ordered)
    q3 = statistics.median(ordered[len(ordered) - half :] if half else ordered)
    low, high = (q1, q3) if mode == "max" else (q3, q1)  # "low": the worse quartile
    return {
        "median": statistics.median(ordered),
        "worse_quartile": low,
        "better_quartile": high,
        "diverged": sum(not math.isfinite(t) for t in tests) / len(tests),
    }


def split_figures(scores: Sequence[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Each space's spread of test metrics on one split."""
    return {
        space: spread_of([s["test"] for s in scores if s["space"] == space], mode)
        for space in SPACES
    }


def summarize(datasets: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (data set, split), and the count of splits where default's median is better."""
    rows = []
    for dataset, found in datasets.items():
        mode, splits = found["mode"], found["splits"]
        better = sum(
            is_better(s["default"]["median"], s["peers"]["median"], mode) for s in splits.values()
        )
        worse = sum(
            is_better(s["peers"]["median"], s["default"]["median"], mode) for s in splits.values()
        )
        for split, figures in splits.items():
            rows.append(
                {
                    "dataset": dataset,
                    "mode": mode,
                    "split": split,
                    **{space: figures[space] for space in SPACES},
                    "default_better_worse": [better, worse, len(splits)],
                }
            )
    return rows


def _spread_cell(spread: dict[str, float], mode: str) -> str:
    digits = 4 if mode == "max" else 0
    low, median, high = (spread[k] for k in ("worse_quartile", "median", "better_quartile"))
    cell = f"{median:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
    return cell + (f", {spread['diverged']:.0%} diverged" if spread["diverged"] else "")


def to_markdown(payload: dict[str, Any]) -> str:
    """The method in a line, a table per (data set, split), the counts, and the machine."""
    settings, rows = payload["settings"], payload["summary"]
    table = markdown_table(
        ["data set", "split", "default space", "peers' space"],
        [
            [
                data_set_label(row),
                row["split"],
                *(_spread_cell(row[space], row["mode"]) for space in SPACES),
            ]
            for row in rows
        ],
    )
    counts = {row["dataset"]: row["default_better_worse"] for row in rows}
    lines = [
        f"- {dataset}: the default space's median is better on {better} of {total} splits, "
        f"worse on {worse}"
        for dataset, (better, worse, total) in counts.items()
    ]
    return split_benchmark_markdown(
        payload,
        "The default space against the peers' space: random configs, trained and tested",
        f"{settings['configs']} random configs of each space ({payload['epochs']} epochs; "
        "automl_nn's `fit` for the default space's trial configs, the peers' hand loop for "
        "theirs) trained on train+val of each of the splits "
        f"{settings['splits']} (0: the peers benchmark's split; others: {FRESH_SPLITS}) and "
        "tested once. Median test metric [worse quartile, better quartile] over the configs; "
        "a config that diverged counts as the worst (accuracy: higher is better; MSE: lower).",
        table + "\n\n" + "\n".join(lines),
    )


def run(quick: bool = False) -> dict[str, Any]:
    """Train every candidate on every split; writes results/spaces.{json,md}."""
    settings = QUICK if quick else FULL
    scoring = (candidates, score_candidate, split_figures)
    return write_split_benchmark(NAME, quick, settings, scoring, summarize, to_markdown)
