"""``python -m benchmarks [--quick] [NAME ...]``: run the benchmark suite (or some of it).

Each benchmark writes ``benchmarks/results/<name>.{json,md}`` and its markdown is printed.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Sequence

from benchmarks import BENCHMARKS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: ``--quick`` and the benchmark names (all when none is given)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="short versions that finish in a few minutes"
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; expected {', '.join(BENCHMARKS)}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen benchmarks in order and print each one's markdown report."""
    args = parse_args(argv)
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        payload = module.run(quick=args.quick)
        print(module.to_markdown(payload), flush=True)
        print(f"\n[{name}: {time.perf_counter() - started:.0f} s]\n", flush=True)


if __name__ == "__main__":
    main()
