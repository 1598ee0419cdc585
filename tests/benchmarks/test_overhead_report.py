"""The overhead benchmark's floor lines, for this version's payload and an older one."""

from __future__ import annotations

from benchmarks.overhead import _floor_lines

VARIANTS = {
    "raw_ray_tune": {"ms_per_trial": 64.0},
    "automl_nn_tracking_off": {"ms_per_trial": 72.0},
}


def floor(cpu_ms: float, calls: int | None) -> dict:
    measured = {
        "cpu_ms_per_trial": cpu_ms,
        "wall_ms_per_trial": cpu_ms + 4,
        "cpu_vs_raw_trial": 0.5,
    }
    return measured | ({"client_calls_per_trial": calls} if calls else {})


def test_both_floors_and_the_budget_the_target_leaves() -> None:
    payload = {
        "variants": VARIANTS,
        "mlflow_floor": floor(30.0, 5),
        "mlflow_floor_fewest_calls": floor(21.0, 3),
    }
    lines = _floor_lines(payload)
    assert "30.0 ms CPU" in lines[0] and "5 client calls" in lines[0]
    assert "21.0 ms CPU" in lines[1] and "3 client calls" in lines[1]
    assert "leaves 7.2 ms per trial" in lines[2]


def test_an_older_payload_keeps_its_one_floor() -> None:
    lines = _floor_lines({"variants": VARIANTS, "mlflow_floor": floor(29.6, None)})
    assert "29.6 ms CPU" in lines[0] and "5 client calls" in lines[0]
    assert len([line for line in lines if "MLflow's own floor" in line]) == 1
    assert _floor_lines({"variants": VARIANTS}) == []
