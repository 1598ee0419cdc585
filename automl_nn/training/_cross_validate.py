"""k-fold cross-validation of one config over the training and validation data.

``cross_validate`` trains the folds one after the other and returns their metrics;
``CrossValidatedRun`` trains them in step, epoch by epoch, for a search's trials.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from automl_nn.data import TaskData
from automl_nn.errors import ConfigError
from automl_nn.training._fit import EpochCallback, TrainingRun, fit


@dataclass(frozen=True)
class CrossValidationResult:
    """Validation metrics of each fold, with their mean and standard deviation."""

    folds: list[dict[str, float]]
    mean: dict[str, float]
    std: dict[str, float]


def cross_validate(
    config: dict[str, Any],
    data: TaskData,
    k: int = 5,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> CrossValidationResult:
    """Train ``k`` times, each time validating on another fold of train+val.

    Folds are stratified for classes. The test split is never used. ``device`` is
    :func:`fit`'s.

    Example:
        >>> from automl_nn import load_dataset
        >>> cv = cross_validate({"training": {"epochs": 2}}, load_dataset("wine"), k=3)
        >>> len(cv.folds), "val_accuracy" in cv.mean
        (3, True)
    """
    folds = [
        fit(config, fold_data, seed=seed + fold, device=device).metrics
        for fold, fold_data in enumerate(fold_splits(data, k, seed=seed))
    ]
    names = folds[0].keys()
    return CrossValidationResult(
        folds=folds,
        mean={n: _finite_or_nan(statistics.fmean, [f[n] for f in folds]) for n in names},
        std={n: _finite_or_nan(statistics.pstdev, [f[n] for f in folds]) for n in names},
    )


def _finite_or_nan(statistic: Any, values: list[float]) -> float:
    """The statistic of the folds' values; NaN when a fold diverged (NaN or infinite)."""
    return statistic(values) if all(math.isfinite(v) for v in values) else math.nan


FoldIndices = list[tuple[np.ndarray, np.ndarray]]


def fold_splits(data: TaskData, k: int, *, seed: int = 0) -> list[TaskData]:
    """``k`` copies of ``data`` whose train/val splits are the folds of train+val.

    Stratified for classes when every class has at least ``k`` samples; shuffled with
    ``seed``. The test split is each copy's own and is never part of a fold.

    Example:
        >>> from automl_nn import load_dataset
        >>> folds = fold_splits(load_dataset("wine"), 3)
        >>> [len(fold.y_val) for fold in folds]
        [48, 47, 47]
    """
    return folds_of(data, fold_indices(data, k, seed=seed))


