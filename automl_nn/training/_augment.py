"""Data augmentation of training batches, fitted to the input kind.

Sequences (C, L): random circular shift, amplitude scaling, gaussian noise. Images (C, H, W):
random rotation and scaling (one affine warp per sample) and horizontal flip. Any input:
gaussian noise, or mixup (Zhang et al., 2018), which mixes pairs of samples and their losses.
Augmentation runs on training batches only; validation and test data are never changed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


class MixedBatch:
    """A mixup batch: inputs mixed with ratio ``lam``; the loss mixes both target sets."""

    def __init__(self, y_a: torch.Tensor, y_b: torch.Tensor, lam: float) -> None:
        self.y_a, self.y_b, self.lam = y_a, y_b, lam

    def loss(self, loss_fn: Any, outputs: torch.Tensor) -> torch.Tensor:
        return self.lam * loss_fn(outputs, self.y_a) + (1 - self.lam) * loss_fn(outputs, self.y_b)


def augment(
    x: torch.Tensor, y: torch.Tensor, augmentation: dict[str, Any], generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | MixedBatch]:
    """Return an augmented copy of a training batch (``x`` itself when augmentation is none).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.zeros(4, 1, 10)
        >>> xa, _ = augment(x, torch.zeros(4), {"name": "noise", "std": 0.1}, g)
        >>> bool((xa != x).any()), bool((x == 0).all())
        (True, True)
    """
    name = augmentation["name"]
    if name == "none":
        return x, y
    if name == "noise":
        return x + augmentation["std"] * _randn_like(x, generator), y
    if name == "sequence":
        return _augment_sequence(x, augmentation, generator), y
    if name == "image":
        return _augment_image(x, augmentation, generator), y
    if name == "mixup":
        return _mixup(x, y, augmentation["alpha"], generator)
    raise AssertionError(f"unchecked augmentation {name!r}")  # check_config rejects it first


def _randn_like(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype)


def _uniform(count: int, spread: float, generator: torch.Generator) -> torch.Tensor:
    """``count`` values uniform in [-spread, spread]."""
    return (torch.rand(count, generator=generator) * 2 - 1) * spread


def _augment_sequence(
    x: torch.Tensor, settings: dict[str, Any], generator: torch.Generator
) -> torch.Tensor:
    batch, _, length = x.shape
    max_shift = int(round(settings["shift"] * length))
    if max_shift:
        shifts = torch.randint(-max_shift, max_shift + 1, (batch,), generator=generator)
        positions = (torch.arange(length)[None, :] - shifts[:, None]) % length
        x = x.gather(2, positions[:, None, :].expand_as(x))
    scale = 1.0 + _uniform(batch, settings["scale"], generator)
    noise = settings["noise"] * _randn_like(x, generator)
    return x * scale[:, None, None] + noise


def _augment_image(
    x: torch.Tensor, settings: dict[str, Any], generator: torch.Generator
) -> torch.Tensor:
    batch = x.shape[0]
    angles = _uniform(batch, math.radians(settings["rotation"]), generator)
    scales = 1.0 + _uniform(batch, settings["scaling"], generator)
    cos, sin = torch.cos(angles) / scales, torch.sin(angles) / scales
    zeros = torch.zeros(batch)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    if settings["flip"]:
        flip = torch.rand(batch, generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x


def _mixup(
    x: torch.Tensor, y: torch.Tensor, alpha: float, generator: torch.Generator
) -> tuple[torch.Tensor, MixedBatch]:
    if alpha <= 0:
        return x, MixedBatch(y, y, 1.0)
    # Beta(alpha, alpha) from two Gamma draws, so the torch generator keeps it reproducible.
    gammas = torch._standard_gamma(torch.full((2,), float(alpha)), generator=generator)
    lam = float(gammas[0] / gammas.sum())
    order = torch.randperm(x.shape[0], generator=generator)
    return lam * x + (1 - lam) * x[order], MixedBatch(y, y[order], lam)
