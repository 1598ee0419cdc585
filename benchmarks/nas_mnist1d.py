"""NAS searchers on MNIST-1D: random vs evolution vs RL (and Optuna for reference).

The same joint space (``nas.yaml``: architecture and training recipe), the same number of
trials and epochs, several seeds each. Writes the best validation accuracy per searcher
(mean and spread), best-so-far curves (PNG) and the test accuracy of each search's winner,
retrained on train+val. ``--quick`` runs a small version that checks the machinery, not the
claim: the targets need the full run (hours on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._report import (
    RESULTS,
    RunStore,
    code_version,
    machine,
    machine_lines,
    markdown_table,
    write_results,
)
from benchmarks._searcher_options import options_in_full, options_stored_with

NAME = "nas_mnist1d"
SEARCHERS = ("random", "evolution", "rl", "optuna")
# ASHA, the product's default scheduler, for every searcher: same trials, same epoch cap.
FULL = {
    "seeds": (0, 1, 2),
    "num_trials": 60,
    "max_epochs": 20,
    "retrain_epochs": 60,
    "scheduler": "asha",
}
QUICK = {"seeds": (0,), "num_trials": 6, "max_epochs": 2, "retrain_epochs": 2, "scheduler": "fifo"}
SEARCHER_OPTIONS = {"evolution": {"population_size": 8}}
# Finished searches of full runs (see RunStore): only searches with the same settings and
# the same searcher options count.
RUNS = RunStore(RESULTS / f"{NAME}_runs.jsonl")
KEYED_SETTINGS = ("num_trials", "max_epochs", "retrain_epochs", "scheduler")
# Stored searches from before records held their searcher options ran with these, where
# they differ from today's defaults (rl's defaults changed on 2026-11-26).
OPTIONS_BEFORE_RECORDING = {
    "rl": {"batch_size": 4, "entropy_weight": 0.01, "normalize_advantages": False}
}


def one_search(searcher: str, seed: int, settings: dict[str, Any], storage: str) -> dict[str, Any]:
    """Best validation accuracy, best-so-far per trial, and the winner's test accuracy."""
    import automl_nn

    started = time.perf_counter()
    result = automl_nn.search(
        "mnist1d",
        "nas",
        searcher=searcher,
        scheduler=settings["scheduler"],
        num_trials=settings["num_trials"],
        max_epochs=settings["max_epochs"],
        seed=seed,
        searcher_options=SEARCHER_OPTIONS.get(searcher),
        storage_path=storage,
        tracking=False,
        verbose=False,
    )
    searched = time.perf_counter()
    board = result.leaderboard.sort_values("trial_number")
    accuracies = board["val_accuracy"].fillna(0.0).tolist()
    best_so_far = [max(accuracies[: i + 1]) for i in range(len(accuracies))]
    final = result.retrain_best(epochs=settings["retrain_epochs"])
    return {
        "settings_key": settings_key(settings),
        "searcher": searcher,
        "seed": seed,
        "searcher_options": searcher_options_in_full(searcher),
        "best_val_accuracy": result.best_metric,
        "best_so_far": best_so_far,
        "test_accuracy": final.test_metrics["test_accuracy"],
        "best_config": result.best_config,
        "code_version": code_version(),
        "search_seconds": searched - started,
        "retrain_seconds": time.perf_counter() - searched,
    }


def settings_key(settings: dict[str, Any]) -> str:
    """What makes two searches comparable: everything but the seed."""
    return json.dumps({name: settings[name] for name in KEYED_SETTINGS}, sort_keys=True)


def searcher_options_in_full(searcher: str) -> dict[str, Any]:
    """The options a search of ``searcher`` runs with today, defaults filled in."""
    return options_in_full(searcher, SEARCHER_OPTIONS.get(searcher))


def ran_with_todays_options(run: dict[str, Any]) -> bool:
    """Whether a stored search used the options a search of its searcher would use now."""
    searcher = run["searcher"]
    ran_with = options_stored_with(
        searcher,
        run.get("searcher_options"),
        chosen=SEARCHER_OPTIONS.get(searcher),
        before_recording=OPTIONS_BEFORE_RECORDING.get(searcher),
    )
    return ran_with == searcher_options_in_full(searcher)


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and spread of the best validation accuracy and the winners' test accuracy."""
    rows = []
    for searcher in SEARCHERS:
        mine = [run for run in runs if run["searcher"] == searcher]
        if not mine:
            continue
        best = [run["best_val_accuracy"] for run in mine]
        test = [run["test_accuracy"] for run in mine]
        rows.append(
            {
                "searcher": searcher,
                "seeds": len(mine),
                "best_val_mean": statistics.fmean(best),
                "best_val_std": statistics.pstdev(best),
                "test_mean": statistics.fmean(test),
                "test_max": max(test),
            }
        )
    return rows


