"""The peers benchmark's arithmetic on hand-made data: curves, targets, verdicts, its CLI.

No search runs here: these are the parts whose mistakes would make the report lie.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

import benchmarks._report
import benchmarks.peers
from automl_nn import load_dataset
from benchmarks import BENCHMARKS
from benchmarks._report import RunStore
from benchmarks.peers import (
    DEFAULT_TOOL,
    MET,
    MISSED,
    NOT_MEASURED,
    PEERS,
    TARGET_SEEDS,
    Report,
    all_tools,
    automl_nn_variants,
    best_so_far,
    best_trial,
    build_peer_model,
    half_time_status,
    median_time,
    parse_args,
    peer_space,
    search_choice,
    shown_range,
    summarize,
    target_a,
    target_b,
    target_c,
    time_to_target,
    trial_finals,
    value_at,
)

REPORTS = [
    Report(1.0, "a", 0.50),
    Report(2.0, "a", 0.80),  # a ends at 2 s with 0.80
    Report(1.5, "b", 0.90),
    Report(3.0, "b", 0.70),  # b ends at 3 s with 0.70: its earlier 0.90 does not count
    Report(4.0, "c", math.nan),  # c diverged: left out
    Report(5.0, "d", 0.95),
]


def test_a_trial_counts_with_its_last_value_when_it_ends() -> None:
    finals = trial_finals(REPORTS)
    assert [(r.trial, r.seconds, r.value) for r in finals] == [
        ("a", 2.0, 0.80),
        ("b", 3.0, 0.70),
        ("d", 5.0, 0.95),
    ]


def test_best_so_far_keeps_improvements_only_in_either_mode() -> None:
    finals = trial_finals(REPORTS)
    assert best_so_far(finals, "max") == [(2.0, 0.80), (5.0, 0.95)]
    assert best_so_far(finals, "min") == [(2.0, 0.80), (3.0, 0.70)]
    assert best_so_far([], "max") == []


def test_time_to_target_is_the_first_time_the_curve_gets_there() -> None:
    curve = [(2.0, 0.80), (5.0, 0.95), (9.0, 0.99)]
    assert time_to_target(curve, 0.95, "max") == 5.0
    assert time_to_target(curve, 0.995, "max") is None
    assert time_to_target([(1.0, 3500.0), (7.0, 2850.0)], 2900.0, "min") == 7.0
    assert time_to_target([], 0.9, "max") is None


def test_value_at_steps_and_is_nan_before_the_first_trial_ends() -> None:
    curve = [(2.0, 0.80), (5.0, 0.95)]
    assert math.isnan(value_at(curve, 1.0))
    assert value_at(curve, 2.0) == 0.80
    assert value_at(curve, 4.9) == 0.80
    assert value_at(curve, 60.0) == 0.95


def test_plotted_range_follows_the_medians_and_target_not_a_stray_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.setattr(benchmarks.peers, "RESULTS", tmp_path)
    curves = [[[1.0, 0.97], [5.0, 0.99]], [[1.0, 0.975], [4.0, 0.995]], [[1.0, 0.1], [9.0, 0.99]]]
    runs = [
        {"dataset": "digits", "budget_s": budget, "tool": "t", "elapsed_s": budget, "curve": c}
        for budget in (10.0, 20.0)
        for c in curves
    ]
    created: list = []
    close = plt.close
    monkeypatch.setattr(plt, "close", created.append)  # keep the figure to read its axes
    assert Path(benchmarks.peers.plot_dataset(runs, "digits", ["t"])).is_file()
    (figure,) = created
    limits = [axis.get_ylim() for axis in figure.axes]
    close(figure)
    for low, high in limits:  # the panels share the one range
        assert 0.9 < low < 0.97 and 0.99 < high < 1.0  # the 0.1 seed is not in it
    assert shown_range([2600.0, 3100.0], 2900.0) == (2575.0, 3125.0)  # MSE: the same rule
    assert shown_range([math.nan], 0.98) == (0.9702, 0.9898)  # no curve yet: the target


def test_best_trial_is_the_first_to_end_among_equals() -> None:
    finals = [Report(1.0, "x", 0.9), Report(2.0, "y", 0.9), Report(3.0, "z", 0.5)]
    assert best_trial(finals, "max") == "x"
    assert best_trial(finals, "min") == "z"
    assert best_trial([], "max") is None


def test_median_time_counts_a_seed_that_never_got_there_as_infinite() -> None:
    assert median_time([10.0, 30.0, None]) == 30.0
    assert median_time([10.0, None, None]) is None
    assert median_time([10.0, None]) is None  # the mean of 10 and infinity
    assert median_time([]) is None


@pytest.mark.parametrize(
    ("mine", "peer", "budget", "status"),
    [
        (40.0, 100.0, 600, MET),
        (60.0, 100.0, 600, MISSED),
        (None, 100.0, 600, MISSED),
        (None, None, 600, MISSED),
        (250.0, None, 600, MET),  # the peer took longer than 600 s: 250 <= 300
        (400.0, None, 600, NOT_MEASURED),  # the peer's time is unknown beyond 600 s
    ],
)
def test_half_time_status(
    mine: float | None, peer: float | None, budget: float, status: str
) -> None:
    assert half_time_status(mine, peer, budget) == status


PROBE_S = 0.25  # the speed probe of every search stored here, unless a test says otherwise


def run_record(
    tool: str, dataset: str, budget: float, seed: int, test: float, ttt: float | None
) -> dict:
    return {
        "tool": tool,
        "dataset": dataset,
        "budget_s": budget,
        "seed": seed,
        "mode": "min" if dataset == "diabetes" else "max",
        "best_val": test,
        "test": test,
        "time_to_target_s": ttt,
        "trials": 10,
        "elapsed_s": budget + 5.0,
        "speed_probe_s": PROBE_S,
    }


def rows_of(
    records: list[tuple[str, str, float, float, float | None]], seeds: int = TARGET_SEEDS
) -> list[dict]:
    """Each record run ``seeds`` times with the same figures (their medians)."""
    runs = [
        run_record(tool, dataset, budget, seed, test, ttt)
        for tool, dataset, budget, test, ttt in records
        for seed in range(seeds)
    ]
    return summarize(runs, all_tools())


def test_summarize_takes_medians_and_spreads_over_seeds() -> None:
    runs = [
        run_record(DEFAULT_TOOL, "digits", 30, seed, test, ttt)
        for seed, test, ttt in [(0, 0.97, 5.0), (1, 0.99, None), (2, 0.98, 20.0)]
    ]
    (row,) = summarize(runs, all_tools())
    assert row["seeds"] == 3
    assert row["test"] == {"median": 0.98, "min": 0.97, "max": 0.99}
    assert row["time_to_target_s"] == 20.0
    assert row["reached_target"] == 2


def test_target_a_needs_the_default_to_beat_both_peers_on_every_data_set() -> None:
    beats = [
        (DEFAULT_TOOL, "digits", 30, 0.98, None),
        ("optuna_direct", "digits", 30, 0.97, None),
        ("ray_tune_random", "digits", 30, 0.96, None),
        (DEFAULT_TOOL, "diabetes", 30, 2800.0, None),  # lower MSE is better
        ("optuna_direct", "diabetes", 30, 2900.0, None),
        ("ray_tune_random", "diabetes", 30, 3000.0, None),
    ]
    assert target_a(rows_of(beats)).status == MET
    ties = [*beats[:1], ("optuna_direct", "digits", 30, 0.98, None), *beats[2:]]
    assert target_a(rows_of(ties)).status == MISSED  # a tie is not better
    worse_mse = [*beats[:3], (DEFAULT_TOOL, "diabetes", 30, 2950.0, None), *beats[4:]]
    assert target_a(rows_of(worse_mse)).status == MISSED
    assert target_a(rows_of(beats[:2])).status == NOT_MEASURED  # one peer missing
    # Beating both on digits says nothing about diabetes, where the peers did not run.
    verdict = target_a(rows_of([*beats[:3], beats[3]]))
    assert verdict.status == NOT_MEASURED
    assert verdict.details[1] == "diabetes: no budget where the default and both peers ran 3 seeds"
    assert target_a(rows_of([*ties[:3], beats[3]])).status == MISSED  # a miss still shows


def test_target_a_judges_each_data_set_at_its_largest_budget_with_all_three() -> None:
    records = [
        (DEFAULT_TOOL, "digits", 30, 0.90, None),
        ("optuna_direct", "digits", 30, 0.95, None),
        ("ray_tune_random", "digits", 30, 0.95, None),
        (DEFAULT_TOOL, "digits", 60, 0.99, None),
        ("optuna_direct", "digits", 60, 0.97, None),
        ("ray_tune_random", "digits", 60, 0.97, None),
        (DEFAULT_TOOL, "digits", 120, 0.90, None),  # no peer at 120 s: not compared
    ]
    verdict = target_a(rows_of(records))
    assert verdict.status == MET
    assert verdict.details[0].startswith("digits (60 s)")


def test_targets_are_judged_only_on_cells_with_enough_seeds() -> None:
    beats = [
        (DEFAULT_TOOL, "mnist1d", 600, 0.996, 10.0),
        ("optuna_direct", "mnist1d", 600, 0.97, 100.0),
        ("ray_tune_random", "mnist1d", 600, 0.96, None),
    ]
    assert [t(rows_of(beats)).status for t in (target_a, target_b, target_c)] == [MET] * 3
    few = rows_of(beats, seeds=TARGET_SEEDS - 1)
    assert [t(few).status for t in (target_a, target_b, target_c)] == [NOT_MEASURED] * 3
    assert target_c(few).details == ["2 seed(s), fewer than 3"]
    # One tool short of seeds at the larger budget: judged at the smaller one.
    at_300 = [(tool, dataset, 300, test, ttt) for tool, dataset, _, test, ttt in beats]
    short = rows_of([*at_300, *beats[1:]]) + rows_of(beats[:1], seeds=1)
    assert target_a(short).details[0].startswith("mnist1d (300 s)")


def test_target_b_compares_times_to_target_on_mnist1d() -> None:
    def records(mine: float | None, optuna: float | None, ray: float | None) -> list:
        return [
            (DEFAULT_TOOL, "mnist1d", 600, 0.99, mine),
            ("optuna_direct", "mnist1d", 600, 0.99, optuna),
            ("ray_tune_random", "mnist1d", 600, 0.99, ray),
        ]

    assert target_b(rows_of(records(100.0, 200.0, 400.0))).status == MET
    assert target_b(rows_of(records(150.0, 200.0, 400.0))).status == MISSED
    assert target_b(rows_of(records(None, 200.0, 400.0))).status == MISSED
    assert target_b(rows_of(records(100.0, 200.0, None))).status == MET
    assert target_b(rows_of(records(350.0, None, None))).status == NOT_MEASURED
    assert target_b(rows_of(records(100.0, 200.0, 400.0)[:1])).status == NOT_MEASURED
    assert target_b(rows_of([(DEFAULT_TOOL, "digits", 600, 0.99, 1.0)])).status == NOT_MEASURED


def test_target_c_needs_mnist1d_at_600_seconds() -> None:
    assert target_c(rows_of([(DEFAULT_TOOL, "mnist1d", 600, 0.996, None)])).status == MET
    assert target_c(rows_of([(DEFAULT_TOOL, "mnist1d", 600, 0.994, None)])).status == MISSED
    assert target_c(rows_of([(DEFAULT_TOOL, "mnist1d", 300, 0.999, None)])).status == NOT_MEASURED
    assert (
        target_c(rows_of([("optuna_direct", "mnist1d", 600, 0.999, None)])).status == NOT_MEASURED
    )


def test_the_tools_cover_every_searcher_and_scheduler_once() -> None:
    from automl_nn.defaults import DEFAULT_SCHEDULER, DEFAULT_SEARCHER

    variants = automl_nn_variants()
    assert len(variants) == 9  # 5 searchers x 2 schedulers, the defaults' pair run as default
    assert f"{DEFAULT_SEARCHER}_{DEFAULT_SCHEDULER}" not in variants
    assert all_tools() == (DEFAULT_TOOL, *variants, *PEERS)
    assert search_choice("rl_fifo") == {"searcher": "rl", "scheduler": "fifo"}
    assert search_choice(DEFAULT_TOOL) == {}
    assert "peers" in BENCHMARKS


def test_cli_parses_a_partial_run() -> None:
    args = parse_args(
        [
            "--datasets",
            "mnist1d",
            "digits",
            "--budgets",
            "60",
            "120",
            "--seeds",
            "0",
            "1",
            "--tools",
            "default",
            "optuna_direct",
            "ray_tune_random",
            "rl_asha",
        ]
    )
    assert args.datasets == ["mnist1d", "digits"]
    assert args.budgets == [60.0, 120.0]
    assert args.seeds == [0, 1]
    assert args.tools == ["default", "optuna_direct", "ray_tune_random", "rl_asha"]
    assert not args.quick
    quick = parse_args(["--quick"])
    assert quick.quick and quick.datasets is None and quick.tools is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--tools", "hyperopt"],
        ["--datasets", "cifar10"],
        ["--budgets", "0"],
        ["--seeds", "one"],
        ["--quick", "--report-only"],
    ],
)
def test_cli_rejects_what_cannot_run(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


@pytest.mark.parametrize(
    ("shape", "outputs"), [((30,), 2), ((1, 40), 10), ((1, 8, 8), 10), ((10,), None)]
)
def test_peer_models_fit_every_input_rank_and_start_in_training_mode(
    shape: tuple, outputs: int | None
) -> None:
    import torch

    space = peer_space(len(shape))
    params = {
        name: args[0] if kind == "choice" else args[1] for name, (kind, args) in space.items()
    }
    params["stride"] = 2 if "stride" in params else None  # the smallest feature maps
    data = SimpleNamespace(input_shape=shape, num_classes=outputs)
    model = build_peer_model(params, data)
    assert model.training
    assert model.eval()(torch.zeros(3, *shape)).shape == (3, outputs or 1)


def redirect_store(store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's stored searches are ``store``'s and its report files go to ``tmp_path``."""
    monkeypatch.setattr(benchmarks.peers, "RUNS", store)
    for module in (benchmarks.peers, benchmarks._report):
        monkeypatch.setattr(module, "RESULTS", tmp_path)


