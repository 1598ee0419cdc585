"""The RL controller (searcher="rl"): it learns, resumes, keeps conditionals, tells its story."""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from automl_nn import search
from automl_nn.errors import ConfigError
from automl_nn.searchers import ControllerSearcher, SearcherSettings, make_searcher
from automl_nn.space import Space
from tests.searchers.conftest import (
    METRIC,
    NUM_BINS,
    PROBLEM_SPACE,
    WINE_SPACE,
    FakeTune,
    producible_configs,
    reward,
    target_sequence,
)


def controller(seed: int = 0, **options: float) -> ControllerSearcher:
    settings = SearcherSettings(
        PROBLEM_SPACE, METRIC, "max", seed, options={"num_bins": NUM_BINS, **options}
    )
    searcher = make_searcher("rl", settings)
    assert isinstance(searcher, ControllerSearcher)
    return searcher


def test_the_controller_puts_most_probability_on_the_best_sequence() -> None:
    searcher, best = controller(), target_sequence()
    tune = FakeTune(searcher)
    before = searcher.probability_of(best)
    for _ in range(75):  # at most 300 trials, 75 updates of the default batch of 4
        tune.run(4)
        if searcher.probability_of(best) > 0.9:
            break
    assert before < 0.01
    assert searcher.probability_of(best) > 0.9


def test_the_same_seed_gives_the_same_suggestions() -> None:
    first, second, other = (FakeTune(controller(seed)).run(24) for seed in (3, 3, 4))
    assert first == second
    assert first != other


def test_a_restored_controller_continues_the_same_learning(tmp_path: Path) -> None:
    uninterrupted = FakeTune(controller(seed=5))
    expected = uninterrupted.run(30)

    interrupted = FakeTune(controller(seed=5))
    configs = interrupted.run(14)  # mid-batch, with a trial still running
    interrupted.searcher.save(str(tmp_path / "controller.pt"))
    interrupted.searcher = controller(seed=99)  # everything must come from the checkpoint
    interrupted.searcher.restore(str(tmp_path / "controller.pt"))
    configs += interrupted.run(16)

    assert configs == expected
    best = target_sequence()
    assert interrupted.searcher.probability_of(best) == uninterrupted.searcher.probability_of(best)


def test_suggestions_are_configs_of_the_space_with_conditionals_kept() -> None:
    producible = producible_configs()
    for config in FakeTune(controller(seed=1)).run(60):
        assert json.dumps(config, sort_keys=True) in producible
        optimizer = config["optimizer"]
        assert ("momentum" in optimizer) == (optimizer["name"] == "sgd")
        assert optimizer["name"] == "sgd" or 1e-4 <= optimizer["lr"] <= 1e-1


def finish(searcher: ControllerSearcher, trial_id: str, **outcome: object) -> list[float]:
    """Suggest and end one trial; return the rewards it put in the story."""
    searcher.suggest(trial_id)
    searcher.on_trial_complete(trial_id, **outcome)
    return [m["controller_reward"] for m, _ in searcher.drain_story() if "controller_reward" in m]


def test_reward_rules_for_finished_stopped_failed_and_unrun_trials() -> None:
    searcher = controller(batch_size=100)
    # Failed before any reward: no scale to penalize on, so skipped.
    assert finish(searcher, "failed_first", error=True) == []
    # Finished, or stopped early by the scheduler: the last reported metric.
    assert finish(searcher, "finished", result={METRIC: 0.2, "training_iteration": 9}) == [0.2]
    assert finish(searcher, "stopped", result={METRIC: 0.6, "training_iteration": 2}) == [0.6]
    # Failed, or no finite metric: the worst reward minus half the spread (0.2 - 0.2).
    assert finish(searcher, "failed", error=True) == [pytest.approx(0.0)]
    assert finish(searcher, "diverged", result={METRIC: math.nan}) == [pytest.approx(0.0)]
    assert finish(searcher, "no_metric", result={"other": 1.0}) == [pytest.approx(0.0)]
    # Penalties do not widen the range: a second failure gets the same penalty.
    assert finish(searcher, "failed_again", error=True) == [pytest.approx(0.0)]
    # Removed before it reported anything: skipped.
    assert finish(searcher, "never_ran", result=None) == []
    # A trial the controller never suggested is ignored.
    searcher.on_trial_complete("unknown", {METRIC: 1.0})
    assert searcher.drain_story() == []


