"""The trial-config vocabulary shared by every room (torch-free).

A trial config is a nested dict with fixed sections (see ``search_spaces/README.md``)::

    model:          {family: cnn, ...}
    optimizer:      {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true}
    schedule:       {name: step, step_size: 10, gamma: 0.1, warmup_epochs: 0}
    loss:           {name: cross_entropy, label_smoothing: 0.0}
    regularization: {dropout: 0.1, l1: 0.0, l2: 1e-4, weight_decay: 0.0, batch_norm: true,
                     augmentation: {name: none}, grad_clip: 1.0, early_stopping: 10}
    training:       {batch_size: 64, epochs: 30}

This module holds the names and default values of every section except ``model``, whose
families register their own keys in :mod:`automl_nn.models`. Both the search-space room and
the training room read it, so a name is spelled in one place only.
"""

from __future__ import annotations

from typing import Any

SECTIONS: tuple[str, ...] = (
    "model",
    "optimizer",
    "schedule",
    "loss",
    "regularization",
    "training",
)

TASK_KINDS: tuple[str, ...] = ("binary", "multiclass", "regression")

ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "silu", "tanh", "leaky_relu")

# name -> keys with their defaults. ``lr`` is the base (peak) learning rate of every schedule.
OPTIMIZERS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.01, "momentum": 0.0, "nesterov": False},
    "adagrad": {"lr": 0.01},
    "rmsprop": {"lr": 0.001, "momentum": 0.0, "alpha": 0.99},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999},
}

# Every schedule also takes ``warmup_epochs`` (linear warm-up from 0 in front of it).
SCHEDULE_COMMON: dict[str, Any] = {"warmup_epochs": 0}
SCHEDULES: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": 10, "gamma": 0.1},
    "exponential": {"gamma": 0.95},
    "cosine": {"min_lr": 0.0},
    "cyclic": {"mode": "triangular", "base_lr_ratio": 0.1, "cycle_epochs": 4, "gamma": 0.999},
    "one_cycle": {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
    "plateau": {"factor": 0.1, "patience": 5, "threshold": 1e-4, "min_lr": 0.0},
}
# Keys a schedule may hold that have no default. A plateau given ``replayed_scales`` (its
# factor of the base rate at each epoch) replays them instead of watching the validation
# loss: a retraining sets it, as its validation split is training data.
SCHEDULE_OPTIONAL: dict[str, tuple[str, ...]] = {"plateau": ("replayed_scales",)}
CYCLIC_MODES: tuple[str, ...] = ("triangular", "triangular2", "exp_range")

LOSSES: dict[str, dict[str, Any]] = {
    "cross_entropy": {"label_smoothing": 0.0},
    "bce": {},
    "mse": {},
    "huber": {"delta": 1.0},
    "hinge": {"margin": 1.0},
    "focal": {"gamma": 2.0},
}
# Which losses fit which task kind: a loss outside its task is a ConfigError.
LOSSES_BY_TASK: dict[str, tuple[str, ...]] = {
    "binary": ("cross_entropy", "bce", "hinge", "focal"),
    "multiclass": ("cross_entropy", "hinge", "focal"),
    "regression": ("mse", "huber"),
}

# Augmentations: name -> keys with defaults, and the input ranks (len(input_shape)) it fits.
AUGMENTATIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "sequence": {"shift": 0.1, "scale": 0.1, "noise": 0.05},
    "image": {"rotation": 15.0, "scaling": 0.1, "flip": False},
    "noise": {"std": 0.1},
    "mixup": {"alpha": 0.2},
}
AUGMENTATION_INPUT_RANKS: dict[str, tuple[int, ...]] = {
    "none": (1, 2, 3),
    "sequence": (2,),
    "image": (3,),
    "noise": (1, 2, 3),
    "mixup": (1, 2, 3),
}

REGULARIZATION: dict[str, Any] = {
    "dropout": 0.0,
    "l1": 0.0,
    "l2": 0.0,
    "weight_decay": 0.0,
    "batch_norm": False,
    "augmentation": {"name": "none"},
    "grad_clip": None,
    "early_stopping": None,
}

TRAINING: dict[str, Any] = {"batch_size": 64, "epochs": 20}

# Sections whose options are chosen by a ``name`` key, with their registries.
NAMED_SECTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "loss": LOSSES,
}
# Sections that are flat dicts of keys.
FLAT_SECTIONS: dict[str, dict[str, Any]] = {
    "regularization": REGULARIZATION,
    "training": TRAINING,
}


def allowed_keys(section: str, name: str | None = None) -> tuple[str, ...]:
    """Keys a config section may hold (``name`` picks the option of a named section).

    Example:
        >>> allowed_keys("optimizer", "sgd")
        ('lr', 'momentum', 'name', 'nesterov')
    """
    if section in FLAT_SECTIONS:
        return tuple(sorted(FLAT_SECTIONS[section]))
    keys = set(NAMED_SECTIONS[section][name or ""]) | {"name"}
    if section == "schedule":
        keys |= set(SCHEDULE_COMMON) | set(SCHEDULE_OPTIONAL.get(name or "", ()))
    return tuple(sorted(keys))
