"""A model family whose trials wait for a flag file, imported by trials through search(plugins=...).

A test holds a search's trials before their first epoch until it has done what must come
first (the outage test takes the MLflow server down), then lets them go with
:func:`release`. The flag is a file in the temporary folder, which a local Ray's trial
processes share with the test; ``hold`` (any integer >= 1) names it, so searches do not let
each other go.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from automl_nn.models import register_model_family
from automl_nn.models._rules import positive_int

FAMILY = "held_mlp"
# A trial that is never let go fails after this long instead of holding the search forever.
HOLD_WAIT_S = 180.0


def hold_flag(hold: int) -> Path:
    """The file whose existence lets the trials of searches with ``hold`` go."""
    return Path(tempfile.gettempdir()) / f"automl_nn-test-hold-{hold}"


def release(hold: int) -> None:
    """Let every trial waiting on ``hold`` go (and those that come later)."""
    hold_flag(hold).touch()


def wait_for_release(hold: int) -> None:
    flag, deadline = hold_flag(hold), time.monotonic() + HOLD_WAIT_S
    while not flag.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"held trial: nobody let it go ({flag}) in {HOLD_WAIT_S:g} s")
        time.sleep(0.05)


@register_model_family(
    FAMILY,
    defaults={"hold": 1, "width": 8},
    input_ranks=(1,),
    rules={"hold": positive_int, "width": positive_int},
)
def build_held_mlp(config, input_shape, num_outputs, dropout, batch_norm) -> torch.nn.Module:
    wait_for_release(config["hold"])
    width = config["width"]
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(int(input_shape[0]), width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, num_outputs),
    )