def plot_best_so_far(runs: list[dict[str, Any]]) -> str:
    """Mean best-so-far validation accuracy against trials, one line per searcher."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for searcher in SEARCHERS:
        curves = [run["best_so_far"] for run in runs if run["searcher"] == searcher]
        if curves:
            length = min(len(curve) for curve in curves)
            mean = [statistics.fmean(curve[i] for curve in curves) for i in range(length)]
            axis.plot(range(1, length + 1), mean, label=searcher)
    axis.set_xlabel("trials")
    axis.set_ylabel("best validation accuracy so far (mean over seeds)")
    axis.grid(alpha=0.3)
    axis.legend()
    path = RESULTS / f"{NAME}_best_so_far.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return str(path.relative_to(RESULTS.parent.parent))


def run(
    quick: bool,
    seeds: Sequence[int] | None = None,
    searchers: Sequence[str] = SEARCHERS,
    report_only: bool = False,
) -> dict[str, Any]:
    """Every searcher on every seed; writes results/nas_mnist1d.{json,md,_best_so_far.png}.

    A full run keeps each finished search in ``nas_mnist1d_runs.jsonl`` and skips the
    searches already there, so an interrupted run picks up where it stopped. With
    ``report_only`` it runs nothing and reports what the file holds.
    """
    settings = dict(QUICK if quick else FULL)
    settings["seeds"] = tuple(settings["seeds"] if seeds is None else seeds)
    key = settings_key(settings)
    runs: list[dict[str, Any]] = []
    superseded: list[dict[str, Any]] = []
    for stored in [] if quick else RUNS.load():
        if stored.get("settings_key") != key:
            continue
        if ran_with_todays_options(stored):
            runs.append(stored)
        else:
            superseded.append({k: stored[k] for k in ("searcher", "seed", "best_val_accuracy")})
    done = {(run["searcher"], run["seed"]) for run in runs}
    with tempfile.TemporaryDirectory() as storage:
        for seed in settings["seeds"]:  # seeds outermost: a partial run stays balanced
            for searcher in searchers:
                if (searcher, seed) in done or report_only:
                    continue
                record = one_search(searcher, seed, settings, storage)
                runs.append(record)
                if not quick:
                    RUNS.append(record)
    runs = [r for r in runs if r["seed"] in settings["seeds"] and r["searcher"] in searchers]
    payload = {
        "quick": quick,
        "settings": {**settings, "seeds": list(settings["seeds"])},
        "summary": summarize(runs),
        "paired": paired_with_random(runs),
        "runs": runs,
        "superseded": superseded,
        "plot": plot_best_so_far(runs),
        "machine": machine(),
    }
    write_results(NAME, payload, to_markdown(payload))
    return payload


def paired_with_random(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per searcher: on the seeds random also ran, how often it beat random, and by how much."""
    random_best = {r["seed"]: r["best_val_accuracy"] for r in runs if r["searcher"] == "random"}
    paired: dict[str, dict[str, Any]] = {}
    for searcher in SEARCHERS:
        gaps = [
            r["best_val_accuracy"] - random_best[r["seed"]]
            for r in runs
            if r["searcher"] == searcher and searcher != "random" and r["seed"] in random_best
        ]
        if gaps:
            paired[searcher] = {
                "seeds": len(gaps),
                "wins": sum(gap > 0 for gap in gaps),
                "mean_gap": statistics.fmean(gaps),
            }
    return paired


def to_markdown(payload: dict[str, Any]) -> str:
    """The summary table, the targets and the machine."""
    settings = payload["settings"]
    # Four decimals: one validation sample of 800 is 0.00125.
    figures = ("best_val_mean", "best_val_std", "test_mean", "test_max")
    rows = [
        [r["searcher"], r["seeds"], *(f"{r[key]:.4f}" for key in figures)]
        for r in payload["summary"]
    ]
    by_name = {r["searcher"]: r for r in payload["summary"]}
    random_mean = by_name.get("random", {}).get("best_val_mean", float("nan"))
    verdicts = [
        f"- {name} beats random on mean best validation accuracy: "
        f"{by_name[name]['best_val_mean'] > random_mean} "
        f"(better than random on {paired['wins']} of {paired['seeds']} seeds, "
        f"mean gap {paired['mean_gap']:+.4f})"
        for name, paired in payload.get("paired", {}).items()
        if name in by_name and name != "optuna"
    ]
    seed_counts = {r["seeds"] for r in payload["summary"]}
    if len(seed_counts) > 1:
        verdicts.append("- PARTIAL: the searchers have not all run the same seeds yet")
    superseded = payload.get("superseded", [])
    if superseded:
        left_out = ", ".join(
            f"{r['searcher']} seed {r['seed']} ({r['best_val_accuracy']:.4f})" for r in superseded
        )
        verdicts.append(
            f"- left out: {len(superseded)} stored searches run with searcher options "
            f"other than today's: {left_out}"
        )
    best_test = max((r["test_max"] for r in payload["summary"]), default=float("nan"))
    kind = "QUICK (checks the machinery only)" if payload["quick"] else "full"
    return "\n".join(
        [
            f"# NAS searchers on MNIST-1D ({kind} run)",
            "",
            f"Space `nas.yaml`, {settings['num_trials']} trials x {settings['max_epochs']} "
            f"epochs per search, scheduler `{settings['scheduler']}` for every searcher, seeds "
            f"{settings['seeds']}; winners retrained for "
            f"{settings['retrain_epochs']} epochs on train+val and tested once.",
            "",
            markdown_table(
                ["searcher", "seeds", "best val mean", "best val std", "test mean", "test max"],
                rows,
            ),
            "",
            *verdicts,
            f"- overall winner's test accuracy: {best_test:.4f} (target >= 0.993)",
            "",
            f"Best-so-far curves: `{payload['plot']}`",
            "",
            "Machine:",
            "",
            *machine_lines(payload["machine"]),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds to run (default: 0 1 2)")
    parser.add_argument("--searchers", nargs="+", choices=SEARCHERS, default=list(SEARCHERS))
    parser.add_argument(
        "--report-only", action="store_true", help="run nothing; report the stored searches"
    )
    args = parser.parse_args()
    if args.quick and args.report_only:  # as peers: a quick run stores nothing to report
        parser.error("--report-only reports stored full runs; a quick run stores none")
    payload = run(
        args.quick, seeds=args.seeds, searchers=args.searchers, report_only=args.report_only
    )
    print(to_markdown(payload))