def reported(
    store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> dict:
    """The payload of ``python -m benchmarks.peers ARGV --report-only`` over ``store``, whose
    report files go to ``tmp_path``."""
    redirect_store(store, tmp_path, monkeypatch)
    benchmarks.peers.main([*argv, "--report-only"])
    return json.loads((tmp_path / "peers.json").read_text())


def test_report_only_runs_nothing_and_reports_the_stored_searches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "peers_runs.jsonl")
    today = benchmarks.peers.settings_today({"tool": DEFAULT_TOOL, "dataset": "mnist1d"})
    for seed in range(TARGET_SEEDS):  # a target is judged on 3 seeds
        store.append(
            run_record(DEFAULT_TOOL, "mnist1d", 600, seed, 0.996, 30.0)
            | {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[30.0, 0.99]]}
            | {"retrain_s": 55.0, "search_settings": today}
        )
    monkeypatch.setattr(benchmarks.peers, "one_search", lambda *args: pytest.fail("ran a search"))
    monkeypatch.setattr(benchmarks.peers, "start_ray", lambda: pytest.fail("started Ray"))
    payload = reported(
        store, tmp_path, monkeypatch, ["--datasets", "mnist1d", "digits", "--budgets", "600"]
    )

    assert [(run["tool"], run["seed"]) for run in payload["runs"]] == [
        (DEFAULT_TOOL, seed) for seed in range(TARGET_SEEDS)
    ]
    verdict_c = payload["targets_of_issue_7"][2]
    assert verdict_c["status"] == MET
    assert (tmp_path / "peers.md").exists() and (tmp_path / "peers_mnist1d.png").exists()
    assert not (tmp_path / "peers_digits.png").exists()
    # The stored searches' 3 x (605 s + 55 s) are reported, not this call's few seconds.
    assert (
        "Searches reported: 3, 33 minutes of searching and retraining in all"
        in (tmp_path / "peers.md").read_text()
    )


