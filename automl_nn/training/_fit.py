"""fit(): train one config on one TaskData, epoch by epoch, with every knob of the config."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from automl_nn.data import TaskData
from automl_nn.errors import ConfigError
from automl_nn.training._augment import MixedBatch, augment
from automl_nn.training._config import check_config, named_section
from automl_nn.training._losses import LossFunction, build_loss, num_outputs_for
from automl_nn.training._metrics import (
    CLASSIFICATION_METRICS,
    classification_metrics,
    regression_metrics,
)
from automl_nn.training._optimizers import GradientRules, build_optimizer
from automl_nn.training._randomness import RunRandomness
from automl_nn.training._schedules import LearningRateSchedule

# on_epoch(epoch, metrics) -> True to stop. metrics holds the epoch's numbers and "status".
EpochCallback = Callable[[int, dict[str, Any]], "bool | None"]

_EVAL_CHUNK = 4096


@dataclass
class FitResult:
    """What one training run produced.

    Attributes:
        config: the validated config, defaults filled in.
        history: one dict of metrics per epoch (``epoch`` counts from 1).
        metrics: the validation metrics of the last epoch.
        model: the trained model (in eval mode).
        num_parameters: trainable parameters of the model.
        status: ``completed``, ``early_stopping``, ``diverged``, ``timed_out`` (a
            TrainingRun's time limit) or ``stopped`` (by on_epoch).
        seconds: wall-clock time of the run.
        test_metrics: ``test_accuracy``... filled only for a retrained final model.
        members: for a seed ensemble (``model`` a
            :class:`~automl_nn.training.SeedEnsemble`), each member's FitResult; for a
            config ensemble (a :class:`~automl_nn.training.ConfigEnsemble`), each config's
            (itself a seed ensemble's when it trained from several seeds); else empty.
    """

    config: dict[str, Any]
    history: list[dict[str, float]]
    metrics: dict[str, float]
    model: torch.nn.Module
    num_parameters: int
    status: str
    seconds: float
    test_metrics: dict[str, float] = field(default_factory=dict)
    members: list[FitResult] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.history)


def fit(
    config: dict[str, Any],
    data: TaskData,
    *,
    seed: int = 0,
    on_epoch: EpochCallback | None = None,
    device: str | torch.device | None = None,
) -> FitResult:
    """Train the model a config describes on ``data``'s training split.

    Every epoch ends with validation metrics: ``train_loss``, ``val_loss``, then
    ``val_accuracy``, ``val_precision``, ``val_recall``, ``val_f1`` (macro) and
    ``val_log_loss`` (of softmax outputs, whatever the training loss) for classes or
    ``val_mse``, ``val_mae``, ``val_r2`` for regression, and ``lr``, ``epoch_seconds``,
    ``samples_per_second``. A loss that turns NaN or infinite ends the run with status
    ``diverged``; it never raises. Same config and seed on the CPU give the same history
    (timings aside); on a GPU, cuDNN's kernels may differ in the last digits.

    Args:
        config: the nested trial config (sections model, optimizer, schedule, loss,
            regularization, training); missing keys take their defaults.
        data: the task; its test split is never used here.
        seed: seeds weight init, dropout, shuffling and augmentation. The run draws from
            its own random state: torch's global RNG is left as the caller had it, and
            nothing else the program does (another run, its own sampling) changes the run.
        on_epoch: called after every epoch with ``(epoch, metrics)``, where metrics also
            holds ``status`` (``running``, or the run's final status on its last epoch);
            return True to stop the run.
        device: where to train: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; None takes
            the GPU when PyTorch sees one, else the CPU. The data stays on the CPU and
            travels batch by batch; the returned model is left on this device.

    Raises:
        ConfigError: a name, key or value of the config is not valid for this task, or the
            device is not one this machine has.

    Example:
        >>> from automl_nn import load_dataset
        >>> result = fit({"model": {"family": "mlp", "depth": 1},
        ...               "training": {"epochs": 3}}, load_dataset("wine"))
        >>> result.status, len(result.history)
        ('completed', 3)
    """
    run = TrainingRun(config, data, seed=seed, device=device)
    return run.result(run.run(on_epoch))


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The device a run trains on: None picks CUDA's first GPU when there is one, else CPU.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    valid = "cpu, cuda, cuda:N, mps, or None (the GPU when there is one, else the CPU)"
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError("device", device, valid) from None
    if chosen.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError("device", device, "cpu: PyTorch sees no CUDA GPU on this machine")
        if chosen.index is not None and chosen.index >= count:
            raise ConfigError("device", device, f"cuda:0 to cuda:{count - 1}")
    elif chosen.type == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError("device", device, "cpu: PyTorch sees no MPS device on this machine")
    elif chosen.type != "cpu":
        raise ConfigError("device", device, valid)
    return chosen


class TrainingRun:
    """One training run, epoch by epoch, whose whole state can be saved and restored.

    :func:`fit` is ``TrainingRun(config, data, seed=seed)`` run to its end. Ray Tune's
    trainable uses the class directly: it checkpoints :meth:`state_dict` after every epoch
    and, when a trial is restored (a lost node, a resumed search, PBT), continues from
    :meth:`load_state_dict` at the next epoch.

    Example:
        >>> from automl_nn import load_dataset
        >>> run = TrainingRun({"training": {"epochs": 2}}, load_dataset("wine"))
        >>> run.run(), len(run.history)
        ('completed', 2)
    """

    def __init__(
        self,
        config: dict[str, Any],
        data: TaskData,
        *,
        seed: int = 0,
        time_limit_s: float | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.started = time.perf_counter()
        self.device = resolve_device(device)
        # Training stops between two batches once this much time has passed in run().
        self.time_limit_s = time_limit_s
        self.deadline = math.inf
        self.config = check_config(config, data)
        # Weight init and dropout draw from the run's own RNG state, shuffling and
        # augmentation from its generator: nothing else the program does changes them.
        self.randomness = RunRandomness(seed, self.device)
        self.generator = torch.Generator().manual_seed(seed)
        regularization = self.config["regularization"]
        self.data = data
        with self.randomness.active():
            self.model = model_for(self.config, data).to(self.device)
        self.loss_fn = build_loss(self.config["loss"])
        self.parameters = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(
            self.config["optimizer"], self.parameters, weight_decay=regularization["weight_decay"]
        )
        self.rules = GradientRules(regularization, optimizer_name=self.config["optimizer"]["name"])
        self.rules_active = bool(
            self.rules.l1 or self.rules.l2 or self.rules.decoupled_decay or self.rules.grad_clip
        )
        self.augmentation = regularization["augmentation"]
        self.batch_starts = _batch_starts(
            len(data.y_train), self.config["training"]["batch_size"], regularization["batch_norm"]
        )
        self.epoch_count = int(self.config["training"]["epochs"])
        self.schedule = LearningRateSchedule(
            self.config["schedule"],
            lr=self.config["optimizer"]["lr"],
            epochs=self.epoch_count,
            steps_per_epoch=len(self.batch_starts),
        )
        self.patience = regularization["early_stopping"]
        self.history: list[dict[str, float]] = []
        self.best_val_loss = math.inf
        self.epochs_without_gain = 0

    def run(self, on_epoch: EpochCallback | None = None) -> str:
        """Train the remaining epochs; return the final status.

        With a ``time_limit_s``, an epoch that reaches it ends after its current batch, is
        validated and reported, and the run ends with status ``timed_out``.
        """
        if self.time_limit_s is not None:
            self.deadline = time.perf_counter() + self.time_limit_s
        while len(self.history) < self.epoch_count:
            row, status = self.run_epoch()
            stop_asked = bool(on_epoch and on_epoch(len(self.history), {**row, "status": status}))
            if status != "running":
                return status
            if stop_asked:
                return "stopped"
        return "completed"

    def run_epoch(self) -> tuple[dict[str, float], str]:
        """Train and validate the next epoch; its metrics and the run's status after it.

        The status is ``running`` while epochs remain, else the run's final one (see
        :class:`FitResult`); a caller stops calling once it is not ``running``. Training
        stops between two batches at ``self.deadline`` (run() sets it from time_limit_s).
        """
        epoch = len(self.history)
        with self.randomness.active():
            row = self._one_epoch(epoch)
        self.history.append(row)
        self.schedule.end_epoch(row["val_loss"])
        if row["val_loss"] < self.best_val_loss:
            self.best_val_loss, self.epochs_without_gain = row["val_loss"], 0
        else:
            self.epochs_without_gain += 1
        return row, self._status(row, epoch, self.epochs_without_gain)

    def result(self, status: str) -> FitResult:
        """The FitResult of the epochs run so far."""
        from automl_nn.models import count_parameters

        self.model.eval()
        last = self.history[-1] if self.history else {}
        return FitResult(
            config=self.config,
            history=self.history,
            metrics={k: v for k, v in last.items() if k.startswith("val_")},
            model=self.model,
            num_parameters=count_parameters(self.model),
            status=status,
            seconds=time.perf_counter() - self.started,
        )

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly (loadable with weights_only=True)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "history": self.history,
            "best_val_loss": self.best_val_loss,
            "epochs_without_gain": self.epochs_without_gain,
            "generator": self.generator.get_state(),
            **self.randomness.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict`; the next epoch run is ``len(history) + 1``."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.history = list(state["history"])
        self.best_val_loss = float(state["best_val_loss"])
        self.epochs_without_gain = int(state["epochs_without_gain"])
        self.generator.set_state(state["generator"])
        self.randomness.load_state_dict(state)

    def _status(self, row: dict[str, float], epoch: int, epochs_without_gain: int) -> str:
        if not (math.isfinite(row["train_loss"]) and math.isfinite(row["val_loss"])):
            return "diverged"
        if time.perf_counter() >= self.deadline:
            return "timed_out"
        if self.patience is not None and epochs_without_gain >= self.patience:
            return "early_stopping"
        return "completed" if epoch + 1 == self.epoch_count else "running"

    def _one_epoch(self, epoch: int) -> dict[str, float]:
        started = time.perf_counter()
        train_loss, samples, lr = self._train_one_epoch(epoch)
        train_seconds = time.perf_counter() - started
        validation = evaluate_outputs(self.model, self.data, "val", self.loss_fn)
        return {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            **{f"val_{name}": value for name, value in validation.items()},
            "lr": lr,
            "epoch_seconds": time.perf_counter() - started,
            "samples_per_second": samples / max(train_seconds, 1e-9),
        }

    def _train_one_epoch(self, epoch: int) -> tuple[float, int, float]:
        self.model.train()
        x_all, y_all = self.data.x_train, self.data.y_train
        order = torch.randperm(len(y_all), generator=self.generator)
        total_loss = torch.zeros((), device=self.device)
        samples = 0
        lr = self.schedule.lr_at(epoch, 0)
        for step, (start, stop) in enumerate(self.batch_starts):
            lr = self.schedule.lr_at(epoch, step)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            index = order[start:stop]
            x, y = augment(x_all[index], y_all[index], self.augmentation, self.generator)
            x, y = x.to(self.device, non_blocking=True), _to_device(y, self.device)
            outputs = self.model(x)
            loss = (
                y.loss(self.loss_fn, outputs)
                if isinstance(y, MixedBatch)
                else self.loss_fn(outputs, y)
            )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.rules_active:
                self.rules.apply(self.parameters, lr=lr)
            self.optimizer.step()
            total_loss += loss.detach() * (stop - start)
            samples += stop - start
            if time.perf_counter() >= self.deadline:
                break
        return float(total_loss) / max(samples, 1), samples, lr


def model_for(config: dict[str, Any], data: TaskData) -> torch.nn.Module:
    """The untrained model of a validated config (:func:`check_config`) for this task."""
    from automl_nn.models import build_model

    regularization = config["regularization"]
    return build_model(
        config["model"],
        data,
        num_outputs=num_outputs_for(config["loss"], data.kind, data.num_classes),
        dropout=regularization["dropout"],
        batch_norm=regularization["batch_norm"],
    )


def _to_device(y: torch.Tensor | MixedBatch, device: torch.device) -> torch.Tensor | MixedBatch:
    if isinstance(y, MixedBatch):
        return MixedBatch(y.y_a.to(device), y.y_b.to(device), y.lam)
    return y.to(device, non_blocking=True)


def model_device(model: torch.nn.Module) -> torch.device:
    """Where a model's weights live (the CPU for a model without any)."""
    return next(model.parameters(), torch.empty(0)).device


def on_cpu(model: torch.nn.Module) -> torch.nn.Module:
    """The model itself when it lives on the CPU, else a CPU copy (to save, log, export)."""
    if model_device(model).type == "cpu":
        return model
    return copy.deepcopy(model).cpu()


def _batch_starts(count: int, batch_size: int | str, batch_norm: bool) -> list[tuple[int, int]]:
    """(start, stop) of each batch; with batch norm a last batch of one sample is dropped."""
    size = count if batch_size == "full" else min(int(batch_size), count)
    bounds = [(start, min(start + size, count)) for start in range(0, count, size)]
    if batch_norm and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds.pop()
    return bounds


def predict(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Outputs of the model in eval mode, in chunks, without gradients, on the CPU.

    ``x`` may live anywhere; each chunk goes to the model's device and back.
    """
    device = model_device(model)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = torch.cat(
            [model(x[i : i + _EVAL_CHUNK].to(device)).cpu() for i in range(0, len(x), _EVAL_CHUNK)]
        )
    model.train(was_training)
    return outputs


def evaluate_outputs(
    model: torch.nn.Module, data: TaskData, split: str, loss_fn: LossFunction | None
) -> dict[str, float]:
    """Plain-named metrics of one split (``loss`` too when a loss function is given)."""
    x, y = data.split(split)
    outputs = predict(model, x)
    metrics: dict[str, float] = {}
    if loss_fn is not None:
        with torch.no_grad():
            metrics["loss"] = float(loss_fn(outputs, y))
    return {**metrics, **outputs_metrics(outputs, data, split)}


def outputs_metrics(outputs: torch.Tensor, data: TaskData, split: str = "test") -> dict[str, float]:
    """``evaluate``'s metrics of outputs already predicted for a split (one row per sample).

    For predictions made elsewhere: an ensemble's mean, or outputs stored by a benchmark.

    Example:
        >>> import torch
        >>> from automl_nn import load_dataset
        >>> data = load_dataset("wine")
        >>> perfect = torch.nn.functional.one_hot(data.y_test, 3).float() * 10
        >>> outputs_metrics(perfect, data)["accuracy"]
        1.0
    """
    _, y = data.split(split)
    if not data.is_classification:
        return regression_metrics(outputs, y, target_std=data.target_std)
    if not torch.isfinite(outputs).all():
        return dict.fromkeys(CLASSIFICATION_METRICS, float("nan"))
    return classification_metrics(outputs, y, int(data.num_classes or 2))


def evaluate(
    model: torch.nn.Module,
    data: TaskData,
    split: str = "test",
    *,
    loss: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Metrics of a trained model on one split, under plain names.

    ``accuracy``, ``precision``, ``recall``, ``f1`` (macro) and ``log_loss`` for classes;
    ``mse``, ``mae`` (original units) and ``r2`` for regression; ``loss`` when a loss
    section is given.

    Example:
        >>> from automl_nn import load_dataset
        >>> data = load_dataset("wine")
        >>> result = fit({"training": {"epochs": 2}}, data)
        >>> sorted(evaluate(result.model, data, "val"))
        ['accuracy', 'f1', 'log_loss', 'precision', 'recall']
    """
    loss_fn = build_loss(named_section("loss", loss, "cross_entropy")) if loss else None
    return evaluate_outputs(model, data, split, loss_fn)
