"""Build TaskData from the user's own arrays or CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from automl_nn.data._task_data import TaskData
from automl_nn.errors import DataError, one_of
from automl_nn.vocabulary import TASK_KINDS

# An integer-valued target with at most this many distinct values is taken for classes.
_MAX_INFERRED_CLASSES = 100


def from_arrays(
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
    name: str = "arrays",
    num_classes: int | None = None,
) -> TaskData:
    """Split arrays into train/val/test (stratified for classes) and make a TaskData.

    Tabular features are standardized with statistics of the training split only.
    The task kind is inferred when not given: string or boolean targets and integer
    targets with few distinct values are classes (two of them: binary), everything else
    is regression.

    Args:
        X: features, ``(N, F)`` tabular, ``(N, C, L)`` sequences or ``(N, C, H, W)`` images.
        y: targets, ``(N,)``.
        task: ``binary``, ``multiclass`` or ``regression``; inferred when None.
        test_fraction: share of samples held out for the final test.
        val_fraction: share of the remaining samples used for validation.
        seed: seed of the splits.
        name: name of the data set in logs and MLflow.
        num_classes: number of classes, when some classes may be absent from ``y``.

    Example:
        >>> import numpy as np
        >>> data = from_arrays(np.random.rand(100, 3), np.arange(100) % 2)
        >>> data.kind, len(data.y_test)
        ('binary', 20)
    """
    features = _as_feature_array(X)
    targets = np.asarray(y)
    _check_lengths(features, targets)
    _check_fraction("test_fraction", test_fraction)
    _check_fraction("val_fraction", val_fraction)
    kind, labels, class_names = _encode_targets(targets, task, num_classes)
    strata = labels if kind != "regression" else None
    rest, test = stratified_split(len(labels), test_fraction, strata, seed)
    train, val = stratified_split(
        len(rest), val_fraction, None if strata is None else strata[rest], seed + 1
    )
    train, val = rest[train], rest[val]
    return make_task_data(
        name=name,
        kind=kind,
        features=features,
        targets=labels,
        splits=(train, val, test),
        num_classes=_num_classes(kind, labels, num_classes),
        class_names=class_names,
        standardize_features=features.ndim == 2,
    )


def from_csv(
    path: str | Path,
    target: str,
    *,
    task: str | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> TaskData:
    """Read a CSV file (one row a sample) and make a TaskData of its ``target`` column.

    Non-numeric feature columns are one-hot encoded; missing values are an error.

    Example:
        >>> data = from_csv("examples/data/penguins.csv", target="species")  # doctest: +SKIP
    """
    import pandas as pd

    csv_path = Path(path)
    if not csv_path.is_file():
        raise DataError("path", str(path), "an existing CSV file")
    frame = pd.read_csv(csv_path)
    if target not in frame.columns:
        raise DataError("target", target, one_of(frame.columns))
    missing = frame.columns[frame.isna().any()].tolist()
    if missing:
        raise DataError("columns", missing, "columns without missing values")
    features = pd.get_dummies(frame.drop(columns=[target]), dtype=np.float32)
    if features.shape[1] == 0:
        raise DataError("columns", list(frame.columns), "at least one feature column")
    return from_arrays(
        features.to_numpy(dtype=np.float32),
        frame[target].to_numpy(),
        task=task,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        seed=seed,
        name=csv_path.stem,
    )


def stratified_split(
    count: int, fraction: float, strata: np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held_out) with ``fraction`` held out, stratified when strata are given."""
    from sklearn.model_selection import train_test_split

    can_stratify = strata is not None and _has_every_class_twice(strata)
    kept, held_out = train_test_split(
        np.arange(count),
        test_size=fraction,
        random_state=seed,
        stratify=strata if can_stratify else None,
    )
    return np.sort(kept), np.sort(held_out)


def _has_every_class_twice(strata: np.ndarray) -> bool:
    counts = np.bincount(strata)
    return bool(counts[counts > 0].min() >= 2)