def test_stored_searches_made_with_other_defaults_are_left_out_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "peers_runs.jsonl")
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[10.0, 2800.0]], "mode": "min"}
    rule = benchmarks.peers.retrain_rule(5, load_dataset("diabetes"))
    old_rule = benchmarks.peers.RETRAIN_RULE_BEFORE_2E8F1F8
    one_seed_rule = benchmarks.peers.RETRAIN_RULE  # cross-validated winners, until 2026-11-27
    # Stored before the settings were recorded: val_loss on the validation split.
    store.append(run_record(DEFAULT_TOOL, "diabetes", 120, 0, 2700.0, 10.0) | common)
    # Today's metric and folds, stored before the retrain rule was recorded.
    retrained_before = {"search_settings": {"metric": "val_mse", "cv_folds": 5}}
    store.append(
        run_record(DEFAULT_TOOL, "diabetes", 120, 1, 2650.0, 10.0) | common | retrained_before
    )
    one_seed = {"search_settings": {"metric": "val_mse", "cv_folds": 5, "retrain": one_seed_rule}}
    store.append(run_record(DEFAULT_TOOL, "diabetes", 120, 2, 2620.0, 10.0) | common | one_seed)
    today = {"search_settings": {"metric": "val_mse", "cv_folds": 5, "retrain": rule}}
    store.append(run_record(DEFAULT_TOOL, "diabetes", 120, 3, 2600.0, 10.0) | common | today)
    payload = reported(
        store,
        tmp_path,
        monkeypatch,
        ["--datasets", "diabetes", "--budgets", "120", "--seeds", "0", "1", "2", "3"],
    )
    assert [run["seed"] for run in payload["runs"]] == [3]
    space = benchmarks.peers.DEFAULT_SPACE_BEFORE_RECORDING["diabetes"]  # still today's
    today_line = (
        f"today's defaults give {{'metric': 'val_mse', 'cv_folds': 5, 'retrain': {rule!r}, "
        f"'tie_break': None, 'space': {space!r}}}"
    )
    assert payload["left_out"] == [
        "default diabetes 120 s seed 0 (ran with {'metric': 'val_loss', 'cv_folds': None, "
        f"'retrain': {old_rule!r}, 'tie_break': None, 'space': {space!r}}}, {today_line})",
        f"default diabetes 120 s seed 1 (ran with {{'metric': 'val_mse', 'cv_folds': 5, "
        f"'retrain': {old_rule!r}, 'tie_break': None, 'space': {space!r}}}, {today_line})",
        f"default diabetes 120 s seed 2 (ran with {{'metric': 'val_mse', 'cv_folds': 5, "
        f"'retrain': {one_seed_rule!r}, 'tie_break': None, 'space': {space!r}}}, {today_line})",
    ]
    markdown = (tmp_path / "peers.md").read_text()
    assert "left out" in markdown and "default on diabetes (5 folds)" in markdown


