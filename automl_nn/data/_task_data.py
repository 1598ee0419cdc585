"""TaskData: the train/val/test tensors of one learning task, and what kind of task it is."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

INPUT_KINDS_BY_RANK: dict[int, str] = {1: "tabular", 2: "sequence", 3: "image"}


@dataclass(frozen=True)
class TaskData:
    """Train, validation and test tensors of one task, with its kind and shapes.

    The test split is held out for the final, retrained model: searchers never see it.
    Features are float32 of shape ``(N, *input_shape)``; targets are int64 class indices
    (classification) or float32 values (regression, standardized with training statistics:
    ``target_mean`` and ``target_std`` map predictions back to the original units).

    Example:
        >>> from automl_nn import load_dataset
        >>> data = load_dataset("wine")
        >>> data.kind, data.input_shape, data.num_classes
        ('multiclass', (13,), 3)
    """

    name: str
    kind: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int | None = None
    target_mean: float = 0.0
    target_std: float = 1.0
    class_names: tuple[str, ...] | None = None
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample: ``(F,)`` tabular, ``(C, L)`` sequence, ``(C, H, W)`` image."""
        return tuple(self.x_train.shape[1:])

    @property
    def input_kind(self) -> str:
        """``tabular``, ``sequence`` or ``image``, from the rank of one sample."""
        return INPUT_KINDS_BY_RANK[len(self.input_shape)]

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"

    @property
    def train_val_size(self) -> int:
        """Samples in train+val: what cross-validation folds and final retraining use."""
        return len(self.y_train) + len(self.y_val)

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and targets of ``train``, ``val`` or ``test``."""
        splits = {
            "train": (self.x_train, self.y_train),
            "val": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }
        if name not in splits:
            from automl_nn.errors import DataError, one_of

            raise DataError("split", name, one_of(splits))
        return splits[name]

    def with_train_val(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        x_val: torch.Tensor,
        y_val: torch.Tensor,
    ) -> TaskData:
        """A copy with other train/val tensors and the same test split (cross-validation)."""
        return replace(self, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)

    def merged_train_val(self) -> TaskData:
        """Train on train+val (final retraining); the validation split stays for reporting."""
        return replace(
            self,
            x_train=torch.cat([self.x_train, self.x_val]),
            y_train=torch.cat([self.y_train, self.y_val]),
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (logged to MLflow as the search's data artifact)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "input_shape": list(self.input_shape),
            "input_kind": self.input_kind,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names) if self.class_names else None,
            "num_train": len(self.y_train),
            "num_val": len(self.y_val),
            "num_test": len(self.y_test),
            "target_mean": self.target_mean,
            "target_std": self.target_std,
            **self.source,
        }
