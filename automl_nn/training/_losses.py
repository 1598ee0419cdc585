"""Loss functions by name: (logits, targets) -> scalar tensor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def num_outputs_for(loss: dict[str, Any], kind: str, num_classes: int | None) -> int:
    """Width of the model's last layer: one logit for bce and regression, else one per class."""
    if kind == "regression" or loss["name"] == "bce":
        return 1
    return int(num_classes or 2)


def build_loss(loss: dict[str, Any]) -> LossFunction:
    """The loss function of a validated ``loss`` config section.

    Example:
        >>> fn = build_loss({"name": "huber", "delta": 1.0})
        >>> float(fn(torch.zeros(2, 1), torch.tensor([0.5, 3.0])))
        1.3125
    """
    name = loss["name"]
    if name == "cross_entropy":
        smoothing = float(loss["label_smoothing"])
        return lambda logits, y: F.cross_entropy(logits, y, label_smoothing=smoothing)
    if name == "bce":
        return lambda logits, y: F.binary_cross_entropy_with_logits(
            logits.squeeze(-1), y.to(logits.dtype)
        )
    if name == "mse":
        return lambda out, y: F.mse_loss(out.squeeze(-1), y)
    if name == "huber":
        delta = float(loss["delta"])
        return lambda out, y: F.huber_loss(out.squeeze(-1), y, delta=delta)
    if name == "hinge":
        margin = float(loss["margin"])
        return lambda logits, y: F.multi_margin_loss(logits, y, margin=margin)
    if name == "focal":
        return _focal_loss(float(loss["gamma"]))
    raise AssertionError(f"unchecked loss {name!r}")  # check_config rejects it first


def _focal_loss(gamma: float) -> LossFunction:
    """Focal loss (Lin et al., 2017): cross-entropy scaled by (1 - p_true) ** gamma."""

    def focal(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log_p_true = F.log_softmax(logits, dim=-1).gather(1, y[:, None]).squeeze(1)
        return (-((1.0 - log_p_true.exp()) ** gamma) * log_p_true).mean()

    return focal
