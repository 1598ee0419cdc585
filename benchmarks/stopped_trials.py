"""What the optuna searcher should tell its study about trials ASHA stopped.

Ray's OptunaSearch tells a trial that a scheduler stopped COMPLETE with the value of the epoch it
reached, so TPE ranks a 2-epoch score against 20-epoch ones; ``stopped_trials="pruned"`` tells it
PRUNED at that epoch, as Optuna's own pruners do (TPE's good group then takes finished trials
first). Here the default search (optuna + ASHA, the default space, 20 epochs) runs a fixed
number of trials, so both ways get the same number of suggestions, once with each
``searcher_options={"stopped_trials": ...}``, on the peers' split 0 of each data set, from
several search seeds (the same seed gives both the same first, random, suggestions); then the
winner is retrained as ``retrain_best()`` does by default and tested once.

Figures per data set and way: the best validation metric (the leaderboard's winner; a
cross-validated trial's is its k-fold mean), the mean of the leaderboard's top 5, the trials
that ran all their epochs, and the retrained winner's test metric: medians over seeds, and the
seeds on which ``pruned`` is better / worse than ``complete`` (paired by seed).

Run: ``python -m benchmarks.stopped_trials [--datasets ...] [--seeds ...] [--trials N]``
(``python -m benchmarks stopped_trials``: breast_cancer and digits, seeds 0-5, 48 trials;
``--quick``: wine, seed 0, 8 trials). A full run appends each search to
``results/stopped_trials_runs.jsonl`` and skips those already there. Duration here (2 cores):
about 1 minute a search on breast_cancer, 4 to 7 on digits. No wall-clock figure: trial counts
are fixed, so a slower machine takes longer, not worse.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._report import (
    RESULTS,
    RunStore,
    code_version,
    markdown_table,
    summary_searches_and_machine,
    write_runs,
)
from benchmarks.overhead import start_ray
from benchmarks.peers import is_better, quiet_ray_tune, test_key

NAME = "stopped_trials"
RUNS = RunStore(RESULTS / f"{NAME}_runs.jsonl")  # every finished search of a full run
WAYS = ("complete", "pruned")  # Ray's way first: the reference
FULL = {"datasets": ("breast_cancer", "digits"), "seeds": (0, 1, 2, 3, 4, 5), "trials": 48}
QUICK = {"datasets": ("wine",), "seeds": (0,), "trials": 8}
TOP = 5


def one_search(dataset: str, seed: int, way: str, trials: int) -> dict[str, Any]:
    """The default search with ``stopped_trials=way``; its leaderboard figures and the
    retrained winner's test metric."""
    import automl_nn

    data = automl_nn.load_dataset(dataset)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="automl_nn_stopped_trials_") as storage:
        result = automl_nn.search(
            data,
            searcher_options={"stopped_trials": way},
            num_trials=trials,
            seed=seed,
            tracking=False,
            verbose=False,
            storage_path=storage,
        )
        search_s = time.perf_counter() - started
        test = result.retrain_best().test_metrics[test_key(data)]
    board = result.leaderboard
    return {
        "dataset": dataset,
        "seed": seed,
        "way": way,
        "num_trials": trials,
        "code_version": code_version(),
        "mode": result.mode,
        "metric": result.metric,
        "cv_folds": result.cv_folds,
        "trials": len(board),
        "stopped_early": int((board.status == "stopped_early").sum()),
        "best_val": float(result.best_metric),
        "top_mean": float(board[result.metric].head(TOP).mean()),
        "test": float(test),
        "search_s": round(search_s, 1),
        "best_config": result.best_config,
    }


def run(
    quick: bool = False,
    *,
    datasets: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    trials: int | None = None,
) -> dict[str, Any]:
    """Both ways per (data set, seed); writes results/stopped_trials.{json,md}.

    A full run keeps each finished search in ``stopped_trials_runs.jsonl`` and runs only those
    the file lacks (the same data set, seed, way and trial count), then reports on the chosen
    ones, so more seeds can be added in a later sitting.
    """
    chosen = QUICK if quick else FULL
    settings = {
        "datasets": list(datasets or chosen["datasets"]),
        "seeds": list(seeds if seeds is not None else chosen["seeds"]),
        "trials": int(trials or chosen["trials"]),
        "searcher": "optuna (the default) + asha (the default), the default space",
    }
    quiet_ray_tune()
    start_ray()
    started = time.perf_counter()
    stored = {_key(record): record for record in ([] if quick else RUNS.load())}
    runs = []
    for dataset in settings["datasets"]:
        for seed in settings["seeds"]:
            for way in WAYS:
                key = (dataset, seed, way, settings["trials"])
                if key in stored:
                    runs.append(stored[key])
                    continue
                record = one_search(dataset, seed, way, settings["trials"])
                runs.append(record)
                if not quick:
                    RUNS.append(record)
                print(
                    f"{dataset} seed {seed} {way}: best val {record['best_val']:.4g}, "
                    f"top {TOP} {record['top_mean']:.4g}, test {record['test']:.4g} "
                    f"({record['stopped_early']} of {record['trials']} stopped early)",
                    flush=True,
                )
    return write_runs(NAME, quick, settings, runs, started, summarize, to_markdown)


