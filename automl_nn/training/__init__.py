"""Training of one config on one TaskData: optimizers, schedules, losses, regularizers, metrics.

This room knows nothing of Ray or MLflow: ``fit`` is a plain function, tested alone.
"""

from __future__ import annotations

from automl_nn.training._config import check_config
from automl_nn.training._cross_validate import (
    CrossValidatedRun,
    CrossValidationResult,
    FoldIndices,
    cross_validate,
    fold_indices,
    fold_splits,
    folds_of,
)
from automl_nn.training._ensemble import (
    ConfigEnsemble,
    SeedEnsemble,
    config_ensemble_result,
    ensemble_size,
    fit_seed_ensemble,
    mean_prediction,
)
from automl_nn.training._fit import (
    FitResult,
    TrainingRun,
    evaluate,
    fit,
    model_device,
    model_for,
    on_cpu,
    outputs_metrics,
    predict,
    resolve_device,
)
from automl_nn.training._losses import build_loss, num_outputs_for
from automl_nn.training._metrics import log_loss
from automl_nn.training._optimizers import GradientRules, build_optimizer
from automl_nn.training._schedules import LearningRateSchedule, replayed_plateau

__all__ = [
    "ConfigEnsemble",
    "CrossValidatedRun",
    "CrossValidationResult",
    "FoldIndices",
    "FitResult",
    "GradientRules",
    "LearningRateSchedule",
    "SeedEnsemble",
    "TrainingRun",
    "build_loss",
    "build_optimizer",
    "check_config",
    "config_ensemble_result",
    "cross_validate",
    "ensemble_size",
    "evaluate",
    "fit",
    "fit_seed_ensemble",
    "fold_indices",
    "fold_splits",
    "folds_of",
    "log_loss",
    "mean_prediction",
    "model_device",
    "model_for",
    "num_outputs_for",
    "on_cpu",
    "outputs_metrics",
    "predict",
    "replayed_plateau",
    "resolve_device",
]
