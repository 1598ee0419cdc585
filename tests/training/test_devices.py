"""fit() on a chosen device: names checked up front, data moved batch by batch, state portable.

The CUDA tests run where PyTorch sees a GPU (the device check of a session that has one);
the project's own machines have none and run the CPU tests.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from automl_nn import evaluate, fit
from automl_nn.errors import ConfigError
from automl_nn.training import TrainingRun, model_device, on_cpu, predict, resolve_device
from tests.training.conftest import mlp_config, without_timings

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="PyTorch sees no CUDA GPU here")

# Every part of a run that touches tensors: dropout, batch norm, L1, clipping, mixup.
BUSY_CONFIG = mlp_config(
    model={"family": "mlp", "depth": 2, "width": 32},
    optimizer={"name": "adam", "lr": 0.01},
    schedule={"name": "plateau", "patience": 0},
    regularization={
        "dropout": 0.2,
        "batch_norm": True,
        "l1": 1e-5,
        "grad_clip": 1.0,
        "augmentation": {"name": "mixup", "alpha": 0.2},
    },
    training={"batch_size": 16, "epochs": 6},
)


def assert_resumes_exactly(
    first_half: Any, new_run: Callable[[], Any], whole: Any, tmp_path: Path
) -> None:
    """``first_half``, stopped after 3 epochs and saved, continues in a ``new_run()`` as ``whole``."""
    first_half.run(on_epoch=lambda epoch, metrics: epoch == 3)
    path = tmp_path / "state.pt"
    torch.save(first_half.state_dict(), path)
    resumed = new_run()
    resumed.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    assert resumed.run() == "completed"
    for got, expected in zip(
        without_timings(resumed.history), without_timings(whole.history), strict=True
    ):
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_no_device_means_the_gpu_when_there_is_one() -> None:
    assert resolve_device(None).type == ("cuda" if HAS_CUDA else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("device", ["banana", "tpu", 3.5, "cuda:99"])
def test_an_unknown_or_absent_device_is_refused_by_name(wine, device) -> None:
    with pytest.raises(ConfigError) as caught:
        fit(mlp_config(), wine, device=device)
    assert caught.value.field == "device" and caught.value.value == device


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a GPU")
def test_cuda_on_a_machine_without_a_gpu_says_so(wine) -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        fit(mlp_config(), wine, device="cuda")


def test_on_cpu_keeps_a_cpu_model_as_it_is(wine) -> None:
    model = fit(mlp_config(), wine, device="cpu").model
    assert model_device(model).type == "cpu" and on_cpu(model) is model


@needs_cuda
def test_a_run_on_the_gpu_trains_there_and_learns(wine) -> None:
    result = fit(BUSY_CONFIG, wine, device="cuda", seed=2)
    assert model_device(result.model).type == "cuda"
    assert result.status == "completed" and len(result.history) == 6
    assert result.metrics["val_accuracy"] > 0.85
    on_the_cpu = fit(BUSY_CONFIG, wine, device="cpu", seed=2)
    assert abs(result.metrics["val_accuracy"] - on_the_cpu.metrics["val_accuracy"]) < 0.1
    # predict and evaluate take CPU inputs and answer on the CPU.
    outputs = predict(result.model, wine.x_val)
    assert outputs.device.type == "cpu" and outputs.shape[0] == len(wine.y_val)
    assert evaluate(result.model, wine, "val")["accuracy"] == pytest.approx(
        result.metrics["val_accuracy"]
    )


@needs_cuda
def test_a_gpu_run_restored_from_its_state_continues_exactly(wine, tmp_path) -> None:
    whole = TrainingRun(BUSY_CONFIG, wine, seed=1, device="cuda")
    whole.run()
    first_half = TrainingRun(BUSY_CONFIG, wine, seed=1, device="cuda")
    assert_resumes_exactly(  # seed 99: the saved state sets the RNG
        first_half, lambda: TrainingRun(BUSY_CONFIG, wine, seed=99, device="cuda"), whole, tmp_path
    )


@needs_cuda
def test_a_gpu_run_draws_from_its_own_random_state_and_leaves_the_callers(wine) -> None:
    alone = fit(BUSY_CONFIG, wine, seed=3, device="cuda")
    cpu_state, gpu_state = torch.get_rng_state(), torch.cuda.get_rng_state()
    interleaved = TrainingRun(BUSY_CONFIG, wine, seed=3, device="cuda")
    other = TrainingRun(BUSY_CONFIG, wine, seed=4, device="cuda")
    interleaved.run_epoch()
    other.run_epoch()
    assert torch.equal(torch.get_rng_state(), cpu_state)
    assert torch.equal(torch.cuda.get_rng_state(), gpu_state)
    while interleaved.run_epoch()[1] == "running":  # the caller draws on the GPU in between
        torch.rand(100, device="cuda")
    for got, expected in zip(
        without_timings(interleaved.history), without_timings(alone.history), strict=True
    ):
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)


@needs_cuda
def test_a_gpu_checkpoint_rebuilds_on_the_cpu_and_copies_leave_the_original(wine, tmp_path) -> None:
    from automl_nn.trainable import STATE_FILE, load_trial_model

    run = TrainingRun(BUSY_CONFIG, wine, seed=0, device="cuda")
    run.run()
    torch.save(run.state_dict(), tmp_path / STATE_FILE)
    rebuilt = load_trial_model(BUSY_CONFIG, wine, tmp_path)
    assert model_device(rebuilt).type == "cpu"
    expected = predict(run.model, wine.x_val)
    assert torch.allclose(predict(rebuilt, wine.x_val), expected, atol=1e-4)
    copy = on_cpu(run.model)
    assert model_device(copy).type == "cpu" and model_device(run.model).type == "cuda"


@needs_cuda
@pytest.mark.parametrize(
    "model",
    [
        {"family": "cnn", "channels": 8, "depth": 2, "kernel_size": 3},
        {
            "family": "chain",
            "layers": [{"op": "dilconv3", "width": 8}, {"op": "sepconv3", "width": 8}],
        },
        {"family": "cell", "cells_per_stage": 1, "stages": 2, "channels": 8},
    ],
)
def test_sequence_families_train_on_the_gpu_with_sequence_augmentation(
    tiny_sequences, model
) -> None:
    config = mlp_config(
        model=model,
        regularization={"augmentation": {"name": "sequence"}},
        training={"batch_size": 16, "epochs": 2},
    )
    result = fit(config, tiny_sequences, device="cuda")
    assert result.status == "completed" and model_device(result.model).type == "cuda"


@needs_cuda
def test_a_cross_validated_run_trains_every_fold_on_the_gpu_and_resumes_exactly(
    wine, tmp_path
) -> None:
    from automl_nn.training import CrossValidatedRun

    whole = CrossValidatedRun(BUSY_CONFIG, wine, 3, seed=1, device="cuda")
    assert whole.run() == "completed"
    assert {model_device(fold.model).type for fold in whole.folds} == {"cuda"}
    assert whole.history[-1]["val_accuracy"] > 0.85 and whole.history[-1]["val_log_loss"] > 0
    first_half = CrossValidatedRun(BUSY_CONFIG, wine, 3, seed=1, device="cuda")
    assert_resumes_exactly(  # seed 1: the same folds
        first_half,
        lambda: CrossValidatedRun(BUSY_CONFIG, wine, 3, seed=1, device="cuda"),
        whole,
        tmp_path,
    )


@needs_cuda
def test_a_seed_ensemble_and_a_config_ensemble_retrained_on_the_gpu_test_and_trace_on_the_cpu(
    wine,
) -> None:
    from automl_nn.results import retrain_config
    from automl_nn.training import ConfigEnsemble, SeedEnsemble, config_ensemble_result

    hinge = {**BUSY_CONFIG, "loss": {"name": "hinge"}}
    seeds = [
        retrain_config(config, wine, epochs=4, schedule_epochs=6, seed=0, seeds=3, device="cuda")
        for config in (BUSY_CONFIG, hinge)
    ]
    assert isinstance(seeds[0].model, SeedEnsemble) and len(seeds[0].members) == 3
    final = config_ensemble_result(seeds, classification=True)
    assert isinstance(final.model, ConfigEnsemble) and model_device(final.model).type == "cuda"
    test = evaluate(final.model, wine, "test")
    assert test["accuracy"] > 0.8 and 0 < test["log_loss"] < 1.5
    on_the_gpu = predict(final.model, wine.x_test)
    copy = on_cpu(final.model)
    assert model_device(copy).type == "cpu" and model_device(final.model).type == "cuda"
    assert torch.allclose(predict(copy, wine.x_test), on_the_gpu, atol=1e-4)
    with warnings.catch_warnings():  # as export() traces it: output widths are fixed
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(copy.eval(), wine.x_val[:2], check_trace=False)
    assert torch.allclose(traced(wine.x_test), on_the_gpu, atol=1e-4)
