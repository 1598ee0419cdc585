"""The final-seeds benchmark: which configs count, each final model's figures, the summary."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import final_seeds as bench
from benchmarks._report import RESULTS
from benchmarks.selection import EPOCHS


def scores(ranking: float, members: list[float], ensemble_3: float, ensemble_5: float) -> dict:
    diverged = not all(math.isfinite(m) for m in members)
    return {
        "ranking": ranking,
        "ranked_by": "cv",
        "members": members,
        "diverged": diverged,
        "ensemble_3": ensemble_3,
        "ensemble_5": ensemble_5,
    }


# The first config has the best ranking (CV) score and its 5-seed ensemble tests better than its seed-0
# model; the second's tests worse; the third diverged (left out, best CV score or not).
SCORES = [
    scores(0.97, [0.90, 0.92, 0.94, 0.96, 0.98], 0.95, 0.97),
    scores(0.95, [0.96, 0.90, 0.90, 0.90, 0.90], 0.93, 0.92),
    scores(0.99, [0.99, math.nan, 0.99, 0.99, 0.99], math.nan, math.nan),
]


def test_split_figures_average_the_configs_without_a_diverged_member() -> None:
    figures = bench.split_figures(SCORES, "max")
    assert figures["configs"] == 3 and figures["kept"] == 2 and figures["ranked_by"] == ["cv"]
    assert figures["one_model_mean_test"] == pytest.approx((0.90 + 0.96) / 2)
    assert figures["member_mean_mean_test"] == pytest.approx((0.94 + 0.912) / 2)
    assert figures["ensemble_5_mean_test"] == pytest.approx((0.97 + 0.92) / 2)
    assert figures["ensemble_better"] == 1 and figures["ensemble_worse"] == 1
    # The winner: the best CV score of the kept configs (0.97), not the diverged one (0.99).
    assert figures["one_model_winner_test"] == 0.90
    assert figures["ensemble_3_winner_test"] == 0.95
    assert figures["ensemble_5_winner_test"] == 0.97


def test_for_regression_the_winner_has_the_smallest_cv_error_and_smaller_tests_win() -> None:
    figures = bench.split_figures(SCORES, "min")
    assert figures["one_model_winner_test"] == 0.96  # cv 0.95
    assert figures["ensemble_better"] == 1  # 0.92 < 0.96 is better for an error


def test_the_summary_sums_counts_and_averages_tests_over_splits() -> None:
    first = bench.split_figures(SCORES, "max")
    second = bench.split_figures(SCORES[:1], "max")
    row = bench.summarize({"toy": {"mode": "max", "splits": {1: first, 2: second}}})[0]
    assert row["configs"] == 4 and row["kept"] == 3 and row["ensemble_better"] == 2
    assert row["ranked_by"] == ["cv"]
    assert row["ensemble_5_mean_test"] == pytest.approx(((0.97 + 0.92) / 2 + 0.97) / 2)
    assert row["ensemble_5_winner_test"] == pytest.approx(0.97)
    markdown = bench.to_markdown(
        {
            "quick": True,
            "settings": {"configs": 2, "splits": [1, 2]},
            "epochs": EPOCHS,
            "folds": 5,
            "summary": [row],
            "machine": {"cpu": "test"},
        }
    )
    assert "| toy (acc.) | cv | 3 of 4 |" in markdown and "| 2 / 1 |" in markdown


def test_a_report_written_before_ranked_by_was_recorded_renders_as_cross_validated() -> None:
    payload = json.loads((RESULTS / "final_seeds.json").read_text())  # the stored one is
    for row in payload["summary"]:
        row.pop("ranked_by", None)
    assert "| breast_cancer (acc.) | cv |" in bench.to_markdown(payload)


SMALL_CONFIG = {
    "model": {"family": "mlp", "depth": 1, "width": 16},
    "optimizer": {"name": "adam", "lr": 0.01},
    "training": {"epochs": 3, "batch_size": 64},
}


def test_one_config_is_cross_validated_and_retrained_from_five_seeds() -> None:
    scored = bench.score_config("wine", 1, SMALL_CONFIG)
    assert 0.0 <= scored["ranking"] <= 1.0 and scored["diverged"] is False
    assert scored["ranked_by"] == "cv"  # wine's validation split is small: cv_folds="auto"
    assert len(scored["members"]) == bench.SEEDS
    assert len(set(scored["members"])) > 1 or scored["members"][0] == 1.0  # seeds differ
    assert all(0.0 <= scored[final] <= 1.0 for final in ("ensemble_3", "ensemble_5"))


def test_where_a_default_search_would_not_cross_validate_the_validation_split_ranks() -> None:
    from automl_nn import evaluate, fit

    scored = bench.score_config("digits", 1, SMALL_CONFIG)
    assert scored["ranked_by"] == "holdout"  # digits' validation split has 288 samples
    data = bench.split_of("digits", 1)
    expected = evaluate(fit(SMALL_CONFIG, data, seed=0, device="cpu").model, data, "val")
    assert scored["ranking"] == pytest.approx(expected["accuracy"])


def test_other_data_sets_get_files_of_their_own(monkeypatch) -> None:
    written = {}

    def capture(name, quick, settings, *rest, **extra):
        written.update(name=name, settings=settings)
        return {}

    monkeypatch.setattr(bench, "write_split_benchmark", capture)
    bench.run(datasets=["digits"], configs=7)
    assert written["name"] == "final_seeds_digits"
    assert written["settings"]["datasets"] == ("digits",) and written["settings"]["configs"] == 7
    assert written["settings"]["splits"] == bench.FULL["splits"]
    bench.run()
    assert written["name"] == "final_seeds" and written["settings"] == bench.FULL
