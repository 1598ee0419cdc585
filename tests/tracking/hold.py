"""Holding a search's trials before their first epoch until a test lets them go.

A test holds the trials of a search whose space uses :mod:`tests.tracking.held_families`
until it has done what must come first (the outage test takes the MLflow server down), then
lets them go with :func:`release`. The flag is a file in the temporary folder, which a local
Ray's trial processes share with the test; ``hold`` (any integer >= 1) names it, so searches
do not let each other go. This module registers nothing: a test imports it without adding a
model family to every other test's registry.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

# The model family of tests.tracking.held_families, whose trials wait (named here, where
# importing it registers nothing).
HELD_FAMILY = "held_mlp"
# A trial that is never let go fails after this long instead of holding the search forever.
HOLD_WAIT_S = 180.0


def hold_flag(hold: int) -> Path:
    """The file whose existence lets the trials of searches with ``hold`` go."""
    return Path(tempfile.gettempdir()) / f"automl_nn-test-hold-{hold}"


def release(hold: int) -> None:
    """Let every trial waiting on ``hold`` go (and those that come later)."""
    hold_flag(hold).touch()


def wait_for_release(hold: int) -> None:
    """Wait (in a trial) until :func:`release` of ``hold``; raise after :data:`HOLD_WAIT_S`."""
    flag, deadline = hold_flag(hold), time.monotonic() + HOLD_WAIT_S
    while not flag.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"held trial: nobody let it go ({flag}) in {HOLD_WAIT_S:g} s")
        time.sleep(0.05)
