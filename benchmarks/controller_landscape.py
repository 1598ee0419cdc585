"""The RL controller against random search on synthetic landscapes over ``nas.yaml``.

A real NAS search takes about ten minutes here, and three seeds of it cannot tell controller
settings apart (the gaps are a validation sample or two). A synthetic landscape costs
milliseconds per trial, so many of them can. A landscape gives every option of every decision
of ``nas.yaml`` (architecture and training recipe, 8 bins per range) an additive effect (most
small, a few large), adds noise to each trial and squashes the sum into a reward range: all of
[0, 1], or [0.9, 0.99], where rewards bunch as accuracies do near the top. A third kind has
blow-ups: 5% of trials, at random, score astronomically badly (the range's low end minus
1e40 ranges), as a regression that nearly diverged did on diabetes (val_mse 7.2e43). Random
search and each controller variant get the same 60 trials, 2 in flight (as on this machine),
on the same landscapes; the figure is the best reward found minus random search's, in units
of the range (mean over landscapes, and how many landscapes each variant won).

Also measured: on the unit tests' problem (``tests/searchers/conftest.py``, the best decision
sequence known), on how many seeds each variant puts more than 90% probability on the best
sequence within 300 trials. Faster learning must not cost that.

Run: ``python -m benchmarks controller_landscape`` (``--quick``: 2 landscapes, 2 seeds).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from benchmarks._report import machine, machine_lines, markdown_table, write_results

if TYPE_CHECKING:
    from automl_nn.space import Space

NAME = "controller_landscape"
# What each variant passes to ControllerSearcher; "today" is the defaults.
VARIANTS: dict[str, dict[str, Any]] = {
    "today (batch 2, entropy 0.02, normalized, outlier share 0.1)": {},
    "before 2026-11-28 (outlier share 0: every reward as it is)": {"outlier_share": 0.0},
    "today without normalizing": {"normalize_advantages": False},
    "before 2026-11-26 (batch 4, entropy 0.01, raw)": {
        "batch_size": 4,
        "entropy_weight": 0.01,
        "normalize_advantages": False,
    },
}
# (low, high, share of trials that blow up) of each kind of landscape.
LANDSCAPES: tuple[tuple[float, float, float], ...] = (
    (0.0, 1.0, 0.0),
    (0.9, 0.99, 0.0),
    (0.0, 1.0, 0.05),
)
BLOWUP_RANGES = 1e40  # a blown-up trial scores this many ranges below the low end
FULL = {"landscapes": 16, "trials": 60, "convergence_seeds": 8, "convergence_trials": 300}
QUICK = {"landscapes": 2, "trials": 60, "convergence_seeds": 2, "convergence_trials": 300}
CONCURRENCY = 2
NUM_BINS = 8
# Share of decisions whose options have small / medium / large effects, and those sizes.
EFFECT_SIZES = (0.05, 0.2, 0.6)
EFFECT_SHARES = (0.6, 0.3, 0.1)
NOISE = 0.1
OFFSET = 2.0  # most configs of a landscape score in its upper half, as trained nets do

Score = Callable[[list[int], np.random.Generator], float]


@functools.cache
def nas_space() -> Space:
    """``nas.yaml``, read once for every landscape and controller."""
    from automl_nn import load_space

    return load_space("nas")


@functools.cache
def landscape(seed: int, low: float, high: float, blowup: float = 0.0) -> Score:
    """A reward over ``nas.yaml``'s decision sequences: additive effects of active choices.

    With ``blowup`` > 0, that share of trials (drawn from the trial's noise) scores
    ``BLOWUP_RANGES`` ranges below ``low`` instead.
    """
    from automl_nn.space import active_decisions

    decisions = nas_space().decisions(NUM_BINS)
    rng = np.random.default_rng(seed)
    effects = [
        rng.normal(0.0, rng.choice(EFFECT_SIZES, p=EFFECT_SHARES), len(decision.options))
        for decision in decisions
    ]

    def score(choices: list[int], noise: np.random.Generator) -> float:
        if blowup and noise.random() < blowup:
            return low - BLOWUP_RANGES * (high - low)
        active = active_decisions(decisions, choices)
        total = sum(effects[index][choices[index]] for index in active)
        squashed = 1.0 / (1.0 + math.exp(-(total + OFFSET + noise.normal(0.0, NOISE))))
        return low + (high - low) * squashed

    return score


@functools.cache
def best_of_random(seed: int, low: float, high: float, blowup: float, trials: int) -> float:
    """The best reward of ``trials`` uniform decision sequences on a landscape (once per one)."""
    from automl_nn.searchers._sequences import decide_in_order

    score = landscape(seed, low, high, blowup)
    decisions = nas_space().decisions(NUM_BINS)
    rng, noise = np.random.default_rng(seed), np.random.default_rng(seed + 999)

    def uniform(index: int) -> int:
        return int(rng.integers(len(decisions[index].options)))

    return max(score(decide_in_order(decisions, uniform), noise) for _ in range(trials))


def best_of_controller(score: Score, seed: int, trials: int, options: dict[str, Any]) -> float:
    """The best reward a controller finds in ``trials``, ``CONCURRENCY`` in flight."""
    from automl_nn.searchers import ControllerSearcher

    searcher = ControllerSearcher(
        nas_space(), "reward", "max", seed=seed, num_bins=NUM_BINS, **options
    )
    noise = np.random.default_rng(seed + 999)
    running: deque[str] = deque()
    best = -math.inf

    def finish_oldest() -> None:
        nonlocal best
        trial_id = running.popleft()
        reward = score(searcher.memory["pending"][trial_id], noise)
        best = max(best, reward)
        searcher.on_trial_complete(trial_id, {"reward": reward})

    for number in range(trials):
        running.append(f"trial_{number}")
        searcher.suggest(running[-1])
        if len(running) >= CONCURRENCY:
            finish_oldest()
    while running:
        finish_oldest()
    return best


def converged_seeds(options: dict[str, Any], seeds: int, max_trials: int) -> list[int | None]:
    """Per seed: trials until > 90% on the unit tests' best sequence (None: not within)."""
    from automl_nn.searchers import ControllerSearcher
    from tests.searchers.conftest import METRIC, PROBLEM_SPACE, FakeTune, target_sequence
    from tests.searchers.conftest import NUM_BINS as PROBLEM_BINS

    needed: list[int | None] = []
    for seed in range(seeds):
        searcher = ControllerSearcher(
            PROBLEM_SPACE, METRIC, "max", seed, num_bins=PROBLEM_BINS, **options
        )
        tune, trials = FakeTune(searcher), 0
        while trials < max_trials and searcher.probability_of(target_sequence()) <= 0.9:
            tune.run(4)
            trials += 4
        needed.append(trials if searcher.probability_of(target_sequence()) > 0.9 else None)
    return needed


def run(quick: bool) -> dict[str, Any]:
    """Every variant on every landscape of both ranges; writes results/controller_landscape.*."""
    settings = QUICK if quick else FULL
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the controller's tensors are tiny
    try:
        rows = [
            variant_row(name, options, settings, kind)
            for kind in LANDSCAPES
            for name, options in VARIANTS.items()
        ]
        convergence = {
            name: converged_seeds(
                options, settings["convergence_seeds"], settings["convergence_trials"]
            )
            for name, options in VARIANTS.items()
        }
        described = machine()  # with the one thread it ran on
    finally:
        torch.set_num_threads(threads)
    payload = {
        "quick": quick,
        "settings": settings,
        "rows": rows,
        "convergence": convergence,
        "machine": described,
    }
    write_results(NAME, payload, to_markdown(payload))
    return payload


def variant_row(
    name: str,
    options: dict[str, Any],
    settings: dict[str, Any],
    kind: tuple[float, float, float],
) -> dict[str, Any]:
    """One variant on one kind of landscape (``LANDSCAPES``): its gaps over random search."""
    low, high, blowup = kind
    gaps = []
    for seed in range(settings["landscapes"]):
        random_best = best_of_random(seed, low, high, blowup, settings["trials"])
        score = landscape(seed, low, high, blowup)
        found = best_of_controller(score, seed, settings["trials"], options)
        gaps.append((found - random_best) / (high - low))
    return {
        "variant": name,
        "reward_range": [low, high],
        "blowup": blowup,
        "mean_gap": statistics.fmean(gaps),
        "wins": sum(gap > 0 for gap in gaps),
        "landscapes": len(gaps),
        "gaps": gaps,
    }


def to_markdown(payload: dict[str, Any]) -> str:
    """The gap table, the convergence table and the machine."""
    settings = payload["settings"]
    gap_rows = [
        (
            landscape_label(row),
            row["variant"],
            f"{row['mean_gap']:+.4f}",
            f"{row['wins']}/{row['landscapes']}",
        )
        for row in payload["rows"]
    ]
    convergence_rows = [
        (name, f"{sum(n is not None for n in needed)}/{len(needed)}", _trials_needed(needed))
        for name, needed in payload["convergence"].items()
    ]
    return "\n".join(
        [
            f"# RL controller vs random search on synthetic landscapes"
            f"{' (quick)' if payload['quick'] else ''}",
            "",
            f"{settings['landscapes']} landscapes over `nas.yaml`'s decisions per reward range, "
            f"{settings['trials']} trials each, {CONCURRENCY} in flight. Gap: best reward found "
            "minus random search's on the same landscape, in units of the reward range. "
            f"Blow-ups: that share of trials scores {BLOWUP_RANGES:g} ranges below the range.",
            "",
            markdown_table(("landscape", "controller", "mean gap", "won"), gap_rows),
            "",
            f"Unit tests' problem: seeds that put > 90% on the best sequence within "
            f"{settings['convergence_trials']} trials.",
            "",
            markdown_table(("controller", "converged", "trials needed"), convergence_rows),
            "",
            "Machine:",
            "",
            *machine_lines(payload["machine"]),
        ]
    )


def landscape_label(row: dict[str, Any]) -> str:
    """``[low, high]``, with the share of blow-ups where there are any."""
    low, high = row["reward_range"]
    blowup = row.get("blowup", 0.0)
    return f"[{low}, {high}]" + (f", {blowup:.0%} blow-ups" if blowup else "")


def _trials_needed(needed: Sequence[int | None]) -> str:
    return ", ".join("-" if trials is None else str(trials) for trials in needed)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 landscapes, 2 seeds")
    print(to_markdown(run(quick=parser.parse_args().quick)))
