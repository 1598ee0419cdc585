"""Benchmarks of automl_nn: speed against the plain tools it builds on.

Each benchmark module exposes ``run(quick: bool) -> dict``, writes its figures to
``benchmarks/results/<name>.{json,md}`` and returns them. Run them with
``python -m benchmarks [--quick] [NAME ...]``.
"""

from __future__ import annotations

BENCHMARKS: tuple[str, ...] = (
    "trainer_throughput", "gpu_throughput", "overhead", "nas_mnist1d", "controller_landscape",
    "scaling", "selection", "spaces", "retrain_rule", "plateau_replay", "tie_break", "final_seeds",
    "final_configs", "final_configs_searches", "stopped_trials", "peers", "peers_splits",
)  # fmt: skip

__all__ = ["BENCHMARKS"]
