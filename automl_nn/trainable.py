"""The function Ray Tune runs for every trial: build, train, report each epoch, checkpoint.

It ties the training room to Ray and nothing else: workers never talk to MLflow (the
driver's TrackingCallback does), and the data arrives once through Ray's object store
(``tune.with_parameters``).
"""

from __future__ import annotations

import copy
import importlib
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from automl_nn.data import TaskData

if TYPE_CHECKING:
    from automl_nn.training import FoldIndices

STATE_FILE = "training_state.pt"


def trial_config(config: dict[str, Any], max_epochs: int) -> dict[str, Any]:
    """The config a trial trains: the searcher's suggestion with the search's epoch budget."""
    full = copy.deepcopy(config)
    full.setdefault("training", {})["epochs"] = max_epochs
    return full


def train_trial(
    config: dict[str, Any],
    *,
    data: TaskData,
    max_epochs: int,
    seed: int,
    torch_threads: int,
    trial_timeout_s: float | None = None,
    plugins: tuple[str, ...] = (),
    device: str = "cpu",
    cv_folds: int | None = None,
    cv_fold_indices: FoldIndices | None = None,
) -> None:
    """Ray Tune function trainable: one ``tune.report`` (with a checkpoint) per epoch.

    Each report holds the epoch's metrics, ``epoch``, ``num_parameters``, ``fit_status``
    (``running`` until the last epoch, then ``completed``, ``early_stopping``, ``diverged``
    or ``timed_out``), ``node_id`` and ``device`` (``cpu``, or ``cuda:N`` for the node's GPU
    N). A restored trial (exploited by PBT, retried after a lost node) continues from its
    last checkpoint; ``trial_timeout_s`` counts the training time of every attempt. The
    ``device`` argument is ``cuda`` for a trial that Ray gave GPUs (it sees only those).
    With ``cv_folds`` the trial trains that many models on the folds of train+val and
    reports their mean metrics (:class:`~automl_nn.training.CrossValidatedRun`); the driver
    passes the folds as ``cv_fold_indices``, the same for every trial.
    """
    import ray
    from ray import tune

    from automl_nn.training import CrossValidatedRun, TrainingRun

    for module in plugins:  # e.g. model families the user registered in the driver
        importlib.import_module(module)
    torch.set_num_threads(torch_threads)
    node_id = ray.get_runtime_context().get_node_id()
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"Ray gave this trial GPU(s) {ray.get_gpu_ids()} on node {node_id}, but PyTorch "
            f"{torch.__version__} sees no CUDA GPU there (a CPU-only build, or no driver)"
        )
    full_config = trial_config(config, max_epochs)
    run = (
        TrainingRun(full_config, data, seed=seed, device=device)
        if cv_folds is None
        else CrossValidatedRun(
            full_config, data, cv_folds, seed=seed, device=device, indices=cv_fold_indices
        )
    )
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=True)
            run.load_state_dict(state)
    if trial_timeout_s is not None:
        spent = sum(row["epoch_seconds"] for row in run.history)
        run.time_limit_s = max(0.0, trial_timeout_s - spent)
    num_parameters = sum(p.numel() for p in run.model.parameters())
    # The node's own number of the GPU Ray gave (the trial itself sees it as cuda:0).
    gpu_ids = ray.get_gpu_ids()
    device_name = f"cuda:{gpu_ids[0]}" if device == "cuda" and gpu_ids else str(run.device)

    def report(epoch: int, metrics: dict[str, Any]) -> bool:
        result = {k: _finite_or_nan(v) for k, v in metrics.items() if k != "status"}
        result.update(
            epoch=epoch,
            fit_status=metrics["status"],
            node_id=node_id,
            device=device_name,
            num_parameters=num_parameters,
        )
        with tempfile.TemporaryDirectory() as folder:
            torch.save(run.state_dict(), Path(folder) / STATE_FILE)
            tune.report(result, checkpoint=tune.Checkpoint.from_directory(folder))
        return False

    run.run(on_epoch=report)


def _finite_or_nan(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else float("nan")


def load_trial_model(config: dict[str, Any], data: TaskData, checkpoint_dir: str | Path) -> Any:
    """Rebuild a trial's model on the CPU from its checkpoint folder (weights only, never
    pickled code), also when a GPU trained it. A cross-validated trial's is its first fold's.
    """
    from automl_nn.training import check_config, model_for

    model = model_for(check_config(config, data), data)
    state = torch.load(Path(checkpoint_dir) / STATE_FILE, map_location="cpu", weights_only=True)
    model.load_state_dict(state["folds"][0]["model"] if "folds" in state else state["model"])
    return model.eval()
