"""Long benchmarks keep each finished search and, rerun, run only the searches they lack.

No search runs here: ``one_search`` is replaced by a recorder, so these tests check the
bookkeeping (what is skipped, what is stored, what the report covers), not the tools.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch

from benchmarks import nas_mnist1d, peers
from benchmarks._report import RESULTS_PATH, RunStore, code_version, speed_probe_s


def test_a_run_store_gives_back_what_was_appended_in_order(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "sub" / "runs.jsonl")
    assert store.load() == []
    store.append({"seed": 0, "value": 0.5})
    store.append({"seed": 1, "value": float("nan")})
    loaded = store.load()
    assert [record["seed"] for record in loaded] == [0, 1]
    assert loaded[0]["value"] == 0.5


PROBE_S = 0.25  # this machine's speed probe in these tests, and every stored search's


def _peer_record(tool: str, data: Any, budget: float, seed: int, epochs: int) -> dict[str, Any]:
    """A stored search as one run today would store it (automl_nn's settings included)."""
    dataset = data if isinstance(data, str) else data.name
    return {
        "tool": tool,
        "dataset": dataset,
        "budget_s": float(budget),
        "seed": seed,
        "max_epochs": epochs,
        "mode": "max",
        "best_val": 0.9,
        "test": 0.9,
        "time_to_target_s": None,
        "trials": 3,
        "elapsed_s": float(budget),
        "retrain_s": 1.0,
        "load_average_1min": [0.0, 0.0],
        "curve": [[1.0, 0.9]],
        "best_config": {},
        "search_settings": peers.settings_today({"tool": tool, "dataset": dataset}),
        "speed_probe_s": PROBE_S,
    }


@pytest.fixture
def quiet_peers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """peers.run with a temporary store, no Ray, no files written; returns the searches run."""
    ran: list[tuple] = []

    def recorded_search(tool: str, data: Any, budget: float, seed: int) -> dict[str, Any]:
        ran.append((tool, data.name, float(budget), seed))
        return _peer_record(tool, data, budget, seed, peers.MAX_EPOCHS)

    monkeypatch.setattr(peers, "RUNS", RunStore(tmp_path / "peers_runs.jsonl"))
    monkeypatch.setattr(peers, "one_search", recorded_search)
    monkeypatch.setattr(peers, "start_ray", lambda: None)
    monkeypatch.setattr(peers, "speed_probe_s", lambda: PROBE_S)
    monkeypatch.setattr(peers, "plot_dataset", lambda runs, dataset, tools: "")
    monkeypatch.setattr(peers, "write_results", lambda name, payload, markdown: None)
    return ran


def test_peers_runs_only_the_searches_it_has_not_stored(quiet_peers: list[tuple]) -> None:
    peers.RUNS.append(_peer_record("default", "digits", 30, 0, peers.MAX_EPOCHS))
    # Trained for other epochs per trial: not comparable, so run again.
    peers.RUNS.append(_peer_record("optuna_direct", "digits", 30, 0, peers.MAX_EPOCHS - 1))
    payload = peers.run(
        datasets=["digits"], budgets=[30], seeds=[0, 1], tools=["default", "optuna_direct"]
    )
    assert sorted(quiet_peers) == [
        ("default", "digits", 30.0, 1),
        ("optuna_direct", "digits", 30.0, 0),
        ("optuna_direct", "digits", 30.0, 1),
    ]
    assert len(payload["runs"]) == 4
    assert len(peers.RUNS.load()) == 2 + 3

    quiet_peers.clear()
    again = peers.run(
        datasets=["digits"], budgets=[30], seeds=[0, 1], tools=["default", "optuna_direct"]
    )
    assert quiet_peers == []
    assert len(again["runs"]) == 4


def test_peers_runs_again_a_search_stored_from_a_machine_of_another_speed(
    quiet_peers: list[tuple],
) -> None:
    slower = _peer_record("default", "digits", 30, 0, peers.MAX_EPOCHS)
    peers.RUNS.append(slower | {"speed_probe_s": PROBE_S * 2.6})
    peers.RUNS.append(_peer_record("default", "digits", 30, 1, peers.MAX_EPOCHS))
    payload = peers.run(datasets=["digits"], budgets=[30], seeds=[0, 1], tools=["default"])
    assert quiet_peers == [("default", "digits", 30.0, 0)]
    assert [run["speed_probe_s"] for run in payload["runs"]] == [PROBE_S, PROBE_S]


def test_quick_peers_neither_reads_nor_writes_the_store(quiet_peers: list[tuple]) -> None:
    peers.RUNS.append(_peer_record("default", "digits", 30, 0, peers.MAX_EPOCHS))
    peers.run(quick=True, tools=["default"])
    assert quiet_peers == [("default", "digits", 30.0, 0)]
    assert len(peers.RUNS.load()) == 1


@pytest.fixture
def quiet_nas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """nas_mnist1d.run with a temporary store and no searches; returns the searches run."""
    ran: list[tuple] = []

    def recorded_search(searcher: str, seed: int, settings: dict, storage: str) -> dict:
        ran.append((searcher, seed))
        return {
            "settings_key": nas_mnist1d.settings_key(settings),
            "searcher": searcher,
            "seed": seed,
            "searcher_options": nas_mnist1d.searcher_options_in_full(searcher),
            "best_val_accuracy": 0.9 + seed / 100 + (0.02 if searcher == "rl" else 0.0),
            "best_so_far": [0.5, 0.9],
            "test_accuracy": 0.9,
            "best_config": {},
        }

    monkeypatch.setattr(nas_mnist1d, "RUNS", RunStore(tmp_path / "nas_runs.jsonl"))
    monkeypatch.setattr(nas_mnist1d, "one_search", recorded_search)
    monkeypatch.setattr(nas_mnist1d, "plot_best_so_far", lambda runs: "")
    monkeypatch.setattr(nas_mnist1d, "write_results", lambda name, payload, markdown: None)
    return ran


def test_nas_runs_only_the_searches_it_has_not_stored(quiet_nas: list[tuple]) -> None:
    other = {**nas_mnist1d.FULL, "max_epochs": nas_mnist1d.FULL["max_epochs"] + 1}
    nas_mnist1d.RUNS.append(
        {
            "settings_key": nas_mnist1d.settings_key(nas_mnist1d.FULL),
            "searcher": "random",
            "seed": 0,
            "best_val_accuracy": 0.8,
            "best_so_far": [0.8],
            "test_accuracy": 0.8,
            "best_config": {},
        }
    )
    nas_mnist1d.RUNS.append(
        {
            "settings_key": nas_mnist1d.settings_key(other),
            "searcher": "rl",
            "seed": 0,
            "best_val_accuracy": 0.99,
            "best_so_far": [0.99],
            "test_accuracy": 0.99,
            "best_config": {},
        }
    )
    payload = nas_mnist1d.run(False, seeds=[0, 1], searchers=["random", "rl"])
    assert quiet_nas == [("rl", 0), ("random", 1), ("rl", 1)]
    assert len(payload["runs"]) == 4
    assert payload["paired"]["rl"] == {"seeds": 2, "wins": 2, "mean_gap": pytest.approx(0.07)}
    markdown = nas_mnist1d.to_markdown({**payload, "machine": {}})
    assert "rl beats random on mean best validation accuracy: True" in markdown


def test_nas_report_only_runs_nothing_and_reports_what_is_stored(quiet_nas: list[tuple]) -> None:
    stored = {"settings_key": nas_mnist1d.settings_key(nas_mnist1d.FULL), "searcher": "random",
              "seed": 2, "best_val_accuracy": 0.9, "best_so_far": [0.9], "test_accuracy": 0.9,
              "best_config": {}}  # fmt: skip
    nas_mnist1d.RUNS.append(stored)
    payload = nas_mnist1d.run(False, seeds=[0, 1, 2], report_only=True)
    assert quiet_nas == []
    assert [(run["searcher"], run["seed"]) for run in payload["runs"]] == [("random", 2)]


def test_nas_reruns_stored_searches_made_with_other_searcher_options(
    quiet_nas: list[tuple],
) -> None:
    stored = {"settings_key": nas_mnist1d.settings_key(nas_mnist1d.FULL), "seed": 0,
              "best_val_accuracy": 0.9, "best_so_far": [0.9], "test_accuracy": 0.9,
              "best_config": {}}  # fmt: skip
    # Stored before records held options: rl ran with its old defaults, random has none.
    nas_mnist1d.RUNS.append({**stored, "searcher": "rl"})
    nas_mnist1d.RUNS.append({**stored, "searcher": "random"})
    evolution_options = nas_mnist1d.searcher_options_in_full("evolution")
    smaller = {**evolution_options, "population_size": evolution_options["population_size"] - 1}
    nas_mnist1d.RUNS.append({**stored, "searcher": "evolution", "searcher_options": smaller})
    nas_mnist1d.RUNS.append(
        {
            **stored,
            "searcher": "optuna",
            "searcher_options": nas_mnist1d.searcher_options_in_full("optuna"),
        }
    )

    payload = nas_mnist1d.run(False, seeds=[0], searchers=["random", "evolution", "rl", "optuna"])

    assert quiet_nas == [("evolution", 0), ("rl", 0)]
    assert len(payload["runs"]) == 4
    assert [(r["searcher"], r["seed"]) for r in payload["superseded"]] == [
        ("rl", 0),
        ("evolution", 0),
    ]
    assert "left out: 2 stored searches" in nas_mnist1d.to_markdown({**payload, "machine": {}})
    reported = {
        (run["searcher"], run.get("searcher_options") == smaller) for run in payload["runs"]
    }
    assert reported == {("random", False), ("optuna", False), ("evolution", False), ("rl", False)}


def test_the_code_version_is_dirty_for_code_changes_not_for_the_runs_own_results(
    tmp_path: Path,
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    results, code = tmp_path / RESULTS_PATH / "runs.jsonl", tmp_path / "benchmarks" / "peers.py"
    results.parent.mkdir(parents=True)
    results.write_text("{}\n")
    code.write_text("BUDGET = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    clean = code_version(tmp_path)
    assert clean != "unknown" and not clean.endswith("-dirty")
    results.write_text("{}\n{}\n")  # a long run appended a search
    assert code_version(tmp_path) == clean
    (tmp_path / "package.py").write_text("changed = True\n")
    git("add", "package.py")  # a change outside benchmarks/, seen from any folder
    assert code_version(tmp_path) == code_version(tmp_path / "benchmarks") == f"{clean}-dirty"
    git("rm", "-q", "--cached", "package.py")
    code.write_text("BUDGET = 2\n")
    assert code_version(tmp_path / RESULTS_PATH) == f"{clean}-dirty"


def test_the_code_version_outside_a_repository_is_unknown(tmp_path: Path) -> None:
    assert code_version(tmp_path) == "unknown"


def test_the_speed_probe_times_one_thread_and_gives_the_threads_back() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        probe = speed_probe_s(rounds=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert 0.0 < probe < 60.0
