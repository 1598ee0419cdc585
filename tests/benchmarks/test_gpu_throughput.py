"""The GPU benchmark: measured where there is a GPU, a clear word (and no files) elsewhere."""

from __future__ import annotations

import pytest
import torch

from benchmarks import gpu_throughput


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_nothing_is_measured_or_overwritten(monkeypatch) -> None:
    written = []
    monkeypatch.setattr(gpu_throughput, "write_results", lambda *args: written.append(args))
    payload = gpu_throughput.run(quick=True)
    assert payload["skipped"] == "PyTorch sees no CUDA GPU on this machine"
    assert written == []
    assert "not measured" in gpu_throughput.to_markdown(payload)


def test_the_report_shows_both_devices_and_the_speedup() -> None:
    result = {
        "model": "cnn", "batch_size": 512, "rounds": 3,
        "config": gpu_throughput.training_config({"family": "cnn"}, 2, 512),
        "cpu_samples_per_second": 5_000.0, "cuda_samples_per_second": 100_000.0,
        "speedup": 20.0, "speedup_min_max": [18.0, 21.5],
        "cpu_val_accuracy": 0.25, "cuda_val_accuracy": 0.251,
    }  # fmt: skip
    payload = {
        "quick": False, "dataset": "mnist1d", "train_samples": 3200, "gpu": "NVIDIA H100",
        "machine": {"cpu_model": "x"}, "results": [result],
    }  # fmt: skip
    text = gpu_throughput.to_markdown(payload)
    assert "NVIDIA H100" in text
    assert "| cnn | 512 | 3 x 2 | 5,000 | 100,000 | 20.000 | 18.00..21.50 | 0.250 / 0.251 |" in text