def test_mode_min_rewards_the_negated_metric() -> None:
    settings = SearcherSettings(PROBLEM_SPACE, "val_loss", "min", options={"batch_size": 100})
    searcher = make_searcher("rl", settings)
    searcher.suggest("a")
    searcher.on_trial_complete("a", {"val_loss": 0.3})
    assert searcher.drain_story() == [({"controller_reward": -0.3}, 1)]


def test_the_story_has_rewards_per_trial_and_baseline_entropy_per_update() -> None:
    searcher = controller(batch_size=2, baseline_decay=0.5)
    FakeTune(searcher, concurrency=1, score=lambda config: 0.5).run(4)
    story = searcher.drain_story()
    assert searcher.drain_story() == []
    steps = {}
    for metrics, step in story:
        for name, value in metrics.items():
            steps.setdefault(name, []).append((step, value))
    assert steps["controller_reward"] == [(1, 0.5), (2, 0.5), (3, 0.5), (4, 0.5)]
    assert steps["controller_baseline"] == [(1, 0.5), (2, 0.5)]  # the first batch's mean
    assert steps["controller_batch_reward"] == [(1, 0.5), (2, 0.5)]
    assert [step for step, _ in steps["controller_entropy"]] == [1, 2]
    assert all(value > 0 for _, value in steps["controller_entropy"])
    figure = searcher.story_figure()
    assert isinstance(figure, Figure) and len(figure.axes) == 2


@pytest.mark.parametrize("normalize", [True, False])
def test_normalized_advantages_make_the_learning_blind_to_the_metric_scale(normalize: bool) -> None:
    """Shares, accuracies near 0.99 and scores in the thousands teach the same policy."""

    def learned(score: Callable[[dict[str, Any]], float]) -> float:
        searcher = controller(seed=1, normalize_advantages=normalize)
        FakeTune(searcher, score=score).run(40)
        return searcher.probability_of(target_sequence())

    as_share = learned(reward)
    as_accuracy = learned(lambda config: 0.9 + 0.09 * reward(config))
    as_thousands = learned(lambda config: 2000.0 + 1000.0 * reward(config))

    assert as_share > 10 * controller(seed=1).probability_of(target_sequence())  # it learned
    assert (as_accuracy == pytest.approx(as_share, rel=1e-3)) is normalize
    assert (as_thousands == pytest.approx(as_share, rel=1e-3)) is normalize


@pytest.mark.parametrize("normalize", [True, False])
def test_an_astronomically_bad_finite_metric_leaves_the_policy_finite(normalize: bool) -> None:
    """A regression that nearly diverged scored val_mse 7e43 on diabetes: past float32."""
    searcher = controller(batch_size=2, normalize_advantages=normalize)
    for round_ in range(3):
        for name, value in ((f"good{round_}", 0.5), (f"bad{round_}", -7.2e43)):
            searcher.suggest(name)
            searcher.on_trial_complete(name, {METRIC: value})
    assert len(searcher.memory["updates"]) == 3
    assert all(torch.isfinite(p).all() for p in searcher.policy.parameters())
    assert searcher.suggest("next") is not None


@pytest.mark.parametrize("outlier_share", [0.1, 0.0])
def test_a_reward_far_below_the_bulk_counts_as_a_failure(outlier_share: float) -> None:
    """An outlier must not stretch the spread that every later advantage is divided by."""
    searcher = controller(batch_size=100, outlier_share=outlier_share)
    for number in range(20):  # 0.50, 0.51, ..., 0.69
        finish(searcher, f"ordinary{number}", result={METRIC: 0.5 + number / 100})
    assert finish(searcher, "poor", result={METRIC: 0.3}) == [0.3]  # poor, not an outlier
    given = finish(searcher, "outlier", result={METRIC: -7.2e43})
    failed = finish(searcher, "failed", error=True)
    if outlier_share:
        # 22 metric rewards, 2 left out at each end: the bulk is 0.50 to 0.67, and rewards
        # more than 10 of its spreads below 0.50 are outliers. The others span 0.3 to 0.69,
        # so a failure (and the outlier) scores 0.3 minus half of that.
        assert given == failed == [pytest.approx(0.3 - 0.195)]
    else:
        assert given == [-7.2e43]
        assert failed == [pytest.approx(-7.2e43 - 0.5 * (0.69 + 7.2e43))]


