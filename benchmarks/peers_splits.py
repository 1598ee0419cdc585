"""The peers comparison on fresh splits: is one split's verdict the data set's?

The peers benchmark (``benchmarks.peers``) compares the tools on one split of each data set
(``load_dataset(name)``, split 0) over 3 search seeds. On a small data set its test split
holds about 100 samples, so a verdict there may belong to those samples rather than to the
tools. Here the same searches (``benchmarks.peers.one_search``: same tools, same code, same
retraining) run once per fresh split (``benchmarks._splits.fresh_split``: s = 1..5, each with
its own validation and test samples; search seed 0), and each winner is tested on its own
split's test samples.

Figures per data set and tool: the retrained winner's test metric on each split, its median
and mean over the splits, and the splits on which the default tests better / the same /
worse than each peer.

Run: ``python -m benchmarks.peers_splits [--datasets ...] [--splits ...] [--budget S]``
(``python -m benchmarks peers_splits``: breast_cancer, splits 1-5, 60 s; ``--quick``: split
1, 10 s). Data sets: those of the peers benchmark, whose targets it knows. Duration: about
18 minutes for breast_cancer at 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._report import machine_lines, markdown_table, write_runs
from benchmarks._splits import FRESH_SPLITS, fresh_split
from benchmarks.overhead import start_ray
from benchmarks.peers import (
    DATASETS,
    DEFAULT_TOOL,
    PEERS,
    is_better,
    one_search,
    quiet_ray_tune,
    rotated,
)

NAME = "peers_splits"
TOOLS = (DEFAULT_TOOL, *PEERS)
FULL = {"datasets": ("breast_cancer",), "splits": (1, 2, 3, 4, 5), "budget": 60.0}
QUICK = {"datasets": ("breast_cancer",), "splits": (1,), "budget": 10.0}
SEARCH_SEED = 0


def run(
    quick: bool = False,
    *,
    datasets: Sequence[str] | None = None,
    splits: Sequence[int] | None = None,
    budget: float | None = None,
) -> dict[str, Any]:
    """One search per (data set, split, tool); writes results/peers_splits.{json,md}."""
    settings = QUICK if quick else FULL
    chosen = {
        "datasets": list(datasets or settings["datasets"]),
        "splits": list(splits or settings["splits"]),
        "budget": float(budget or settings["budget"]),
    }
    unknown = [name for name in chosen["datasets"] if name not in DATASETS]
    if unknown:
        raise ValueError(f"datasets {unknown}: the peers benchmark knows {list(DATASETS)}")
    quiet_ray_tune()
    start_ray()
    started, runs = time.perf_counter(), []
    for dataset in chosen["datasets"]:
        for position, split in enumerate(chosen["splits"]):
            data = fresh_split(dataset, split)
            for tool in rotated(TOOLS, position):
                record = one_search(tool, data, chosen["budget"], SEARCH_SEED)
                runs.append({**record, "split": split})
                print(f"{dataset} split {split} {tool}: test {record['test']:.4g}", flush=True)
    settings = {
        **chosen,
        "search_seed": SEARCH_SEED,
        "tools": list(TOOLS),
        "splits_drawn_by": FRESH_SPLITS,
    }
    return write_runs(NAME, quick, settings, runs, started, summarize, to_markdown)


def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per data set: each tool's tests by split, median and mean; default against each peer."""
    rows = []
    for dataset in dict.fromkeys(run["dataset"] for run in runs):
        mine = [run for run in runs if run["dataset"] == dataset]
        mode = mine[0]["mode"]
        tests = {
            tool: {run["split"]: run["test"] for run in mine if run["tool"] == tool}
            for tool in TOOLS
        }
        row: dict[str, Any] = {"dataset": dataset, "mode": mode, "tests": tests}
        for tool, by_split in tests.items():
            finite = [value for value in by_split.values() if math.isfinite(value)]
            row[f"{tool}_median"] = statistics.median(finite) if finite else math.nan
            row[f"{tool}_mean"] = statistics.fmean(finite) if finite else math.nan
        for peer in PEERS:
            row[f"against_{peer}"] = head_to_head(tests[DEFAULT_TOOL], tests[peer], mode)
        rows.append(row)
    return rows


def head_to_head(mine: dict[int, float], theirs: dict[int, float], mode: str) -> dict[str, int]:
    """On how many splits both tested (a finite metric), ``mine`` tests better, same, worse.

    Example:
        >>> head_to_head({1: 0.9, 2: 0.8, 3: 0.7}, {1: 0.8, 2: 0.8, 3: 0.9}, "max")
        {'better': 1, 'same': 1, 'worse': 1}
    """
    shared = [s for s in mine if s in theirs and math.isfinite(mine[s] + theirs[s])]
    better = sum(is_better(mine[s], theirs[s], mode) for s in shared)
    worse = sum(is_better(theirs[s], mine[s], mode) for s in shared)
    return {"better": better, "same": len(shared) - better - worse, "worse": worse}


def to_markdown(payload: dict[str, Any]) -> str:
    """The method, one table per data set (a row per split), and the machine."""
    settings = payload["settings"]
    kind = "QUICK (checks the machinery only)" if payload["quick"] else "full"
    lines = [
        f"# The peers comparison on fresh splits ({kind} run)",
        "",
        f"One search per tool (search seed {settings['search_seed']}, "
        f"{settings['budget']:g} s each, `benchmarks.peers.one_search`: the peers benchmark's "
        f"own searches and retraining) on each of the splits {settings['splits']} "
        f"({FRESH_SPLITS}; the peers benchmark uses split 0), each winner "
        "retrained on its split's train+val and tested on its split's test samples "
        "(accuracy: higher is better; MSE: lower).",
    ]
    for row in payload["summary"]:
        digits = 4 if row["mode"] == "max" else 0
        splits = sorted({s for by_split in row["tests"].values() for s in by_split})

        def shown(value: float | None, digits: int = digits) -> str:
            return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"

        table_rows = [
            [f"split {s}", *(shown(row["tests"][tool].get(s)) for tool in TOOLS)] for s in splits
        ]
        table_rows.append(["median", *(shown(row[f"{tool}_median"]) for tool in TOOLS)])
        table_rows.append(["mean", *(shown(row[f"{tool}_mean"]) for tool in TOOLS)])
        lines += ["", f"## {row['dataset']}", "", markdown_table(["", *TOOLS], table_rows), ""]
        for peer in PEERS:
            counts = row[f"against_{peer}"]
            lines.append(
                f"- {DEFAULT_TOOL} against {peer}: better on {counts['better']} splits, the "
                f"same on {counts['same']}, worse on {counts['worse']}"
            )
    lines += ["", "Machine:", "", *machine_lines(payload["machine"])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.peers_splits``: the options of :func:`run`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers_splits", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--splits", nargs="+", type=int)
    parser.add_argument("--budget", type=float)
    args = parser.parse_args(argv)
    payload = run(args.quick, datasets=args.datasets, splits=args.splits, budget=args.budget)
    print(to_markdown(payload))


if __name__ == "__main__":
    main()