def test_searches_whose_plateau_winner_was_retrained_watching_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only those: another winner was retrained as today's rule retrains it."""
    store = RunStore(tmp_path / "peers_runs.jsonl")
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[10.0, 2800.0]], "mode": "min"}
    stored_rule = benchmarks.peers.retrain_rule(5, load_dataset("diabetes"))
    settings = {"search_settings": {"metric": "val_mse", "cv_folds": 5, "retrain": stored_rule}}
    winners = [{"schedule": {"name": "plateau", "patience": 3}}, {"schedule": {"name": "cosine"}}]
    for seed, winner in enumerate(winners):
        record = run_record(DEFAULT_TOOL, "diabetes", 120, seed, 2600.0, 10.0) | common
        store.append(record | settings | {"best_config": winner})
    payload = reported(
        store,
        tmp_path,
        monkeypatch,
        ["--datasets", "diabetes", "--budgets", "120", "--seeds", "0", "1"],
    )
    assert [run["seed"] for run in payload["runs"]] == [1]
    assert len(payload["left_out"]) == 1
    assert payload["left_out"][0].startswith("default diabetes 120 s seed 0 (ran with")
    assert benchmarks.peers.PLATEAU_REPLAYED in payload["left_out"][0]


def test_searches_whose_retrained_winner_diverged_are_left_out_until_it_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NaN test (stored before retrain_best passed over a diverged winner) stops counting;
    a winner passed over since, and a winner that trained, count."""
    store = RunStore(tmp_path / "peers_runs.jsonl")
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[10.0, 0.98]]}
    data = load_dataset("digits")
    today = benchmarks.peers.settings_today({"tool": DEFAULT_TOOL, "dataset": "digits"})
    passed_over = today | {"retrain": benchmarks.peers.retrain_rule(None, data, passed_over=True)}
    stored = [(math.nan, today), (0.99, passed_over), (0.98, today)]
    for seed, (test, settings) in enumerate(stored):
        record = run_record(DEFAULT_TOOL, "digits", 120, seed, test, 10.0) | common
        store.append(record | {"search_settings": settings})
    payload = reported(store, tmp_path, monkeypatch, ["--datasets", "digits", "--budgets", "120"])
    assert sorted(run["seed"] for run in payload["runs"]) == [1, 2]
    (left_out,) = payload["left_out"]
    assert left_out.startswith("default digits 120 s seed 0 (ran with")
    ran_with, today_gives = left_out.split("today's defaults give")
    assert benchmarks.peers.DIVERGED_PASSED_OVER not in ran_with
    assert benchmarks.peers.DIVERGED_PASSED_OVER in today_gives


def test_cross_validated_class_searches_stored_before_the_tie_break_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "peers_runs.jsonl")
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[10.0, 0.98]]}
    before = {
        "metric": "val_accuracy",
        "cv_folds": 5,
        "retrain": benchmarks.peers.retrain_rule(5, load_dataset("wine")),
    }
    today = {**before, "tie_break": "val_log_loss"}
    for seed, settings in enumerate([before, today]):
        record = run_record(DEFAULT_TOOL, "breast_cancer", 120, seed, 0.96, 10.0)
        store.append(record | common | {"search_settings": settings})
    payload = reported(
        store,
        tmp_path,
        monkeypatch,
        ["--datasets", "breast_cancer", "--budgets", "120", "--seeds", "0", "1"],
    )
    assert [run["seed"] for run in payload["runs"]] == [1]
    assert len(payload["left_out"]) == 1
    assert payload["left_out"][0].startswith("default breast_cancer 120 s seed 0 (ran with")
    assert "'tie_break': None, 'space': " in payload["left_out"][0]


def test_searches_stored_before_the_default_space_changed_are_left_out_by_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "peers_runs.jsonl")
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[10.0, 0.98]]}
    for dataset in ("digits", "breast_cancer"):  # mlps left images; tabular kept them
        today = benchmarks.peers.settings_today({"tool": DEFAULT_TOOL, "dataset": dataset})
        before = today | {"space": benchmarks.peers.DEFAULT_SPACE_BEFORE_RECORDING[dataset]}
        for seed, settings in enumerate([before, today]):
            record = run_record(DEFAULT_TOOL, dataset, 120, seed, 0.96, 10.0)
            store.append(record | common | {"search_settings": settings})
    datasets = ["--datasets", "digits", "breast_cancer"]
    payload = reported(
        store, tmp_path, monkeypatch, [*datasets, "--budgets", "120", "--seeds", "0", "1"]
    )
    assert [(run["dataset"], run["seed"]) for run in payload["runs"]] == [
        ("digits", 1),
        ("breast_cancer", 0),
        ("breast_cancer", 1),
    ]
    (left_out,) = payload["left_out"]
    old = benchmarks.peers.DEFAULT_SPACE_BEFORE_RECORDING["digits"]
    today = benchmarks.peers.settings_today({"tool": DEFAULT_TOOL, "dataset": "digits"})
    assert today["space"] != old
    assert left_out == (
        f"default digits 120 s seed 0 (ran with {today | {'space': old}}, "
        f"today's defaults give {today})"
    )


def test_rl_searches_stored_before_its_outlier_rule_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rl's searches recorded no options before outlier_share; they kept every reward."""
    store = RunStore(tmp_path / "peers_runs.jsonl")
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[10.0, 0.98]]}
    today = benchmarks.peers.settings_today({"tool": "rl_asha", "dataset": "digits"})
    stored_before = {key: value for key, value in today.items() if key != "searcher_options"}
    for seed, settings in enumerate([stored_before, today]):
        record = run_record("rl_asha", "digits", 120, seed, 0.96, 10.0)
        store.append(record | common | {"search_settings": settings})
    grid = ["--datasets", "digits", "--budgets", "120", "--seeds", "0", "1", "--tools", "rl_asha"]
    payload = reported(store, tmp_path, monkeypatch, grid)

    assert [run["seed"] for run in payload["runs"]] == [1]
    assert today["searcher_options"]["outlier_share"] == 0.1
    (left_out,) = payload["left_out"]
    assert left_out.startswith("rl_asha digits 120 s seed 0 (ran with")
    assert "'outlier_share': 0.0" in left_out
    assert "searcher_options" not in benchmarks.peers.settings_today(
        {"tool": DEFAULT_TOOL, "dataset": "digits"}
    )


