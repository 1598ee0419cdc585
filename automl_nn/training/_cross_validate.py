"""k-fold cross-validation of one config over the training and validation data."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from automl_nn.data import TaskData
from automl_nn.errors import ConfigError
from automl_nn.training._fit import fit


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
    from sklearn.model_selection import KFold, StratifiedKFold

    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ConfigError("k", k, "an integer >= 2")
    x = torch.cat([data.x_train, data.x_val])
    y = torch.cat([data.y_train, data.y_val])
    splitter = (
        StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        if data.is_classification and np.bincount(y.numpy()).min() >= k
        else KFold(n_splits=k, shuffle=True, random_state=seed)
    )
    folds = []
    for fold, (train, val) in enumerate(splitter.split(np.zeros(len(y)), y.numpy())):
        train_idx, val_idx = torch.as_tensor(train), torch.as_tensor(val)
        fold_data = data.with_train_val(x[train_idx], y[train_idx], x[val_idx], y[val_idx])
        folds.append(fit(config, fold_data, seed=seed + fold, device=device).metrics)
    names = folds[0].keys()
    return CrossValidationResult(
        folds=folds,
        mean={n: statistics.fmean(f[n] for f in folds) for n in names},
        std={n: statistics.pstdev(f[n] for f in folds) for n in names},
    )
