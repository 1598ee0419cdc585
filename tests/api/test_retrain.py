"""retrain_best repeats what the search validated: the best trial's epochs, its schedule, no stop.

The results are built by hand (no search runs): the subject is how the winner is retrained,
not how it was found.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from automl_nn import SearchResult, TaskData, evaluate, fit, from_arrays, load_dataset
from automl_nn.errors import ConfigError, SearchError
from automl_nn.results import retrain_config
from automl_nn.trainable import trial_config
from automl_nn.training import ConfigEnsemble, SeedEnsemble, ensemble_size, predict

MAX_EPOCHS = 6
# A cosine schedule over the search's epochs, and early stopping that would stop at once.
BEST_CONFIG = {
    "model": {"family": "mlp", "depth": 1, "width": 16},
    "optimizer": {"name": "adam", "lr": 0.05},
    "schedule": {"name": "cosine"},
    "regularization": {"early_stopping": 1},
    "training": {"batch_size": 32},
}
# The second trial's config: another loss (hinge), another optimizer, no schedule.
OTHER_CONFIG = {
    "model": {"family": "mlp", "depth": 1, "width": 8},
    "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
    "loss": {"name": "hinge"},
    "training": {"batch_size": 16},
}
# A rate this high without clipping makes the loss NaN or infinite from any seed, at once.
DIVERGING_CONFIG = {
    "model": {"family": "mlp", "depth": 1, "width": 16},
    "optimizer": {"name": "sgd", "lr": 1e12},
    "training": {"batch_size": 32},
}
COMPARED = ("epoch", "train_loss", "val_loss", "lr")


def searched(best_trial_epochs: int | None, tmp_path: Path) -> SearchResult:
    """A finished search of two trials whose winner trained ``best_trial_epochs`` epochs."""
    board = pd.DataFrame(
        {
            "trial_id": ["best", "other"],
            "status": ["completed", "completed"],
            "val_accuracy": [0.95, 0.90],
        }
    )
    if best_trial_epochs is not None:
        board["epochs"] = [best_trial_epochs, MAX_EPOCHS]
    return SearchResult(
        trial_configs={"best": BEST_CONFIG, "other": OTHER_CONFIG},
        best_config=BEST_CONFIG,
        best_metric=0.95,
        best_trial_id="best",
        metric="val_accuracy",
        mode="max",
        leaderboard=board,
        mlflow_parent_run_id=None,
        experiment_path=str(tmp_path),
        data=load_dataset("wine"),
        max_epochs=MAX_EPOCHS,
        seed=3,
    )


def compared(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{key: row[key] for key in COMPARED} for row in history]


def trained_on_train_and_val(epochs: int, result: SearchResult) -> list[dict[str, float]]:
    """The first epochs of the best config trained for ``epochs`` without early stopping."""
    config = trial_config(BEST_CONFIG, epochs)
    config["regularization"] = {"early_stopping": None}
    return compared(fit(config, result.data.merged_train_val(), seed=result.seed).history)


def test_a_winner_that_stopped_early_is_retrained_for_its_epochs_on_its_schedule(
    tmp_path,
) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    assert result.best_epochs == 3
    final = result.retrain_best()
    assert len(final.history) == 3 and final.status == "stopped"
    # The same first 3 epochs as a 6-epoch run: the cosine schedule spans max_epochs.
    assert compared(final.history) == trained_on_train_and_val(MAX_EPOCHS, result)[:3]
    assert 0 <= final.test_metrics["test_accuracy"] <= 1


def test_retraining_never_early_stops_on_the_validation_split_it_trains_on(tmp_path) -> None:
    result = searched(best_trial_epochs=MAX_EPOCHS, tmp_path=tmp_path)
    final = result.retrain_best()
    assert final.config["regularization"]["early_stopping"] is None
    assert len(final.history) == MAX_EPOCHS and final.status == "completed"
    assert compared(final.history) == trained_on_train_and_val(MAX_EPOCHS, result)


def test_epochs_given_train_that_many_on_a_schedule_laid_over_them(tmp_path) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    final = result.retrain_best(epochs=4)
    assert len(final.history) == 4 and final.status == "completed"
    assert compared(final.history) == trained_on_train_and_val(4, result)


@pytest.mark.parametrize("epochs", [None, 0, MAX_EPOCHS + 1])
def test_without_a_usable_epoch_count_the_winner_trains_max_epochs(tmp_path, epochs) -> None:
    assert searched(best_trial_epochs=epochs, tmp_path=tmp_path).best_epochs == MAX_EPOCHS


@pytest.mark.parametrize("epochs", [0, -2, 2.5, "3"])
def test_a_bad_epoch_count_is_refused_by_name(tmp_path, epochs) -> None:
    with pytest.raises(ConfigError) as caught:
        searched(best_trial_epochs=3, tmp_path=tmp_path).retrain_best(epochs=epochs)
    assert caught.value.field == "epochs" and caught.value.value == epochs


def test_seeds_train_that_many_models_from_the_search_seed_on(tmp_path) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    final = result.retrain_best(seeds=3)
    assert isinstance(final.model, SeedEnsemble) and len(final.members) == 3
    for member, seed in zip(final.members, (3, 4, 5), strict=True):  # the search's seed: 3
        alone = retrain_config(
            BEST_CONFIG, result.data, epochs=3, schedule_epochs=MAX_EPOCHS, seed=seed
        )
        assert compared(member.history) == compared(alone.history)
    assert compared(final.members[0].history) != compared(final.members[1].history)
    tested = evaluate(final.model, result.data, "test")["accuracy"]
    assert final.test_metrics["test_accuracy"] == pytest.approx(tested)


PLATEAU_CONFIG = {
    **BEST_CONFIG,
    "schedule": {"name": "plateau", "factor": 0.5, "patience": 0, "threshold": 0.5},
}


def test_a_plateau_winner_lowers_its_rate_where_its_trial_did(tmp_path) -> None:
    """Not where train+val's validation split, which it trains on, stalls."""
    result = searched(best_trial_epochs=4, tmp_path=tmp_path)
    result.trial_configs["best"] = result.best_config = PLATEAU_CONFIG
    # A cross-validated trial records its folds' mean rate: not always a power of the factor.
    trial_rates = [0.05, 0.05, 0.03, 0.0125]
    result.histories["best"] = pd.DataFrame({"epoch": [1, 2, 3, 4], "lr": trial_rates})
    final = result.retrain_best(seeds=1)
    assert [row["lr"] for row in final.history] == pytest.approx(trial_rates)
    assert final.config["schedule"]["replayed_scales"] == pytest.approx([1.0, 1.0, 0.6, 0.25])
    # The final config trains the final model again, with no trial at hand.
    again = fit(
        final.config,
        result.data.merged_train_val(),
        seed=result.seed,
        on_epoch=lambda epoch, _metrics: epoch >= 4,
    )
    assert compared(again.history) == compared(final.history)


