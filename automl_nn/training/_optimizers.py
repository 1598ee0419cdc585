"""Optimizers by name, and the gradient rules (L1, L2, decoupled decay, clipping)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def build_optimizer(
    optimizer: dict[str, Any], parameters: Sequence[torch.nn.Parameter], *, weight_decay: float
) -> torch.optim.Optimizer:
    """A torch optimizer from a validated ``optimizer`` section.

    ``weight_decay`` is decoupled (Loshchilov & Hutter): AdamW applies it itself; for the
    other optimizers :func:`apply_gradient_rules` shrinks the weights before each step.

    Example:
        >>> model = torch.nn.Linear(2, 1)
        >>> opt = build_optimizer({"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
        ...                       list(model.parameters()), weight_decay=0.0)
        >>> type(opt).__name__, opt.param_groups[0]["nesterov"]
        ('SGD', True)
    """
    name, lr = optimizer["name"], optimizer["lr"]
    if name == "sgd":
        momentum = optimizer["momentum"]
        # Nesterov with zero momentum is plain SGD; torch would refuse the combination.
        nesterov = bool(optimizer["nesterov"]) and momentum > 0
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum, nesterov=nesterov)
    if name == "adagrad":
        return torch.optim.Adagrad(parameters, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(
            parameters, lr=lr, momentum=optimizer["momentum"], alpha=optimizer["alpha"]
        )
    betas = (optimizer["beta1"], optimizer["beta2"])
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=betas)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, weight_decay=weight_decay)
    raise AssertionError(f"unchecked optimizer {name!r}")  # check_config rejects it first


class GradientRules:
    """What happens to the gradients between ``backward()`` and ``optimizer.step()``.

    L1 adds ``l1 * sign(w)`` and L2 adds ``2 * l2 * w`` to each gradient (the gradients of
    ``l1 * |w|`` and ``l2 * w**2``); decoupled weight decay (for optimizers other than AdamW)
    multiplies the weights by ``1 - lr * weight_decay``; clipping rescales the gradients to a
    total norm of at most ``grad_clip``. Each rule costs nothing when it is off.

    Example:
        >>> w = torch.nn.Parameter(torch.ones(3)); w.grad = torch.full((3,), 10.0)
        >>> GradientRules({"l1": 0.0, "l2": 0.0, "weight_decay": 0.0, "grad_clip": 1.0},
        ...               optimizer_name="sgd").apply([w], lr=0.1)
        >>> round(float(w.grad.norm()), 4)
        1.0
    """

    def __init__(self, regularization: dict[str, Any], *, optimizer_name: str) -> None:
        self.l1 = float(regularization["l1"])
        self.l2 = float(regularization["l2"])
        decay = float(regularization["weight_decay"])
        self.decoupled_decay = 0.0 if optimizer_name == "adamw" else decay
        clip = regularization["grad_clip"]
        self.grad_clip = None if clip is None else float(clip)

    def apply(self, parameters: Sequence[torch.nn.Parameter], *, lr: float) -> None:
        """Change gradients (and, for decoupled decay, weights) in place."""
        with_grad = [p for p in parameters if p.grad is not None]
        if not with_grad:
            return
        grads = [p.grad for p in with_grad]
        with torch.no_grad():
            if self.l1:
                torch._foreach_add_(grads, [p.sign() for p in with_grad], alpha=self.l1)
            if self.l2:
                torch._foreach_add_(grads, with_grad, alpha=2.0 * self.l2)
            if self.decoupled_decay:
                torch._foreach_mul_(with_grad, 1.0 - lr * self.decoupled_decay)
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(with_grad, self.grad_clip)
