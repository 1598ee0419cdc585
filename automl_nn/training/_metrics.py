"""Metrics of predictions, computed with torch (no per-epoch sklearn round trips)."""

from __future__ import annotations

import torch

CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "log_loss")
REGRESSION_METRICS: tuple[str, ...] = ("mse", "mae", "r2")


def predicted_classes(outputs: torch.Tensor) -> torch.Tensor:
    """Class indices from logits: one logit means binary (positive when > 0)."""
    if outputs.shape[-1] == 1:
        return (outputs.squeeze(-1) > 0).long()
    return outputs.argmax(dim=-1)


def log_loss(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean negative log-likelihood of the targets under softmax (one logit: sigmoid) outputs.

    The same measure whatever loss a model trained with (MSE, hinge, focal, label smoothing),
    so it compares trials where each one's own ``val_loss`` does not.

    Example:
        >>> round(log_loss(torch.tensor([[0.0, 0.0]]), torch.tensor([1])), 4)
        0.6931
    """
    if outputs.shape[-1] == 1:
        return float(
            torch.nn.functional.binary_cross_entropy_with_logits(
                outputs.squeeze(-1).double(), targets.double()
            )
        )
    return float(torch.nn.functional.cross_entropy(outputs.double(), targets))


def classification_metrics(
    outputs: torch.Tensor, targets: torch.Tensor, num_classes: int
) -> dict[str, float]:
    """Accuracy, macro precision, recall and F1 (classes absent from both count as 0), log-loss.

    Example:
        >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
        >>> classification_metrics(logits, torch.tensor([0, 1, 1]), 2)["accuracy"]
        0.6666666865348816
    """
    predicted = predicted_classes(outputs)
    confusion = (
        torch.bincount(targets * num_classes + predicted, minlength=num_classes * num_classes)
        .reshape(num_classes, num_classes)
        .double()
    )
    true_positive = confusion.diagonal()
    precision = true_positive / confusion.sum(0).clamp(min=1)
    recall = true_positive / confusion.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    present = (confusion.sum(0) + confusion.sum(1)) > 0
    return {
        "accuracy": float((predicted == targets).float().mean()),
        "precision": float(precision[present].mean()),
        "recall": float(recall[present].mean()),
        "f1": float(f1[present].mean()),
        "log_loss": log_loss(outputs, targets),
    }


def regression_metrics(
    outputs: torch.Tensor, targets: torch.Tensor, *, target_std: float = 1.0
) -> dict[str, float]:
    """MSE and MAE in the target's original units, and R^2.

    Example:
        >>> regression_metrics(torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, 3.0]))["mae"]
        0.5
    """
    errors = outputs.squeeze(-1).double() - targets.double()
    variance = ((targets.double() - targets.double().mean()) ** 2).mean()
    mse = float((errors**2).mean())
    return {
        "mse": mse * target_std**2,
        "mae": float(errors.abs().mean()) * target_std,
        "r2": 1.0 - mse / float(variance) if float(variance) > 0 else float("nan"),
    }