@pytest.mark.parametrize("outlier_share", [0.1, 0.0])
def test_the_controller_still_learns_after_an_early_outlier(outlier_share: float) -> None:
    """The third trial blows up: before the tenth reward it cannot be told from the bulk."""

    def learned(blown_up: set[int]) -> float:
        searcher = controller(seed=1, outlier_share=outlier_share)
        scored = itertools.count()

        def score(config: dict[str, Any]) -> float:
            return -7.2e43 if next(scored) in blown_up else reward(config)

        FakeTune(searcher, score=score).run(60)
        return searcher.probability_of(target_sequence())

    clean, after_outlier = learned(set()), learned({2})
    assert clean > 100 * controller(seed=1).probability_of(target_sequence())
    assert (after_outlier > clean / 2) is bool(outlier_share)


def test_a_checkpoint_that_kept_only_the_reward_range_restores(tmp_path: Path) -> None:
    """Checkpoints written before ``outlier_share`` held (worst, best), not every reward."""
    searcher = controller(batch_size=100)
    for name, value in (("a", 0.2), ("b", 0.6)):
        finish(searcher, name, result={METRIC: value})
    path = tmp_path / "controller.pt"
    searcher.save(str(path))
    saved = torch.load(path, weights_only=True)
    del saved["metric_rewards"]
    torch.save({**saved, "metric_range": (0.2, 0.6)}, path)

    restored = controller(batch_size=100)
    restored.restore(str(path))
    assert finish(restored, "failed", error=True) == [pytest.approx(0.0)]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lr", 0),
        ("lr", -0.1),
        ("lr", "fast"),
        ("lr", math.inf),
        ("batch_size", 0),
        ("batch_size", 2.5),
        ("batch_size", True),
        ("entropy_weight", -0.01),
        ("baseline_decay", 1.0),
        ("baseline_decay", -0.1),
        ("normalize_advantages", 1),
        ("normalize_advantages", "yes"),
        ("hidden_size", 0),
        ("num_bins", 1),
        ("outlier_share", 0.5),
        ("outlier_share", -0.1),
        ("outlier_share", "some"),
    ],
)
def test_bad_options_name_the_field(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as error:
        controller(**{key: value})
    assert error.value.field == f"searcher_options.{key}"
    assert error.value.value == value


@pytest.mark.parametrize(("key", "value"), [("lr", 0), ("batch_size", 0), ("num_bins", 1)])
def test_a_controller_built_directly_refuses_the_same_values(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as error:
        ControllerSearcher(PROBLEM_SPACE, METRIC, "max", **{key: value})
    assert error.value.field == f"ControllerSearcher.{key}"
    assert error.value.value == value


def test_a_fixed_space_is_refused() -> None:
    fixed = Space.from_dict({"optimizer": {"name": "adam", "lr": 0.001}})
    with pytest.raises(ConfigError) as error:
        make_searcher("rl", SearcherSettings(fixed, METRIC, "max"))
    assert error.value.field == "space"
    with pytest.raises(ConfigError) as error:
        ControllerSearcher(fixed, METRIC, "max")
    assert error.value.field == "space"


def test_bad_options_fail_before_ray_starts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"searcher_options\.batch_size"):
        search(
            "wine",
            WINE_SPACE,
            searcher="rl",
            searcher_options={"batch_size": 0},
            storage_path=tmp_path,
            tracking=False,
            verbose=False,
        )


@pytest.mark.integration
def test_a_search_logs_the_controller_story_on_the_parent_run(
    ray_session: None, shared_sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = shared_sqlite_uri
    result = search(
        "wine",
        WINE_SPACE,
        searcher="rl",
        searcher_options={"batch_size": 2},
        scheduler="fifo",
        num_trials=6,
        max_epochs=2,
        tracking_uri=uri,
        experiment=f"rl-story-{uuid.uuid4().hex[:8]}",
        storage_path=tmp_path,
        verbose=False,
    )
    assert len(result.leaderboard) == 6
    client = MlflowClient(uri)
    parent = result.mlflow_parent_run_id
    for name, steps in [
        ("controller_reward", 6),
        ("controller_baseline", 3),
        ("controller_entropy", 3),
    ]:
        points = client.get_metric_history(parent, name)
        assert sorted(p.step for p in points) == list(range(1, steps + 1)), name
    assert "controller.png" in [artifact.path for artifact in client.list_artifacts(parent)]
