"""Where automl_nn keeps what it made once and can make again (generated data sets)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_VARIABLE = "AUTOML_NN_CACHE_DIR"


def cache_dir() -> Path:
    """``$AUTOML_NN_CACHE_DIR``, else ``$XDG_CACHE_HOME/automl_nn``, else ``~/.cache/automl_nn``."""
    chosen = os.environ.get(CACHE_DIR_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "automl_nn"