def test_a_plateau_winner_without_recorded_rates_watches_its_loss_as_before(tmp_path) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    result.trial_configs["best"] = result.best_config = PLATEAU_CONFIG
    for recorded in ({}, {"best": pd.DataFrame({"epoch": [1, 2, 3]})}):
        result.histories = recorded
        final = result.retrain_best(seeds=1)
        assert "replayed_scales" not in final.config["schedule"]


def rows(count: int) -> TaskData:
    """``count`` rows of 4 features whose class is the sign of the first."""
    x = np.random.default_rng(0).normal(size=(count, 4)).astype(np.float32)
    return from_arrays(x, (x[:, 0] > 0).astype(np.int64))


@pytest.mark.parametrize(
    ("cv_folds", "count", "models"),
    [(5, 3000, 5), (2, 3000, 5), (None, 1000, 5), (None, 3000, 1)],
)
def test_auto_seeds_average_five_models_on_small_data(tmp_path, cv_folds, count, models) -> None:
    """Small: the trials cross-validated, or train+val holds fewer than 2000 samples."""
    result = searched(best_trial_epochs=2, tmp_path=tmp_path)
    result.cv_folds, result.data = cv_folds, rows(count)
    small = len(result.data.y_train) + len(result.data.y_val) < 2000
    assert small == (count == 1000)
    final = result.retrain_best()
    assert len(final.members) == (models if models > 1 else 0)
    assert isinstance(final.model, SeedEnsemble) == (models > 1)


BAD_COUNTS = [
    *(("seeds", value, "or 'auto'") for value in (0, -1, 2.5, "3", True, "many")),
    *(("top_k", value, "integer >= 1") for value in (0, -1, 2.5, "3", True, "auto")),
]


@pytest.mark.parametrize(("field", "value", "valid"), BAD_COUNTS)
def test_a_bad_seed_or_config_count_is_refused_by_name_before_training(
    tmp_path, field, value, valid
) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    with pytest.raises(ConfigError) as caught:
        result.retrain_best(**{field: value})
    assert caught.value.field == field and caught.value.value == value
    assert valid in str(caught.value)
    assert result.final is None