def _key(record: dict[str, Any]) -> tuple[str, int, str, int]:
    return record["dataset"], record["seed"], record["way"], record["num_trials"]


def paired_counts(runs: Sequence[dict[str, Any]], key: str, mode: str) -> tuple[int, int, int]:
    """Seeds on which ``pruned`` is better / the same / worse than ``complete`` by ``key``."""
    by_seed: dict[int, dict[str, float]] = {}
    for record in runs:
        by_seed.setdefault(record["seed"], {})[record["way"]] = record[key]
    pairs = [(ways["pruned"], ways["complete"]) for ways in by_seed.values() if len(ways) == 2]
    better = sum(is_better(mine, theirs, mode) for mine, theirs in pairs)
    worse = sum(is_better(theirs, mine, mode) for mine, theirs in pairs)
    return better, len(pairs) - better - worse, worse


def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per data set and way: medians over seeds; per data set: the paired counts."""
    rows = []
    for dataset in dict.fromkeys(record["dataset"] for record in runs):
        mine = [record for record in runs if record["dataset"] == dataset]
        mode = mine[0]["mode"]
        row: dict[str, Any] = {"dataset": dataset, "mode": mode, "seeds": 0}
        for way in WAYS:
            of_way = [record for record in mine if record["way"] == way]
            row["seeds"] = max(row["seeds"], len(of_way))
            for key in ("best_val", "top_mean", "test"):
                row[f"{way}_{key}"] = statistics.median(r[key] for r in of_way)
            row[f"{way}_finished"] = statistics.median(
                r["trials"] - r["stopped_early"] for r in of_way
            )
        for key in ("best_val", "top_mean", "test"):
            row[f"pruned_vs_complete_{key}"] = paired_counts(mine, key, mode)
        rows.append(row)
    return rows


def _metric(value: float, mode: str) -> str:
    return f"{value:.4f}" if mode == "max" else f"{value:.0f}"


def to_markdown(payload: dict[str, Any]) -> str:
    """The method, the summary, each search, and the machine."""
    settings = payload["settings"]
    kind = "QUICK (checks the machinery only)" if payload["quick"] else "full"
    summary = markdown_table(
        ["data set", "seeds", "best val: complete / pruned", f"top {TOP} mean", "test",
         "finished trials", "pruned better / same / worse: best val; top; test"],
        [
            [
                row["dataset"],
                row["seeds"],
                *(
                    " / ".join(_metric(row[f"{way}_{key}"], row["mode"]) for way in WAYS)
                    for key in ("best_val", "top_mean", "test")
                ),
                " / ".join(f"{row[f'{way}_finished']:g}" for way in WAYS),
                "; ".join(
                    " / ".join(map(str, row[f"pruned_vs_complete_{key}"]))
                    for key in ("best_val", "top_mean", "test")
                ),
            ]
            for row in payload["summary"]
        ],
    )  # fmt: skip
    searches = markdown_table(
        ["data set", "seed", "way", "trials", "stopped early", "best val", f"top {TOP}",
         "test", "search s"],
        [
            [r["dataset"], r["seed"], r["way"], r["trials"], r["stopped_early"],
             _metric(r["best_val"], r["mode"]), _metric(r["top_mean"], r["mode"]),
             _metric(r["test"], r["mode"]), f"{r['search_s']:.0f}"]
            for r in payload["runs"]
        ],
    )  # fmt: skip
    return "\n".join(
        [
            f"# Trials ASHA stopped: told COMPLETE (Ray's way) or PRUNED ({kind} run)",
            "",
            f"The default search ({settings['searcher']}), {settings['trials']} trials, seeds "
            f'{settings["seeds"]}, once with `searcher_options={{"stopped_trials": '
            '"complete"}` and once with `"pruned"`, on each data set\'s split 0; the winner '
            "retrained by `retrain_best()`'s defaults and tested once. Cells: medians over "
            "seeds, `complete / pruned` (accuracy: higher is better; MSE: lower); the last "
            "column counts seeds on which `pruned` is better / the same / worse, paired by "
            "seed. `finished trials`: trials ASHA did not stop.",
            "",
            *summary_searches_and_machine(summary, searches, payload),
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: ``--quick``, or the data sets, seeds and trials of a full run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stopped_trials", description=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="wine, seed 0, 8 trials")
    parser.add_argument("--datasets", nargs="+", help=f"default: {' '.join(FULL['datasets'])}")
    parser.add_argument("--seeds", nargs="+", type=int, help="search seeds (default 0-5)")
    parser.add_argument("--trials", type=int, help=f"trials per search (default {FULL['trials']})")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    payload = run(args.quick, datasets=args.datasets, seeds=args.seeds, trials=args.trials)
    print(to_markdown(payload))
