"""The default metric is one every trial measures alike; val_loss across losses is flagged."""

from __future__ import annotations

import warnings

import pytest

from automl_nn import search
from tests.api.conftest import TINY_SPACE, plan_for

# Two losses of very different scales on the same predictions: Huber with a small delta
# reads about delta * |error|, a fraction of the squared error.
MSE_OR_SMALL_HUBER = {
    **TINY_SPACE,
    "loss": {"choice": [{"name": "mse"}, {"name": "huber", "delta": 0.1}]},
}


@pytest.mark.parametrize(
    ("data", "expected"),
    [("diabetes", ("val_mse", "min")), ("wine", ("val_accuracy", "max"))],
)
def test_the_default_metric_is_measured_alike_in_every_trial(store, data, expected) -> None:
    plan = plan_for(store, data=data)
    assert (plan.metric, plan.mode) == expected


def test_val_loss_over_a_searched_loss_warns_and_names_the_parameters(store) -> None:
    with pytest.warns(UserWarning, match=r"val_loss.*loss\[huber\]|val_loss.*loss, "):
        plan = plan_for(store, data="diabetes", space=MSE_OR_SMALL_HUBER, metric="val_loss")
    assert plan.metric == "val_loss"  # a warning, not a refusal: the user may mean it


@pytest.mark.parametrize(
    ("data", "space", "metric"),
    [
        ("diabetes", TINY_SPACE, "val_loss"),  # one loss: val_loss compares alike
        ("diabetes", MSE_OR_SMALL_HUBER, None),  # the default metric
        ("diabetes", MSE_OR_SMALL_HUBER, "val_mae"),
    ],
)
def test_no_warning_when_every_trial_is_measured_alike(store, data, space, metric) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan_for(store, data=data, space=space, metric=metric)


@pytest.mark.usefixtures("ray_session")
def test_a_regression_search_ranks_trials_by_val_mse_whatever_their_loss(store) -> None:
    one_config_per_loss = {
        "model": {"family": "mlp", "depth": 1, "width": 16},
        "optimizer": {"name": "adam", "lr": 0.01},
        "training": {"batch_size": 32},
        "loss": MSE_OR_SMALL_HUBER["loss"],
    }
    result = search(
        "diabetes", one_config_per_loss, searcher="grid", scheduler="fifo", num_trials=2,
        max_epochs=2, **store,
    )  # fmt: skip
    board = result.leaderboard
    assert (result.metric, result.mode) == ("val_mse", "min")
    assert set(board["config.loss.name"]) == {"mse", "huber"}
    assert board.val_mse.is_monotonic_increasing
    # The two rankings disagree here, so the order above is val_mse's and not val_loss's.
    assert not board.val_loss.is_monotonic_increasing
