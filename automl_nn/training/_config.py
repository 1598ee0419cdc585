"""Validation of one trial config: every name, key and value, with the defaults filled in."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from automl_nn import vocabulary as vocab
from automl_nn.errors import ConfigError, one_of


class TaskLike(Protocol):
    kind: str
    num_classes: int | None

    @property
    def input_shape(self) -> tuple[int, ...]: ...


def check_config(config: Mapping[str, Any], task: TaskLike) -> dict[str, Any]:
    """Validate a trial config against the vocabulary and the task; fill in defaults.

    Raises:
        ConfigError: naming the field (``optimizer.lr``), the value and what is valid.

    Example:
        >>> from automl_nn import load_dataset
        >>> full = check_config({"model": {"family": "mlp"}}, load_dataset("wine"))
        >>> full["optimizer"]["name"], full["training"]["epochs"]
        ('adam', 20)
    """
    from automl_nn.models import check_model_config

    if not isinstance(config, Mapping):
        raise ConfigError("config", type(config).__name__, "a dict of sections")
    _reject_unknown("config", config, vocab.SECTIONS)
    full: dict[str, Any] = {
        "model": check_model_config(
            dict(config.get("model") or {"family": "mlp"}), task.input_shape
        ),
        "optimizer": named_section("optimizer", config.get("optimizer"), "adam"),
        "schedule": named_section("schedule", config.get("schedule"), "constant"),
        "loss": named_section("loss", config.get("loss"), _default_loss(task.kind)),
        "regularization": _flat_section("regularization", config.get("regularization")),
        "training": _flat_section("training", config.get("training")),
    }
    for check in _VALUE_CHECKS:
        check(full, task)
    return full


def _reject_unknown(field: str, section: Mapping[str, Any], valid: tuple[str, ...] | Any) -> None:
    for key in section:
        if key not in valid:
            raise ConfigError(f"{field}.{key}" if field != "config" else key, key, one_of(valid))


def _default_loss(kind: str) -> str:
    return "mse" if kind == "regression" else "cross_entropy"


def named_section(section: str, given: Any, default_name: str) -> dict[str, Any]:
    given = {} if given is None else given
    if isinstance(given, str):
        given = {"name": given}
    if not isinstance(given, Mapping):
        raise ConfigError(section, given, "a dict with a 'name' key")
    options = vocab.NAMED_SECTIONS[section]
    name = given.get("name", default_name)
    if name not in options:
        raise ConfigError(f"{section}.name", name, one_of(options))
    _reject_unknown(section, given, vocab.allowed_keys(section, name))
    defaults = dict(options[name])
    if section == "schedule":
        defaults.update(vocab.SCHEDULE_COMMON)
    return {"name": name, **defaults, **{k: v for k, v in given.items() if k != "name"}}


def _flat_section(section: str, given: Any) -> dict[str, Any]:
    given = {} if given is None else given
    if not isinstance(given, Mapping):
        raise ConfigError(section, given, "a dict")
    _reject_unknown(section, given, vocab.allowed_keys(section))
    return {**copy.deepcopy(vocab.FLAT_SECTIONS[section]), **given}


def _number(
    field: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Raise ConfigError unless value is a (finite, int when asked) number in the range."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    words = "an integer" if integer else "a number"
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {high}")
    expected = f"{words} {' and '.join(bounds)}".strip()
    if not is_number or not math.isfinite(value) or (integer and int(value) != value):
        raise ConfigError(field, value, expected)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ConfigError(field, value, expected)


def _check_optimizer(full: dict[str, Any], task: TaskLike) -> None:
    opt = full["optimizer"]
    _number("optimizer.lr", opt["lr"], low=0.0, low_open=True)
    for key in ("momentum", "beta1", "beta2", "alpha"):
        if key in opt:
            _number(f"optimizer.{key}", opt[key], low=0.0, high=1.0, high_open=True)
    if "nesterov" in opt and not isinstance(opt["nesterov"], bool):
        raise ConfigError("optimizer.nesterov", opt["nesterov"], "true or false")


def _check_schedule(full: dict[str, Any], task: TaskLike) -> None:
    sched = full["schedule"]
    _number("schedule.warmup_epochs", sched["warmup_epochs"], low=0, integer=True)
    ranges: dict[str, dict[str, Any]] = {
        "step_size": {"low": 1, "integer": True},
        "gamma": {"low": 0.0, "high": 1.0, "low_open": True},
        "min_lr": {"low": 0.0},
        "base_lr_ratio": {"low": 0.0, "high": 1.0, "low_open": True},
        "cycle_epochs": {"low": 0.0, "low_open": True},
        "pct_start": {"low": 0.0, "high": 1.0, "low_open": True, "high_open": True},
        "div_factor": {"low": 1.0},
        "final_div_factor": {"low": 1.0},
        "factor": {"low": 0.0, "high": 1.0, "low_open": True, "high_open": True},
        "patience": {"low": 0, "integer": True},
        "threshold": {"low": 0.0},
    }
    for key, bounds in ranges.items():
        if key in sched:
            _number(f"schedule.{key}", sched[key], **bounds)
    if sched["name"] == "cyclic" and sched["mode"] not in vocab.CYCLIC_MODES:
        raise ConfigError("schedule.mode", sched["mode"], one_of(vocab.CYCLIC_MODES))
    if "replayed_scales" in sched:
        _check_replayed_scales(sched["replayed_scales"])


def _check_replayed_scales(scales: Any) -> None:
    if not isinstance(scales, (list, tuple)) or not scales:
        raise ConfigError(
            "schedule.replayed_scales", scales, "a non-empty list of numbers > 0, one per epoch"
        )
    for index, scale in enumerate(scales):
        _number(f"schedule.replayed_scales[{index}]", scale, low=0.0, low_open=True)


def _check_loss(full: dict[str, Any], task: TaskLike) -> None:
    loss = full["loss"]
    fitting = vocab.LOSSES_BY_TASK[task.kind]
    if loss["name"] not in fitting:
        classes = f" with {task.num_classes} classes" if task.num_classes else ""
        raise ConfigError(
            "loss.name", loss["name"], f"a loss for a {task.kind} task{classes}: {one_of(fitting)}"
        )
    if "label_smoothing" in loss:
        _number("loss.label_smoothing", loss["label_smoothing"], low=0.0, high=1.0, high_open=True)
    if "gamma" in loss:
        _number("loss.gamma", loss["gamma"], low=0.0)
    for key in ("delta", "margin"):
        if key in loss:
            _number(f"loss.{key}", loss[key], low=0.0, low_open=True)


def _check_regularization(full: dict[str, Any], task: TaskLike) -> None:
    reg = full["regularization"]
    _number("regularization.dropout", reg["dropout"], low=0.0, high=1.0, high_open=True)
    for key in ("l1", "l2", "weight_decay"):
        _number(f"regularization.{key}", reg[key], low=0.0)
    if not isinstance(reg["batch_norm"], bool):
        raise ConfigError("regularization.batch_norm", reg["batch_norm"], "true or false")
    if reg["grad_clip"] is not None:
        _number("regularization.grad_clip", reg["grad_clip"], low=0.0, low_open=True)
    if reg["early_stopping"] is not None:
        _number("regularization.early_stopping", reg["early_stopping"], low=1, integer=True)
    reg["augmentation"] = _augmentation(reg["augmentation"], task)


def _augmentation(given: Any, task: TaskLike) -> dict[str, Any]:
    if given is None or isinstance(given, str):
        given = {"name": given or "none"}
    if not isinstance(given, Mapping):
        raise ConfigError("regularization.augmentation", given, "a dict with a 'name' key")
    name = given.get("name", "none")
    if name not in vocab.AUGMENTATIONS:
        raise ConfigError("regularization.augmentation.name", name, one_of(vocab.AUGMENTATIONS))
    valid_keys = ("name", *vocab.AUGMENTATIONS[name])
    _reject_unknown("regularization.augmentation", given, valid_keys)
    rank = len(task.input_shape)
    if rank not in vocab.AUGMENTATION_INPUT_RANKS[name]:
        fitting = [n for n, ranks in vocab.AUGMENTATION_INPUT_RANKS.items() if rank in ranks]
        raise ConfigError(
            "regularization.augmentation.name",
            name,
            f"an augmentation for inputs of shape {tuple(task.input_shape)}: {one_of(fitting)}",
        )
    full = {"name": name, **vocab.AUGMENTATIONS[name], **given}
    for key, value in full.items():
        if key not in ("name", "flip"):
            _number(f"regularization.augmentation.{key}", value, low=0.0)
    return full


def _check_training(full: dict[str, Any], task: TaskLike) -> None:
    training = full["training"]
    batch_size = training["batch_size"]
    if batch_size != "full":
        _number("training.batch_size", batch_size, low=1, integer=True)
    _number("training.epochs", training["epochs"], low=1, integer=True)
    if batch_size == 1 and full["regularization"]["batch_norm"]:
        raise ConfigError(
            "training.batch_size", 1, "a batch size >= 2 when regularization.batch_norm is on"
        )


_VALUE_CHECKS: tuple[Callable[[dict[str, Any], TaskLike], None], ...] = (
    _check_optimizer,
    _check_schedule,
    _check_loss,
    _check_regularization,
    _check_training,
)
