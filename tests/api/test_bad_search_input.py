"""Bad search input fails before Ray starts, names the field, and writes nothing to MLflow."""

from __future__ import annotations

import pytest

from automl_nn import from_arrays, search
from automl_nn.errors import AutomlNNError, ConfigError, SpaceError, TrackingError
from tests.api.conftest import TINY_SPACE, runs_of

CNN_ONLY = {"model": {"family": "cnn"}}
BCE_SPACE = {"loss": {"name": "bce"}}

BAD_INPUTS = [
    ("wine", TINY_SPACE, {"searcher": "hillclimb"}, ConfigError, "searcher"),
    ("wine", TINY_SPACE, {"scheduler": "sometimes"}, ConfigError, "scheduler"),
    ("wine", CNN_ONLY, {}, SpaceError, "model.family"),
    ("digits", BCE_SPACE, {}, SpaceError, "loss.name"),
    ("wine", TINY_SPACE, {"metric": "val_r2"}, ConfigError, "metric"),
    ("wine", TINY_SPACE, {"mode": "up"}, ConfigError, "mode"),
    ("wine", TINY_SPACE, {"num_trials": 0}, ConfigError, "num_trials"),
    ("wine", TINY_SPACE, {"num_trials": -3}, ConfigError, "num_trials"),
    ("wine", TINY_SPACE, {"max_epochs": 0}, ConfigError, "max_epochs"),
    ("wine", TINY_SPACE, {"time_budget_s": 0}, ConfigError, "time_budget_s"),
    ("wine", TINY_SPACE, {"time_budget_s": -5}, ConfigError, "time_budget_s"),
    ("wine", TINY_SPACE, {"max_concurrent": 0}, ConfigError, "max_concurrent"),
    ("wine", TINY_SPACE, {"resources_per_trial": {"cpu": 0}}, ConfigError, "resources_per_trial.cpu"),
    ("wine", TINY_SPACE, {"resources_per_trial": {"tpu": 1}}, ConfigError, "resources_per_trial.tpu"),
    ("wine", TINY_SPACE, {"scheduler": "pbt", "searcher": "optuna"}, ConfigError, "scheduler"),
    ("wine", TINY_SPACE, {"searcher": "nevergrad", "searcher_options": {"optimizer": "NoSuchOpt"}}, ConfigError, "searcher_options.optimizer"),
    ("wine", TINY_SPACE, {"searcher_options": {"sampler": "magic"}}, ConfigError, "searcher_options.sampler"),
    ("wine", "no_such_space", {}, SpaceError, None),
    ("mnist2d", TINY_SPACE, {}, AutomlNNError, "dataset"),
    ("wine", TINY_SPACE, {"experiment": " "}, ConfigError, "experiment"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "space", "settings", "error", "field"), BAD_INPUTS)
def test_bad_input_is_refused_before_ray_starts(store, data, space, settings, error, field) -> None:
    import ray

    was_running = ray.is_initialized()
    with pytest.raises(error) as caught:
        search(data, space, **{**store, **settings})
    if field is not None:
        assert caught.value.field == field and field in str(caught.value)
    assert ray.is_initialized() == was_running
    assert runs_of(store["tracking_uri"]) == []


def test_unreachable_tracking_server_is_refused(store) -> None:
    with pytest.raises(TrackingError, match="tracking_uri"):
        search("wine", TINY_SPACE, **{**store, "tracking_uri": "http://127.0.0.1:9"})


def test_unwritable_storage_path_is_refused(store, tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="storage_path"):
        search("wine", TINY_SPACE, **{**store, "storage_path": str(blocker / "runs")})
    assert runs_of(store["tracking_uri"]) == []


def test_a_2d_only_space_on_sequences_names_the_data(store) -> None:
    import numpy as np

    data = from_arrays(np.zeros((40, 5), dtype=np.float32), np.arange(40) % 2, name="flat")
    with pytest.raises(SpaceError, match="flat"):
        search(data, CNN_ONLY, **store)
