"""The stopped_trials benchmark's paired counts and summary (stored records, no search here)."""

from __future__ import annotations

from benchmarks.stopped_trials import paired_counts, summarize, to_markdown


def record(seed: int, way: str, test: float, mode: str = "max") -> dict:
    return {
        "dataset": "wine", "seed": seed, "way": way, "mode": mode, "trials": 8,
        "stopped_early": 5 if way == "pruned" else 4, "best_val": test, "top_mean": test,
        "test": test, "search_s": 10.0,
    }  # fmt: skip


def test_seeds_are_paired_and_counted_the_metric_way() -> None:
    runs = [
        record(0, "complete", 0.90), record(0, "pruned", 0.95),
        record(1, "complete", 0.90), record(1, "pruned", 0.90),
        record(2, "complete", 0.90), record(2, "pruned", 0.80),
        record(3, "complete", 0.90), record(4, "pruned", 0.99),  # no pair: not counted
    ]  # fmt: skip
    assert paired_counts(runs, "test", "max") == (1, 1, 1)
    mse = [record(0, "complete", 3000.0, "min"), record(0, "pruned", 2900.0, "min")]
    assert paired_counts(mse, "test", "min") == (1, 0, 0)


def test_the_summary_gives_each_ways_medians_and_the_markdown_shows_them() -> None:
    runs = [
        record(0, "complete", 0.90), record(0, "pruned", 0.94),
        record(1, "complete", 0.92), record(1, "pruned", 0.96),
    ]  # fmt: skip
    (row,) = summarize(runs)
    assert (row["complete_test"], row["pruned_test"]) == (0.91, 0.95)
    assert (row["complete_finished"], row["pruned_finished"]) == (4, 3)
    assert row["pruned_vs_complete_test"] == (2, 0, 0)
    payload = {
        "quick": True, "settings": {"datasets": ["wine"], "seeds": [0, 1], "trials": 8,
        "searcher": "optuna + asha"}, "summary": [row], "runs": runs, "duration_s": 1.0,
        "machine": {},
    }  # fmt: skip
    markdown = to_markdown(payload)
    assert "0.9100 / 0.9500" in markdown and "2 / 0 / 0" in markdown


def test_a_full_run_runs_only_the_searches_its_store_lacks(monkeypatch, tmp_path) -> None:
    from benchmarks import stopped_trials
    from benchmarks._report import RunStore

    store = RunStore(tmp_path / "runs.jsonl")
    store.append({**record(0, "complete", 0.90), "num_trials": 8})
    store.append({**record(0, "pruned", 0.95), "num_trials": 8})
    store.append({**record(1, "complete", 0.50), "num_trials": 4})  # another trial count
    ran = []

    def fake_search(dataset: str, seed: int, way: str, trials: int) -> dict:
        ran.append((seed, way, trials))
        return {**record(seed, way, 0.92), "num_trials": trials}

    monkeypatch.setattr(stopped_trials, "RUNS", store)
    monkeypatch.setattr(stopped_trials, "one_search", fake_search)
    monkeypatch.setattr(stopped_trials, "start_ray", lambda: None)
    monkeypatch.setattr(stopped_trials, "write_runs", lambda *args: args)
    _, _, settings, runs, *_ = stopped_trials.run(datasets=["wine"], seeds=[0, 1], trials=8)
    assert ran == [(1, "complete", 8), (1, "pruned", 8)]
    assert [(r["seed"], r["way"], r["test"]) for r in runs] == [
        (0, "complete", 0.90), (0, "pruned", 0.95), (1, "complete", 0.92), (1, "pruned", 0.92),
    ]  # fmt: skip
    assert len(store.load()) == 5 and settings["trials"] == 8
