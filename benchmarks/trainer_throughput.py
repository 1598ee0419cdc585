"""Training throughput of ``automl_nn.fit`` against a minimal hand-written PyTorch loop.

Both train the same model (built by ``automl_nn.models.build_model`` from the same seed) on
the mnist1d training split, with the same batch size, Adam at a constant learning rate, the
same epochs and one torch thread (as a trial runs). The hand loop is what a competent
PyTorch user writes: a ``torch.randperm`` per epoch, tensor indexing for each batch,
``zero_grad(set_to_none=True)``, ``backward``, ``step``, and the epoch loss accumulated as a
detached tensor (one ``.item()`` per epoch, no host sync per step), exactly as ``fit`` does.

Two figures per model, rounds interleaved (the order flips every round) and medians taken:

- **train-only samples/s** (the target): seconds spent in the epochs' training loops only,
  validation excluded from both. For ``fit`` these are its own per-epoch
  ``samples_per_second`` (timed around the training loop with ``perf_counter``); for the hand
  loop the same span is timed the same way.
- **end-to-end samples/s**: training samples over the wall time of the whole call, model
  building included, with a validation pass after every epoch in both (``fit`` computes loss,
  accuracy and macro precision/recall/F1; the hand loop loss and accuracy).

Same seed, same model, same batches: both runs must end with the same training loss, which
the benchmark checks (``same_losses``), so the two loops provably do the same work.

Run: ``python -m benchmarks trainer_throughput`` (add ``--quick`` for a short run).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

from benchmarks._report import machine, machine_lines, markdown_table, median, write_results

NAME = "trainer_throughput"
DATASET = "mnist1d"
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
TARGET_RATIO = 0.95
SEED = 0
MODELS: dict[str, dict[str, Any]] = {
    "mlp": {"family": "mlp", "depth": 2, "width": 128},
    "cnn": {"family": "cnn", "depth": 3, "channels": 32, "kernel_size": 3},
}


@dataclass(frozen=True)
class Settings:
    """How long the benchmark runs: rounds per model and epochs per run, by model."""

    rounds: int
    epochs: dict[str, int]

    @classmethod
    def for_run(cls, quick: bool) -> Settings:
        if quick:
            return cls(rounds=3, epochs={"mlp": 5, "cnn": 2})
        return cls(rounds=9, epochs={"mlp": 20, "cnn": 5})


@dataclass(frozen=True)
class Measurement:
    """One run of one trainer."""

    samples: int
    train_seconds: float
    wall_seconds: float
    final_train_loss: float

    @property
    def train_samples_per_second(self) -> float:
        return self.samples / self.train_seconds

    @property
    def end_to_end_samples_per_second(self) -> float:
        return self.samples / self.wall_seconds


def training_config(
    model: dict[str, Any], epochs: int, batch_size: int = BATCH_SIZE
) -> dict[str, Any]:
    """The trial config both trainers follow: Adam at a constant learning rate."""
    return {
        "model": dict(model),
        "optimizer": {"name": "adam", "lr": LEARNING_RATE},
        "schedule": {"name": "constant"},
        "training": {"batch_size": batch_size, "epochs": epochs},
    }


def measure_fit(config: dict[str, Any], data: Any, seed: int = SEED) -> Measurement:
    """Train with ``automl_nn.fit``; train-only time from its per-epoch samples/s."""
    from automl_nn import fit

    started = time.perf_counter()
    result = fit(config, data, seed=seed, device="cpu")  # the hand loop's device
    wall = time.perf_counter() - started
    per_epoch = len(data.y_train)
    train_seconds = sum(per_epoch / row["samples_per_second"] for row in result.history)
    return Measurement(
        samples=per_epoch * result.epochs,
        train_seconds=train_seconds,
        wall_seconds=wall,
        final_train_loss=result.history[-1]["train_loss"],
    )


def measure_hand_loop(config: dict[str, Any], data: Any, seed: int = SEED) -> Measurement:
    """Train with :func:`hand_loop`, timing its training loops and the whole call."""
    started = time.perf_counter()
    train_seconds, final_loss = hand_loop(config, data, seed)
    wall = time.perf_counter() - started
    epochs = config["training"]["epochs"]
    return Measurement(
        samples=len(data.y_train) * epochs,
        train_seconds=train_seconds,
        wall_seconds=wall,
        final_train_loss=final_loss,
    )


def hand_loop(config: dict[str, Any], data: Any, seed: int) -> tuple[float, float]:
    """The plain PyTorch loop; returns (seconds in training loops, last epoch's mean loss).

    Seeded like ``fit``: the global seed before building the model, a separate generator
    for the shuffles, so both draw the same weights and the same batches.
    """
    from automl_nn.models import build_model

    torch.manual_seed(seed)
    model = build_model(config["model"], data)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["optimizer"]["lr"])
    x_train, y_train = data.x_train, data.y_train
    count, batch_size = len(y_train), config["training"]["batch_size"]
    train_seconds, epoch_loss = 0.0, float("nan")
    for _ in range(config["training"]["epochs"]):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(count, generator=generator)
        total_loss = torch.zeros(())
        for start in range(0, count, batch_size):
            index = order[start : start + batch_size]
            x, y = x_train[index], y_train[index]
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.detach() * len(index)
        epoch_loss = float(total_loss) / count
        train_seconds += time.perf_counter() - started
        _validate(model, data)
    return train_seconds, epoch_loss


def _validate(model: torch.nn.Module, data: Any) -> dict[str, float]:
    """Validation loss and accuracy, as a hand loop reports them after each epoch."""
    model.eval()
    with torch.no_grad():
        outputs = model(data.x_val)
        return {
            "val_loss": float(F.cross_entropy(outputs, data.y_val)),
            "val_accuracy": float((outputs.argmax(dim=-1) == data.y_val).float().mean()),
        }


def compare(name: str, config: dict[str, Any], data: Any, rounds: int) -> dict[str, Any]:
    """Interleaved rounds of both trainers on one model; medians and per-round ratios."""
    measure_fit(config, data)  # warm-up: first-call costs (allocator, kernels) paid by neither
    measure_hand_loop(config, data)
    runs: dict[str, list[Measurement]] = {"fit": [], "hand_loop": []}
    for round_index in range(rounds):
        order = ("fit", "hand_loop") if round_index % 2 == 0 else ("hand_loop", "fit")
        for trainer in order:
            measure = measure_fit if trainer == "fit" else measure_hand_loop
            runs[trainer].append(measure(config, data))
    return _summary(name, config, runs)


def _summary(
    name: str, config: dict[str, Any], runs: dict[str, list[Measurement]]
) -> dict[str, Any]:
    fit_runs, hand_runs = runs["fit"], runs["hand_loop"]
    train_ratios = [
        f.train_samples_per_second / h.train_samples_per_second
        for f, h in zip(fit_runs, hand_runs, strict=True)
    ]
    wall_ratios = [
        f.end_to_end_samples_per_second / h.end_to_end_samples_per_second
        for f, h in zip(fit_runs, hand_runs, strict=True)
    ]
    return {
        "model": name,
        "config": config,
        "rounds": len(fit_runs),
        "fit_train_samples_per_second": median([r.train_samples_per_second for r in fit_runs]),
        "hand_train_samples_per_second": median([r.train_samples_per_second for r in hand_runs]),
        "train_ratio": median(train_ratios),
        "train_ratio_min_max": [min(train_ratios), max(train_ratios)],
        "fit_end_to_end_samples_per_second": median(
            [r.end_to_end_samples_per_second for r in fit_runs]
        ),
        "hand_end_to_end_samples_per_second": median(
            [r.end_to_end_samples_per_second for r in hand_runs]
        ),
        "end_to_end_ratio": median(wall_ratios),
        "same_losses": all(
            abs(f.final_train_loss - h.final_train_loss) <= 1e-6 * max(1.0, h.final_train_loss)
            for f, h in zip(fit_runs, hand_runs, strict=True)
        ),
        "meets_target": median(train_ratios) >= TARGET_RATIO,
        "runs": {trainer: [asdict(run) for run in measured] for trainer, measured in runs.items()},
    }


def profile_fit(config: dict[str, Any], data: Any, top: int = 25) -> str:
    """cProfile of one ``fit`` call: the ``top`` functions by own time, as text."""
    from automl_nn import fit

    profiler = cProfile.Profile()
    profiler.runcall(fit, config, data, seed=SEED)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def run(quick: bool = False) -> dict[str, Any]:
    """Run the comparison for every model, write the result files and return the payload."""
    from automl_nn import load_dataset

    torch.set_num_threads(1)
    settings = Settings.for_run(quick)
    data = load_dataset(DATASET)
    results, profiles = [], {}
    for name, model in MODELS.items():
        config = training_config(model, settings.epochs[name])
        result = compare(name, config, data, settings.rounds)
        results.append(result)
        if not result["meets_target"]:
            profiles[name] = profile_fit(config, data)
    payload = {
        "benchmark": NAME,
        "quick": quick,
        "dataset": DATASET,
        "train_samples": len(data.y_train),
        "batch_size": BATCH_SIZE,
        "target_ratio": TARGET_RATIO,
        "machine": machine(),
        "results": results,
        "profiles": profiles,
    }
    write_results(NAME, payload, to_markdown(payload))
    return payload


def to_markdown(payload: dict[str, Any]) -> str:
    """The results as a markdown report: a table per figure and the machine."""
    header = [
        "model",
        "rounds x epochs",
        "fit train samples/s",
        "hand loop train samples/s",
        "ratio (target >= 0.95)",
        "ratio min..max",
        "end-to-end ratio",
        "same losses",
    ]
    rows = [
        [
            r["model"],
            f"{r['rounds']} x {r['config']['training']['epochs']}",
            r["fit_train_samples_per_second"],
            r["hand_train_samples_per_second"],
            r["train_ratio"],
            "{:.3f}..{:.3f}".format(*r["train_ratio_min_max"]),
            r["end_to_end_ratio"],
            r["same_losses"],
        ]
        for r in payload["results"]
    ]
    lines = [
        "# Trainer throughput: automl_nn.fit vs a hand-written PyTorch loop",
        "",
        f"{payload['dataset']} training split ({payload['train_samples']} samples), batch "
        f"size {payload['batch_size']}, Adam at a constant lr, 1 torch thread; medians of "
        "interleaved rounds (order flipped each round). The hand loop: randperm + tensor "
        "indexing, zero_grad(set_to_none=True), loss accumulated detached with one .item() "
        "per epoch, as fit does. Train-only: validation excluded from both. End-to-end: whole "
        "call, validation after every epoch in both (fit: loss, accuracy, macro P/R/F1; hand "
        "loop: loss, accuracy)." + (" Quick run." if payload["quick"] else ""),
        "",
        markdown_table(header, rows),
        "",
        "Machine:",
        "",
        *machine_lines(payload["machine"]),
    ]
    for name, text in payload["profiles"].items():
        lines += ["", f"## Profile of fit ({name}), missed target", "", "```", text.strip(), "```"]
    return "\n".join(lines)


def main() -> None:
    """``python -m benchmarks.trainer_throughput [--quick]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args()
    print(to_markdown(run(quick=args.quick)))


if __name__ == "__main__":
    main()
