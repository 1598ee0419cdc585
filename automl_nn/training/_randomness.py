"""A training run's own torch random streams, kept apart from the caller's global RNG."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch


class RunRandomness:
    """The torch RNG state one run draws from: weight initialization and dropout masks.

    torch's layers draw from the process-wide RNG (the CPU's, and each GPU's for dropout on
    it). A run keeps its own copy of that state, seeded once, and swaps it in only while it
    works (:meth:`active`): its numbers then do not depend on what the program does in
    between (another run made or run, the k folds of a cross-validation trained in step, the
    user's own sampling), and the caller's global RNG is left as it was. On the CPU and CUDA
    GPUs; on an Apple GPU (``mps``) dropout still draws from its global stream, seeded when
    the run is made.

    Example:
        >>> before = torch.get_rng_state()
        >>> randomness = RunRandomness(seed=0, device=torch.device("cpu"))
        >>> with randomness.active():
        ...     drawn = torch.rand(2)
        >>> torch.equal(torch.get_rng_state(), before)
        True
        >>> torch.equal(drawn, torch.rand(2, generator=torch.Generator().manual_seed(0)))
        True
    """

    def __init__(self, seed: int, device: torch.device) -> None:
        self.device = device
        # What torch.manual_seed(seed) would give, without touching the global state.
        self.cpu_state = torch.Generator().manual_seed(seed).get_state()
        self.cuda_state = (
            torch.Generator(device=device).manual_seed(seed).get_state()
            if device.type == "cuda"
            else None
        )
        if device.type == "mps":  # dropout on an Apple GPU: its global stream, seeded here
            torch.mps.manual_seed(seed)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Draw from this run's state inside the block; the global state is restored after."""
        with torch.random.fork_rng(devices=[] if self.cuda_state is None else [self.device]):
            torch.set_rng_state(self.cpu_state)
            if self.cuda_state is not None:
                torch.cuda.set_rng_state(self.cuda_state, self.device)
            try:
                yield
            finally:
                self.cpu_state = torch.get_rng_state()
                if self.cuda_state is not None:
                    self.cuda_state = torch.cuda.get_rng_state(self.device)

    def state_dict(self) -> dict[str, Any]:
        """The run's RNG states (the keys checkpoints have always had)."""
        return {
            "torch_rng": self.cpu_state,
            **({"cuda_rng": self.cuda_state} if self.cuda_state is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`; a CPU checkpoint resumed on a GPU keeps its seed."""
        self.cpu_state = state["torch_rng"]
        if self.cuda_state is not None and "cuda_rng" in state:
            self.cuda_state = state["cuda_rng"]
