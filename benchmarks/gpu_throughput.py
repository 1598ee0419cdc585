"""Training throughput of ``automl_nn.fit`` on a CUDA GPU against one CPU thread.

A trial that asks for a GPU (``resources_per_trial={"gpu": 0.25}``) trains on it; this says
what that buys per model and batch size. Each model trains on the mnist1d training split on
both devices from the same seed, rounds interleaved (the device order flips every round), and
the figure is the median of ``fit``'s own per-epoch train-only ``samples_per_second``.
Same seed and batches on both devices: the final validation accuracies are reported side by
side, so a device that trained differently shows.

Needs a GPU: on a machine where PyTorch sees none, ``run`` writes nothing and says so (the
last measured results stay). Run: ``python -m benchmarks gpu_throughput [--quick]``.
"""

from __future__ import annotations

import statistics
from typing import Any

import torch

from benchmarks._report import machine, machine_lines, markdown_table, median, write_results
from benchmarks.trainer_throughput import training_config

NAME = "gpu_throughput"
DATASET = "mnist1d"
DEVICES = ("cpu", "cuda")
BATCH_SIZES = (64, 512)
SEED = 0
MODELS: dict[str, dict[str, Any]] = {
    "mlp": {"family": "mlp", "depth": 2, "width": 256},
    "cnn": {"family": "cnn", "channels": 64, "depth": 3, "kernel_size": 5},
    "chain": {
        "family": "chain",
        "layers": [
            {"op": "conv5", "width": 64},
            {"op": "dilconv3", "width": 64},
            {"op": "residual", "width": 64},
        ],
    },
}


def measure(config: dict[str, Any], data: Any, device: str) -> tuple[float, float]:
    """Median train-only samples/s over the epochs of one ``fit``, and its val accuracy."""
    from automl_nn import fit

    result = fit(config, data, seed=SEED, device=device)
    rate = statistics.median(row["samples_per_second"] for row in result.history)
    return rate, result.metrics["val_accuracy"]


def compare(name: str, config: dict[str, Any], data: Any, rounds: int) -> dict[str, Any]:
    """Interleaved rounds on both devices (after a warm-up on each); medians and speed-up."""
    for device in DEVICES:  # first-call costs: CUDA context, cuDNN plans, allocator
        measure(config, data, device)
    rates: dict[str, list[float]] = {device: [] for device in DEVICES}
    accuracy: dict[str, float] = {}
    for round_index in range(rounds):
        for device in DEVICES if round_index % 2 == 0 else DEVICES[::-1]:
            rate, accuracy[device] = measure(config, data, device)
            rates[device].append(rate)
    speedups = [gpu / cpu for gpu, cpu in zip(rates["cuda"], rates["cpu"], strict=True)]
    return {
        "model": name,
        "batch_size": config["training"]["batch_size"],
        "config": config,
        "rounds": rounds,
        "cpu_samples_per_second": median(rates["cpu"]),
        "cuda_samples_per_second": median(rates["cuda"]),
        "speedup": median(speedups),
        "speedup_min_max": [min(speedups), max(speedups)],
        "cpu_val_accuracy": accuracy["cpu"],
        "cuda_val_accuracy": accuracy["cuda"],
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Measure every model and batch size, write the result files and return the payload."""
    if not torch.cuda.is_available():
        return {"benchmark": NAME, "skipped": "PyTorch sees no CUDA GPU on this machine"}
    from automl_nn import load_dataset

    torch.set_num_threads(1)  # one CPU per trial, as a search runs them
    rounds, epochs = (1, 1) if quick else (3, 2)
    data = load_dataset(DATASET)
    results = [
        compare(name, training_config(model, epochs, batch_size), data, rounds)
        for name, model in MODELS.items()
        for batch_size in BATCH_SIZES
    ]
    payload = {
        "benchmark": NAME,
        "quick": quick,
        "dataset": DATASET,
        "train_samples": len(data.y_train),
        "gpu": torch.cuda.get_device_name(),
        "machine": machine(),
        "results": results,
    }
    write_results(NAME, payload, to_markdown(payload))
    return payload


def to_markdown(payload: dict[str, Any]) -> str:
    """The results as a markdown table with the machine, or why nothing was measured."""
    if "skipped" in payload:
        return f"# GPU throughput: not measured\n\n{payload['skipped']}."
    header = [
        "model",
        "batch",
        "rounds x epochs",
        "CPU (1 thread) samples/s",
        "GPU samples/s",
        "speed-up",
        "min..max",
        "val accuracy CPU / GPU",
    ]
    rows = [
        [
            r["model"],
            r["batch_size"],
            f"{r['rounds']} x {r['config']['training']['epochs']}",
            r["cpu_samples_per_second"],
            r["cuda_samples_per_second"],
            r["speedup"],
            "{:.2f}..{:.2f}".format(*r["speedup_min_max"]),
            f"{r['cpu_val_accuracy']:.3f} / {r['cuda_val_accuracy']:.3f}",
        ]
        for r in payload["results"]
    ]
    return "\n".join(
        [
            f"# GPU throughput: automl_nn.fit on {payload['gpu']} vs one CPU thread",
            "",
            f"{payload['dataset']} training split ({payload['train_samples']} samples), Adam "
            "at a constant lr; train-only samples/s (fit's own per-epoch figure), medians of "
            "interleaved rounds after a warm-up on each device."
            + (" Quick run." if payload["quick"] else ""),
            "",
            markdown_table(header, rows),
            "",
            "Machine:",
            "",
            *machine_lines(payload["machine"]),
        ]
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    print(to_markdown(run(quick=parser.parse_args().quick)))