def make_task_data(
    *,
    name: str,
    kind: str,
    features: np.ndarray,
    targets: np.ndarray,
    splits: tuple[np.ndarray, np.ndarray, np.ndarray],
    num_classes: int | None,
    class_names: tuple[str, ...] | None = None,
    standardize_features: bool = False,
    source: dict[str, Any] | None = None,
) -> TaskData:
    """Tensors of the three splits, standardized with statistics of the training split."""
    train, val, test = splits
    features = features.astype(np.float32)
    if standardize_features:
        mean = features[train].mean(axis=0)
        std = features[train].std(axis=0)
        features = (features - mean) / np.where(std > 0, std, 1.0)
    target_mean, target_std = 0.0, 1.0
    if kind == "regression":
        targets = targets.astype(np.float32)
        target_mean = float(targets[train].mean())
        target_std = float(targets[train].std()) or 1.0
        targets = (targets - target_mean) / target_std
        target_tensor = torch.as_tensor(targets, dtype=torch.float32)
    else:
        target_tensor = torch.as_tensor(targets, dtype=torch.int64)
    feature_tensor = torch.as_tensor(features, dtype=torch.float32)
    return TaskData(
        name=name,
        kind=kind,
        x_train=feature_tensor[train].contiguous(),
        y_train=target_tensor[train].contiguous(),
        x_val=feature_tensor[val].contiguous(),
        y_val=target_tensor[val].contiguous(),
        x_test=feature_tensor[test].contiguous(),
        y_test=target_tensor[test].contiguous(),
        num_classes=num_classes,
        target_mean=target_mean,
        target_std=target_std,
        class_names=class_names,
        source=source or {},
    )


def _as_feature_array(X: Any) -> np.ndarray:
    features = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
    if features.ndim not in (2, 3, 4):
        raise DataError(
            "X.shape", features.shape, "(N, F) tabular, (N, C, L) sequences or (N, C, H, W) images"
        )
    if not np.issubdtype(features.dtype, np.number) and features.dtype != np.bool_:
        raise DataError("X.dtype", str(features.dtype), "numeric features")
    features = features.astype(np.float32)
    bad_rows = np.flatnonzero(~np.isfinite(features.reshape(len(features), -1)).all(axis=1))
    if bad_rows.size:
        raise DataError(
            f"X[{int(bad_rows[0])}]",
            "NaN or infinite",
            f"finite features ({bad_rows.size} rows have NaN or inf)",
        )
    return features


def _check_lengths(features: np.ndarray, targets: np.ndarray) -> None:
    if targets.ndim != 1:
        raise DataError("y.shape", targets.shape, "a 1-D array of targets, (N,)")
    if len(features) != len(targets):
        raise DataError(
            "len(y)", len(targets), f"as many targets as samples in X ({len(features)})"
        )
    if len(targets) < 10:
        raise DataError("len(X)", len(targets), "at least 10 samples")


def _check_fraction(field: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise DataError(field, value, "a fraction strictly between 0 and 1")


def _encode_targets(
    targets: np.ndarray, task: str | None, num_classes: int | None
) -> tuple[str, np.ndarray, tuple[str, ...] | None]:
    """(task kind, encoded targets, class names) with the kind inferred when None."""
    if task is not None and task not in TASK_KINDS:
        raise DataError("task", task, one_of(TASK_KINDS))
    is_text = targets.dtype.kind in "OUSb"
    if is_text:
        if task == "regression":
            raise DataError("y", str(targets.dtype), "numeric targets for a regression task")
        class_names, labels = np.unique(targets.astype(str), return_inverse=True)
        kind = task or ("binary" if len(class_names) == 2 else "multiclass")
        _check_class_count(kind, len(class_names))
        return kind, labels.astype(np.int64), tuple(str(c) for c in class_names)
    if not np.isfinite(targets.astype(np.float64)).all():
        raise DataError("y", "NaN or infinite", "finite targets")
    kind = task or _infer_numeric_task(targets)
    if kind == "regression":
        return kind, targets.astype(np.float32), None
    return kind, _integer_labels(targets, kind, num_classes), None


def _infer_numeric_task(targets: np.ndarray) -> str:
    is_integral = bool(np.all(np.equal(np.mod(targets, 1), 0)))
    distinct = np.unique(targets).size
    if is_integral and distinct <= _MAX_INFERRED_CLASSES and distinct < len(targets) / 2:
        return "binary" if distinct == 2 else "multiclass"
    return "regression"


def _integer_labels(targets: np.ndarray, kind: str, num_classes: int | None) -> np.ndarray:
    if not np.all(np.equal(np.mod(targets, 1), 0)):
        raise DataError("y", "non-integer values", f"class indices 0..K-1 for a {kind} task")
    labels = targets.astype(np.int64)
    limit = num_classes or (2 if kind == "binary" else int(labels.max()) + 1)
    out_of_range = labels[(labels < 0) | (labels >= limit)]
    if out_of_range.size:
        raise DataError("y", int(out_of_range[0]), f"class indices in 0..{limit - 1}")
    _check_class_count(kind, limit)
    return labels


def _check_class_count(kind: str, count: int) -> None:
    if kind == "binary" and count != 2:
        raise DataError("task", kind, f"a task that fits {count} classes (binary needs 2)")
    if kind == "multiclass" and count < 2:
        raise DataError("y", f"{count} class", "at least 2 classes")


def _num_classes(kind: str, labels: np.ndarray, num_classes: int | None) -> int | None:
    if kind == "regression":
        return None
    if kind == "binary":
        return 2
    return num_classes or int(labels.max()) + 1
