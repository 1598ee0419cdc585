"""Trials that raise, diverge, run out of memory or out of time end with their own status."""

from __future__ import annotations

import pytest

from automl_nn import search
from automl_nn.errors import SearchError
from tests.api.conftest import parent_and_children
from tests.plugins import forget_plugin

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ray_session")]

PLUGIN = "tests.api.faulty_families"


@pytest.fixture(autouse=True, scope="module")
def forget_the_faulty_family():
    """The plugin registers 'faulty' in this process too; later tests must not see it."""
    yield
    forget_plugin(PLUGIN, "faulty")


# One trial per fault and one healthy trial; a failed trial costs a new trial process. The
# slow fault has a search of its own (below): a trial_timeout_s short enough for it would
# also time out the healthy trial on a loaded machine.
FAULTY_SPACE = {
    "model": {
        "choice": [
            {"family": "faulty", "behaviour": {"grid": ["raise", "out_of_memory", "diverge"]}},
            {"family": "mlp", "depth": 1, "width": 8},
        ]
    },
    "optimizer": {"name": "sgd", "lr": 0.01},
    "training": {"batch_size": 4},
}


def test_each_fault_has_its_status_and_reason_and_the_search_goes_on(store) -> None:
    result = search(
        "wine", FAULTY_SPACE, searcher="grid", scheduler="fifo", num_trials=4, max_epochs=2,
        max_failures=0, plugins=[PLUGIN], cv_folds=None, **store,
    )  # fmt: skip
    behaviour = result.leaderboard.set_index("trial_id")["config.model.behaviour"]
    statuses = dict(zip(result.leaderboard.trial_id, result.leaderboard.status, strict=True))
    reasons = dict(zip(result.leaderboard.trial_id, result.leaderboard.reason, strict=True))
    for trial_id, status in statuses.items():
        kind = behaviour.get(trial_id)
        if kind == "raise":
            assert status == "failed" and "broken on purpose" in reasons[trial_id]
        elif kind == "out_of_memory":
            assert status == "failed" and "MemoryError" in reasons[trial_id]
        elif kind == "diverge":
            assert status == "diverged" and reasons[trial_id] == "the loss became NaN or infinite"
        else:
            assert status == "completed"
    assert sorted(behaviour.fillna("mlp")) == sorted(["raise", "out_of_memory", "diverge", "mlp"])
    assert result.best_config["model"]["family"] == "mlp"
    _, children = parent_and_children(store["tracking_uri"], store["experiment"])
    assert len(children) == len(result.leaderboard)
    tags = {c.data.tags["automl_nn.trial_id"]: c.data.tags for c in children}
    for trial_id, status in statuses.items():
        assert tags[trial_id]["automl_nn.status"] == status


def test_a_trial_past_trial_timeout_s_ends_timed_out_within_its_first_epoch(store) -> None:
    from mlflow.tracking import MlflowClient

    # 27 batches of 4 wine rows an epoch, each at least 0.2 s: the trial passes 1 s long
    # before its first epoch would end, however fast or loaded the machine; without the limit
    # it would complete both epochs. A timed-out trial counts as failed, and it is the only one.
    space = {"model": {"family": "faulty", "behaviour": "slow"}, "training": {"batch_size": 4}}
    limit = r"every trial .* failed: 1 of 1 trials ran past trial_timeout_s \(1.0 s: raise it"
    with pytest.raises(SearchError, match=limit):
        search("wine", space, searcher="random", scheduler="fifo", num_trials=1, max_epochs=2,
               trial_timeout_s=1.0, plugins=[PLUGIN], cv_folds=None, **store)  # fmt: skip
    _, [child] = parent_and_children(store["tracking_uri"], store["experiment"])
    assert child.data.tags["automl_nn.status"] == "timed_out"
    assert child.data.tags["automl_nn.reason"] == "the trial ran past trial_timeout_s"
    history = MlflowClient(store["tracking_uri"]).get_metric_history(
        child.info.run_id, "val_accuracy"
    )
    assert [point.step for point in history] == [1]  # the epoch cut short, validated


def test_a_search_whose_every_trial_fails_raises_and_marks_the_parent_failed(store) -> None:
    from mlflow.tracking import MlflowClient

    space = {"model": {"family": "faulty", "behaviour": "raise"}, "training": {"batch_size": 16}}
    with pytest.raises(SearchError, match="every trial .* failed: 2 of 2 trials raised an error;"):
        search("wine", space, searcher="random", scheduler="fifo", num_trials=2, max_epochs=1,
               max_failures=0, plugins=[PLUGIN], **store)  # fmt: skip
    parents, children = parent_and_children(store["tracking_uri"], store["experiment"])
    assert len(parents) == 1 and len(children) == 2
    parent = MlflowClient(store["tracking_uri"]).get_run(parents[0].info.run_id)
    assert parent.info.status == "FAILED"


def test_a_search_whose_every_trial_diverges_warns_so_and_tags_the_parent(store) -> None:
    from mlflow.tracking import MlflowClient

    space = {"model": {"family": "faulty", "behaviour": "diverge"}, "training": {"batch_size": 16}}
    with pytest.warns(UserWarning, match=r"no trial ended with a finite val_accuracy: 2 of 2"):
        result = search("wine", space, searcher="random", scheduler="fifo", num_trials=2,
                        max_epochs=1, plugins=[PLUGIN], cv_folds=None, **store)  # fmt: skip
    assert result.best_trial_id is None
    assert set(result.leaderboard.status) == {"diverged"}
    assert set(result.leaderboard.reason) == {"the loss became NaN or infinite"}
    parents, _ = parent_and_children(store["tracking_uri"], store["experiment"])
    parent = MlflowClient(store["tracking_uri"]).get_run(parents[0].info.run_id)
    assert parent.data.tags["automl_nn.outcome"] == "no trial has a finite metric"
