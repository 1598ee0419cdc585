"""Same data, space, searcher and seed with one trial at a time: the same search again."""

from __future__ import annotations

import pytest

from automl_nn import search
from tests.api.conftest import TINY_SPACE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ray_session")]


def trials_in_order(result) -> list[tuple]:
    board = result.leaderboard.sort_values("trial_number")
    # A parameter a trial does not have is NaN in the table; NaN != NaN, so leave it out.
    configs = [
        {key: value for key, value in row.items() if value == value}
        for row in board.filter(like="config.").to_dict("records")
    ]
    return list(zip(configs, board.val_loss.round(10), board.val_accuracy, strict=True))


# Every searcher repeats its suggestions from a seed (the searcher contract); end to end, the
# default searcher runs in the default suite and random in the slow tier (three searches each).
@pytest.mark.parametrize("searcher", [pytest.param("random", marks=pytest.mark.slow), "optuna"])
def test_same_seed_and_one_trial_at_a_time_repeat_the_search(
    searcher: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where MLflow's defaults would write, were tracking on
    storage = tmp_path / "runs"

    def run(seed: int):
        return search(
            "wine", TINY_SPACE, searcher=searcher, scheduler="fifo", num_trials=3, max_epochs=2,
            seed=seed, max_concurrent=1, storage_path=str(storage), tracking=False, verbose=False,
        )  # fmt: skip

    first, second = run(5), run(5)
    assert trials_in_order(first) == trials_in_order(second)
    assert trials_in_order(run(6)) != trials_in_order(first)
    # tracking=False: no MLflow run, and nothing written beside the search's own folder.
    assert first.mlflow_parent_run_id is None
    assert [path.name for path in tmp_path.iterdir()] == ["runs"]
