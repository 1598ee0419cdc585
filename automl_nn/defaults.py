"""The defaults of a search, in one torch-free place (the API and the CLI both read them).

Every default is the one that finds the best model for a user who changes nothing: TPE
learns from finished trials where random search does not, and ASHA spends the epochs on the
trials that look best early (revisit with the benchmarks' evidence).
"""

from __future__ import annotations

DEFAULT_SEARCHER = "optuna"
DEFAULT_SCHEDULER = "asha"
DEFAULT_NUM_TRIALS = 20
DEFAULT_MAX_EPOCHS = 20
DEFAULT_SPACE = "default"
DEFAULT_EXPERIMENT = "automl_nn"
DEFAULT_MAX_FAILURES = 2