def test_stored_searches_from_a_machine_of_another_speed_are_left_out_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "peers_runs.jsonl")
    today = benchmarks.peers.settings_today({"tool": DEFAULT_TOOL, "dataset": "mnist1d"})
    common = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[30.0, 0.99]]}
    for seed, probe in enumerate([PROBE_S, PROBE_S * 1.1, PROBE_S * 2.6, None]):
        record = run_record(DEFAULT_TOOL, "mnist1d", 120, seed, 0.99, 30.0)
        store.append(record | common | {"search_settings": today, "speed_probe_s": probe})
    seeds = ["--seeds", "0", "1", "2", "3"]
    payload = reported(
        store, tmp_path, monkeypatch, ["--datasets", "mnist1d", "--budgets", "120", *seeds]
    )
    # The median of the three probes (0.275 s) is the report's speed: 0.65 s is 2.4x slower.
    assert [run["seed"] for run in payload["runs"]] == [0, 1]
    assert payload["settings"]["speed_probe_s"] == pytest.approx(PROBE_S * 1.1)
    assert payload["left_out"] == [
        "default mnist1d 120 s seed 2 (machine speed probe 0.65 s, the others' 0.275 s)",
        "default mnist1d 120 s seed 3 (no speed probe: ran before they were stored, on a "
        "machine of unknown speed)",
    ]
    assert payload["left_out_by_reason"] == {
        "machine speed probe 0.65 s, the others' 0.275 s": ["default mnist1d 120 s (seed 2)"],
        "no speed probe: ran before they were stored, on a machine of unknown speed": [
            "default mnist1d 120 s (seed 3)"
        ],
    }
    markdown = (tmp_path / "peers.md").read_text()
    assert "ran at a speed probe within 1.25x of 0.275 s" in markdown
    assert "- machine speed probe 0.65 s, the others' 0.275 s: default mnist1d 120 s (seed 2)" in (
        markdown
    )