def fold_indices(data: TaskData, k: int, *, seed: int = 0) -> FoldIndices:
    """Each fold's training and validation positions in train+val (train first, then val).

    :func:`fold_splits`' folds as index arrays: a search computes them once in the driver
    and its trial processes build the folds with :func:`folds_of`, without scikit-learn.

    Example:
        >>> from automl_nn import load_dataset
        >>> [(len(train), len(val)) for train, val in fold_indices(load_dataset("wine"), 3)]
        [(94, 48), (95, 47), (95, 47)]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ConfigError("k", k, "an integer >= 2")
    y = torch.cat([data.y_train, data.y_val]).numpy()
    if k > len(y):
        raise ConfigError("k", k, f"at most the {len(y)} samples of train+val")
    splitter = (
        StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        if data.is_classification and np.bincount(y).min() >= k
        else KFold(n_splits=k, shuffle=True, random_state=seed)
    )
    return list(splitter.split(np.zeros(len(y)), y))


def folds_of(data: TaskData, indices: FoldIndices) -> list[TaskData]:
    """Copies of ``data`` whose train/val splits are the given positions in train+val."""
    merged = data.merged_train_val()  # train first, then val: the positions' order
    x, y = merged.x_train, merged.y_train
    return [
        data.with_train_val(x[train], y[train], x[val], y[val])
        for train, val in ((torch.as_tensor(t), torch.as_tensor(v)) for t, v in indices)
    ]


class CrossValidatedRun:
    """``k`` training runs of one config on the folds of train+val, epoch by epoch in step.

    Each epoch trains every fold that is still running one epoch and reports the mean of
    the folds' metrics: ``val_accuracy`` is then the k-fold estimate over all of train+val,
    not one small validation split's. A fold that stopped early (early stopping) counts
    with its last epoch. ``epoch_seconds`` is the sum over folds (the epoch's wall time).
    The run diverges when a fold does; it has :class:`TrainingRun`'s interface (``run``,
    ``history``, ``state_dict``, ``time_limit_s``), so Ray's trainable runs either.
    ``indices`` are the folds as :func:`fold_indices` gives them for ``data``, ``k`` and
    ``seed``, computed once elsewhere (a search's driver); without them the run computes them.

    Example:
        >>> from automl_nn import load_dataset
        >>> run = CrossValidatedRun({"training": {"epochs": 2}}, load_dataset("wine"), k=3)
        >>> run.run(), len(run.history), len(run.folds)
        ('completed', 2, 3)
    """

    def __init__(
        self,
        config: dict[str, Any],
        data: TaskData,
        k: int,
        *,
        seed: int = 0,
        time_limit_s: float | None = None,
        device: str | torch.device | None = None,
        indices: FoldIndices | None = None,
    ) -> None:
        if indices is None:
            indices = fold_indices(data, k, seed=seed)
        elif len(indices) != k:
            raise ConfigError("indices", f"{len(indices)} folds", f"the k={k} folds")
        self.folds = [
            TrainingRun(config, fold_data, seed=seed + fold, device=device)
            for fold, fold_data in enumerate(folds_of(data, indices))
        ]
        self.time_limit_s = time_limit_s
        self.statuses = ["running"] * k
        self.history: list[dict[str, float]] = []

    @property
    def model(self) -> torch.nn.Module:
        """The first fold's model (every fold's has the same architecture)."""
        return self.folds[0].model

    @property
    def device(self) -> torch.device:
        return self.folds[0].device

    def run(self, on_epoch: EpochCallback | None = None) -> str:
        """Train the remaining epochs of every fold; return the final status."""
        limit = self.time_limit_s
        deadline = math.inf if limit is None else time.perf_counter() + limit
        for fold in self.folds:
            fold.deadline = deadline  # one clock for all: the trial's time limit
        while "running" in self.statuses:
            row = self._run_epoch()
            status = self._status()
            stop_asked = bool(on_epoch and on_epoch(len(self.history), {**row, "status": status}))
            if status != "running":
                return status
            if stop_asked:
                return "stopped"
        return self._status()

    def state_dict(self) -> dict[str, Any]:
        """Every fold's state, the folds' statuses and the mean history."""
        return {
            "folds": [fold.state_dict() for fold in self.folds],
            "statuses": list(self.statuses),
            "history": self.history,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict`."""
        for fold, fold_state in zip(self.folds, state["folds"], strict=True):
            fold.load_state_dict(fold_state)
        self.statuses = list(state["statuses"])
        self.history = list(state["history"])

    def _run_epoch(self) -> dict[str, float]:
        for index, fold in enumerate(self.folds):
            if self.statuses[index] == "running":
                _, self.statuses[index] = fold.run_epoch()
        rows = [fold.history[-1] for fold in self.folds]
        row = {name: statistics.fmean(r[name] for r in rows) for name in rows[0]}
        row["epoch"] = len(self.history) + 1
        row["epoch_seconds"] = sum(  # the folds that trained this epoch
            fold.history[-1]["epoch_seconds"]
            for fold in self.folds
            if len(fold.history) == len(self.history) + 1
        )
        self.history.append(row)
        return row

    def _status(self) -> str:
        """The worst fold's: diverged, timed out, running, early stopping, then completed."""
        for status in ("diverged", "timed_out", "running", "early_stopping"):
            if status in self.statuses:
                return status
        return "completed"
