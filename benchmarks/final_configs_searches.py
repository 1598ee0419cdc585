"""The final model of real small-data searches: the winner's seeds, or the top configs together.

``benchmarks.final_configs`` ranks 24 random configs; a real search ranks a hundred or more,
picked by a searcher that homes in on the CV score, so its winner is more likely one whose
5-fold mean was lucky, and its runners-up are closer to it. Here a default search
(``automl_nn.search(data, time_budget_s=B, seed=0, tracking=False)``: ``cv_folds="auto"``
cross-validates on these data sets) runs once on each of several fresh splits
(``benchmarks._splits.fresh_split``: s = 1..5, never the peers' split 0, each with its own
validation and test samples), then ``retrain_best(top_k=5, seeds=5)`` retrains the
leaderboard's top 5 configs from 5 seeds each, and every final of ``final_configs.FINALS`` is
composed from those models' test outputs (``top1x5``: the winner from 5 seeds,
``retrain_best``'s default before ``top_k``; ``top5x1``: the top 5 configs, one model each, the
same cost).

Figures per data set: each final's test metric per split, its mean, and on how many splits
it tests better / worse than ``top1x5``.

Run: ``python -m benchmarks.final_configs_searches [--datasets ...] [--splits ...]
[--budget S] [--top K]`` (``--top 1``: the winner's 5 seeds alone, for data sets whose
models take longer to train; ``python -m benchmarks final_configs_searches``: breast_cancer,
diabetes and wine, splits 1-5, 60 s; ``--quick``: wine, split 1, 10 s). Duration: about 6
minutes per small data set at 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._report import markdown_table, summary_searches_and_machine, write_runs
from benchmarks._splits import FRESH_SPLITS, fresh_split
from benchmarks.final_configs import (
    FINALS,
    REFERENCE,
    SEEDS,
    final_name,
    final_test,
    summary_row,
    summary_table,
)
from benchmarks.overhead import start_ray
from benchmarks.peers import NUM_TRIALS, quiet_ray_tune

NAME = "final_configs_searches"
FULL = {
    "datasets": ("breast_cancer", "diabetes", "wine"),
    "splits": (1, 2, 3, 4, 5),
    "budget": 60.0,
}
QUICK = {"datasets": ("wine",), "splits": (1,), "budget": 10.0}
SEARCH_SEED = 0
TOP = max(top for top, _ in FINALS)


def finals_up_to(top: int) -> list[tuple[int, int]]:
    """The finals of ``FINALS`` that average at most ``top`` configs."""
    return [final for final in FINALS if final[0] <= top]


def search_finals(dataset: str, split: int, budget: float, top: int = TOP) -> dict[str, Any]:
    """One default search on one split; the test metric of each final of at most ``top``
    configs, composed from one retrain."""
    import automl_nn
    from automl_nn.training import ConfigEnsemble, predict

    data = fresh_split(dataset, split)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="automl_nn_final_configs_") as storage:
        result = automl_nn.search(
            data,
            time_budget_s=budget,
            num_trials=NUM_TRIALS,
            seed=SEARCH_SEED,
            tracking=False,
            verbose=False,
            storage_path=storage,
        )
    search_s = time.perf_counter() - started
    final = result.retrain_best(top_k=top, seeds=SEEDS)
    # One config (top 1, or one trial succeeded) is no ConfigEnsemble; one seed, no SeedEnsemble.
    configs = final.members if isinstance(final.model, ConfigEnsemble) else [final]
    members = [config.members or [config] for config in configs]
    scores = [
        {
            "outputs": [predict(seed.model, data.x_test).tolist() for seed in seeds],
            "member_diverged": [seed.status == "diverged" for seed in seeds],
        }
        for seeds in members
    ]
    order = list(range(len(scores)))
    return {
        "dataset": dataset,
        "split": split,
        "mode": "min" if data.kind == "regression" else "max",
        "cv_folds": result.cv_folds,
        "top": top,
        "trials": len(result.leaderboard),
        "search_s": round(search_s, 1),
        "top_trials": result.top_trial_ids(top),
        "member_statuses": [[seed.status for seed in seeds] for seeds in members],
        **{final_name(t, s): final_test(scores, order, t, s, data) for t, s in finals_up_to(top)},
    }


def run(
    quick: bool = False,
    *,
    datasets: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
    budget: float | None = None,
    top: int = TOP,
) -> dict[str, Any]:
    """One search per (data set, split); writes results/final_configs_searches.{json,md}.

    ``top`` < 5 retrains fewer configs (on larger data a model takes seconds to minutes) and
    reports only the finals of at most ``top`` configs.
    """
    settings = QUICK if quick else FULL
    chosen = {
        "datasets": list(datasets or settings["datasets"]),
        "splits": list(splits or settings["splits"]),
        "budget": float(budget or settings["budget"]),
        "top": top,
    }
    quiet_ray_tune()
    start_ray()
    started, runs = time.perf_counter(), []
    for dataset in chosen["datasets"]:
        for split in chosen["splits"]:
            record = search_finals(dataset, split, chosen["budget"], top)
            runs.append(record)
            shown = ", ".join(
                f"{final_name(*f)} {record[final_name(*f)]:.4g}" for f in finals_up_to(top)
            )
            print(f"{dataset} split {split}: {shown}", flush=True)
    settings = {
        **chosen,
        "search_seed": SEARCH_SEED,
        "seeds": SEEDS,
        "splits_drawn_by": FRESH_SPLITS,
    }
    return write_runs(NAME, quick, settings, runs, started, summarize, to_markdown)


def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per data set: each final's mean test, and its splits better / worse than top1x5."""
    rows = []
    for dataset in dict.fromkeys(run["dataset"] for run in runs):
        mine = [run for run in runs if run["dataset"] == dataset]
        top = mine[0].get("top", TOP)  # stored before --top: all 5
        rows.append(summary_row(dataset, mine[0]["mode"], mine, finals_up_to(top)))
    return rows


