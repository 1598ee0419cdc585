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
# "auto": trials cross-validate (5 folds of train+val) when the validation split is too small
# to rank them (below 250 samples a single error moves accuracy by 0.4 % or more, so many
# trials tie and the winner is the luckiest), and validate on the holdout split otherwise.
DEFAULT_CV_FOLDS = "auto"
AUTO_CV_FOLDS = 5
AUTO_CV_BELOW_VAL_SAMPLES = 250
# "auto": the final model of a search on small data (trials that cross-validated, or fewer
# than 2000 samples in train+val) is the mean of 5 models retrained from 5 seeds (each model
# trains in seconds on data that small, and one model's test score moves with its seed), and
# one model otherwise (benchmarks/results/final_seeds.md; digits, 1437 samples, validates on
# its validation split: final_configs_searches_digits.md). Not measured above that size.
DEFAULT_RETRAIN_SEEDS = "auto"
AUTO_RETRAIN_SEEDS = 5
AUTO_RETRAIN_SEEDS_BELOW_SAMPLES = 2000
# The final model is the best trial's config alone: on real searches of small data, the top
# 5 configs averaged (one model each) tested worse than the winner from 5 seeds, at the same
# cost (benchmarks/results/final_configs_searches.md).
DEFAULT_RETRAIN_TOP_K = 1