def test_same_speed_allows_the_tolerance_either_way_and_needs_both_probes() -> None:
    tolerance = benchmarks.peers.SPEED_TOLERANCE
    assert benchmarks.peers.same_speed({"speed_probe_s": 1.0}, tolerance)
    assert benchmarks.peers.same_speed({"speed_probe_s": tolerance}, 1.0)
    assert not benchmarks.peers.same_speed({"speed_probe_s": 1.0}, tolerance * 1.01)
    assert not benchmarks.peers.same_speed({}, 1.0)
    assert not benchmarks.peers.same_speed({"speed_probe_s": 1.0}, None)


def test_a_search_run_while_the_machine_drifted_is_stored_but_left_out_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "peers_runs.jsonl")
    redirect_store(store, tmp_path, monkeypatch)
    monkeypatch.setattr(benchmarks.peers, "speed_probe_s", lambda: PROBE_S)
    monkeypatch.setattr(benchmarks.peers, "start_ray", lambda: None)
    today = benchmarks.peers.settings_today({"tool": DEFAULT_TOOL, "dataset": "mnist1d"})
    probes = {0: PROBE_S * 1.2, 1: PROBE_S * 1.3}  # seed 1's search ran on a slower machine

    def one_search(tool: str, data: object, budget: float, seed: int) -> dict:
        record = run_record(tool, "mnist1d", budget, seed, 0.99, 30.0)
        extra = {"max_epochs": benchmarks.peers.MAX_EPOCHS, "curve": [[30.0, 0.99]]}
        return record | extra | {"search_settings": today, "speed_probe_s": probes[seed]}

    monkeypatch.setattr(benchmarks.peers, "one_search", one_search)
    argv = ["--datasets", "mnist1d", "--budgets", "120", "--seeds", "0", "1"]
    benchmarks.peers.main([*argv, "--tools", DEFAULT_TOOL])
    payload = json.loads((tmp_path / "peers.json").read_text())

    assert [run["seed"] for run in payload["runs"]] == [0]
    assert payload["left_out"] == [
        "default mnist1d 120 s seed 1 (machine speed probe 0.325 s, the others' 0.25 s)"
    ]
    assert [record["seed"] for record in store.load()] == [0, 1]  # both kept for later