def test_top_k_averages_the_top_trials_configs_each_trained_for_its_own_epochs(tmp_path) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    final = result.retrain_best(top_k=2, seeds=1)
    assert isinstance(final.model, ConfigEnsemble) and ensemble_size(final) == (2, 1)
    assert result.final_trial_ids == ["best", "other"]
    for member, config, epochs in zip(
        final.members, (BEST_CONFIG, OTHER_CONFIG), (3, MAX_EPOCHS), strict=True
    ):
        alone = retrain_config(
            config, result.data, epochs=epochs, schedule_epochs=MAX_EPOCHS, seed=result.seed
        )
        assert compared(member.history) == compared(alone.history)
    assert final.config == final.members[0].config  # the best config's
    tested = evaluate(final.model, result.data, "test")
    assert final.test_metrics["test_accuracy"] == pytest.approx(tested["accuracy"])
    # The members trained with different losses: test_loss is the ensemble's cross-entropy.
    assert final.test_metrics["test_loss"] == pytest.approx(tested["log_loss"], abs=1e-5)


def test_top_k_with_seeds_trains_each_config_from_each_seed(tmp_path) -> None:
    final = searched(best_trial_epochs=2, tmp_path=tmp_path).retrain_best(top_k=2, seeds=2)
    assert ensemble_size(final) == (2, 2)
    assert all(isinstance(member.model, SeedEnsemble) for member in final.members)


def test_top_k_takes_only_the_trials_that_succeeded(tmp_path) -> None:
    result = searched(best_trial_epochs=2, tmp_path=tmp_path)
    assert result.retrain_best(top_k=5, seeds=1).members[1].config["loss"]["name"] == "hinge"
    result.leaderboard.loc[result.leaderboard.trial_id == "other", "status"] = "failed"
    assert result.top_trial_ids(5) == ["best"]
    final = result.retrain_best(top_k=5, seeds=1)
    assert ensemble_size(final) == (1, 1) and not isinstance(final.model, ConfigEnsemble)


def test_by_default_the_best_config_alone_is_retrained(tmp_path) -> None:
    result = searched(best_trial_epochs=2, tmp_path=tmp_path)
    result.cv_folds = 5
    final = result.retrain_best(seeds=1)
    assert ensemble_size(final) == (1, 1) and not isinstance(final.model, ConfigEnsemble)
    assert final.config["model"]["width"] == BEST_CONFIG["model"]["width"]


def test_a_top_trial_without_a_config_is_a_search_error(tmp_path) -> None:
    result = searched(best_trial_epochs=3, tmp_path=tmp_path)
    result.trial_configs = {}
    with pytest.raises(SearchError, match="'other'"):
        result.retrain_best(top_k=2)
    assert result.final is None


def test_an_ensemble_of_configs_exports_without_warnings_and_loads_back(tmp_path) -> None:
    result = searched(best_trial_epochs=2, tmp_path=tmp_path)
    final = result.retrain_best(top_k=2, seeds=2)
    with warnings.catch_warnings():
        # A ConfigEnsemble's branches on its members' widths do not make the trace warn.
        warnings.simplefilter("error", torch.jit.TracerWarning)
        folder = result.export(tmp_path / "export")
    loaded = torch.jit.load(str(folder / "model.pt"))
    x = result.data.x_test
    assert torch.allclose(loaded(x), predict(final.model, x), atol=1e-6)
    summary = json.loads((folder / "config.json").read_text())
    assert summary["seeds"] == 2
    assert [config["loss"]["name"] for config in summary["configs"]] == ["cross_entropy", "hinge"]


def test_a_winner_whose_every_retrained_model_diverges_gives_way_to_the_next_trial(
    tmp_path,
) -> None:
    result = searched(best_trial_epochs=2, tmp_path=tmp_path)
    result.best_config = result.trial_configs["best"] = DIVERGING_CONFIG
    with pytest.warns(
        UserWarning, match=r"trial\(s\) best .*diverged.* from trial\(s\) other"
    ) as caught:
        final = result.retrain_best(seeds=2)
    # The warning points at the caller's line, not at automl_nn's.
    assert [w.filename for w in caught if "diverged" in str(w.message)] == [__file__]
    assert final.config["loss"]["name"] == "hinge" and result.final_trial_ids == ["other"]
    assert final.status == "completed" and np.isfinite(final.test_metrics["test_loss"])


def test_when_every_top_config_diverges_on_retraining_there_is_no_final_model(tmp_path) -> None:
    result = searched(best_trial_epochs=2, tmp_path=tmp_path)
    result.trial_configs = {"best": DIVERGING_CONFIG, "other": DIVERGING_CONFIG}
    result.best_config = DIVERGING_CONFIG
    with pytest.raises(SearchError, match=r"best, other .*diverged.*grad_clip"):
        result.retrain_best(seeds=1)
    assert result.final is None