def to_markdown(payload: dict[str, Any]) -> str:
    """The method, the summary table, one row per search, and the machine."""
    settings = payload["settings"]
    kind = "QUICK (checks the machinery only)" if payload["quick"] else "full"
    top = settings.get("top", TOP)
    finals = [final_name(*f) for f in finals_up_to(top)]

    def metric(value: float, mode: str) -> str:
        return f"{value:.{4 if mode == 'max' else 0}f}"

    summary = summary_table(payload["summary"], finals_up_to(top))
    searches = markdown_table(
        ["data set", "split", "trials", "folds", *finals],
        [
            [run["dataset"], run["split"], run["trials"], run["cv_folds"] or "-"]
            + [metric(run[final], run["mode"]) for final in finals]
            for run in payload["runs"]
        ],
    )
    return "\n".join(
        [
            f"# The final model of real small-data searches ({kind} run)",
            "",
            f"One default search (seed {settings['search_seed']}, {settings['budget']:g} s; "
            "`folds`: the folds its trials cross-validated on, `-`: the validation split) on "
            f"each of the splits {settings['splits']} ({FRESH_SPLITS}), then "
            f"`retrain_best(top_k={top}, seeds={SEEDS})`; "
            "`topKxS`: the mean prediction of the leaderboard's top K configs "
            "(probabilities for classes), each the mean of its first S seeds. Cells: the "
            "test metric averaged over splits (accuracy: higher is better; MSE: lower) and "
            f"(splits better / worse than `{final_name(*REFERENCE)}`).",
            "",
            *summary_searches_and_machine(summary, searches, payload),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--splits", nargs="+", type=int)
    parser.add_argument("--budget", type=float)
    parser.add_argument("--top", type=int, default=TOP, help="configs to retrain (1 to 5)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(args.quick, datasets=args.datasets, splits=args.splits, budget=args.budget, top=args.top)


if __name__ == "__main__":
    main()
