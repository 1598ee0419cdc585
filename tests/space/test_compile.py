"""Compiling a space for searchers: grid, covering set, Optuna, Nevergrad, decision sequences."""

from __future__ import annotations

import doctest
import importlib
import itertools
import math
import pkgutil
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pytest

from automl_nn import space as space_package
from automl_nn.errors import SpaceError
from automl_nn.space import (
    Space,
    active_decisions,
    choice,
    grid,
    integer,
    load_space,
    loguniform,
    quantized,
    uniform,
)

SPACES = {
    f"{name}-{task}-{input_kind}": (name, task, input_kind)
    for name in ["default", "quick"]
    for task, input_kind in [("binary", "image"), ("regression", "tabular")]
}

CONDITIONAL = Space.from_dict(
    {
        "optimizer": choice(
            [
                {"name": "adam", "lr": loguniform(1e-4, 1e-2)},
                {"name": "sgd", "lr": 0.1, "nesterov": choice([True, False])},
            ]
        ),
        "regularization": {"dropout": uniform(0.0, 0.5), "batch_norm": choice([True, False])},
        "training": {"batch_size": grid([32, 64, 128])},
    }
)


@pytest.fixture(autouse=True)
def quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(params=list(SPACES.values()), ids=list(SPACES))
def fitted(request: pytest.FixtureRequest) -> tuple[Space, str, str]:
    """A packaged space specialized for a task and input kind: (space, task, input_kind)."""
    name, task, input_kind = request.param
    return load_space(name).specialize(task, input_kind), task, input_kind


# -- grid ---------------------------------------------------------------------------------


def test_grid_enumerates_the_cartesian_product() -> None:
    space = Space.from_dict(
        {
            "training": {"batch_size": grid([32, 64, 128])},
            "regularization": {"batch_norm": choice([True, False])},
        }
    )
    configs = space.grid_configs(random.Random(0))
    pairs = [(c["training"]["batch_size"], c["regularization"]["batch_norm"]) for c in configs]
    assert sorted(pairs) == sorted(itertools.product([32, 64, 128], [True, False]))
    assert space.grid_size() == 6


def test_grid_adds_up_the_options_of_a_conditional_choice() -> None:
    configs = CONDITIONAL.grid_configs(random.Random(0))
    # optimizer: adam (1) + sgd x nesterov (2) = 3; x batch_norm 2; x batch_size 3
    assert CONDITIONAL.grid_size() == len(configs) == 18
    keys = {(c["optimizer"]["name"], c["optimizer"].get("nesterov")) for c in configs}
    assert keys == {("adam", None), ("sgd", True), ("sgd", False)}
    assert len({str(sorted(c.items())) for c in configs}) == 18


def test_grid_draws_numeric_parameters_per_config_from_rng() -> None:
    configs = CONDITIONAL.grid_configs(random.Random(0))
    dropouts = [c["regularization"]["dropout"] for c in configs]
    assert all(0.0 <= d <= 0.5 for d in dropouts) and len(set(dropouts)) == len(dropouts)
    assert configs == CONDITIONAL.grid_configs(random.Random(0))
    assert configs != CONDITIONAL.grid_configs(random.Random(1))


@pytest.mark.parametrize(("task", "input_kind"), [("multiclass", "tabular"), ("binary", "image")])
def test_quick_grid_size(task: str, input_kind: str) -> None:
    space = load_space("quick").specialize(task, input_kind)
    # mlp widths 2 (+ cnn channels 2 on images) x 3 optimizers x 3 schedules x 1 loss x 2 batches
    models = 2 if input_kind == "tabular" else 4
    assert space.grid_size() == len(space.grid_configs(random.Random(0))) == models * 3 * 3 * 2


# -- covering set -------------------------------------------------------------------------


def test_covering_configs_take_every_option_and_both_ends(
    fitted: tuple[Space, str, str], value_at: Callable, label_of: Callable
) -> None:
    space, task, input_kind = fitted
    configs = space.covering_configs()
    for decision in space.decisions(num_bins=2):  # 2 bins: a range's low and top
        seen = set()
        for config in configs:
            found, value = value_at(config, decision.path)
            if found:
                seen.add(value if decision.numeric else label_of(value))
        assert seen >= set(decision.options), decision.path
    assert len(configs) < 40


def test_covering_set_of_a_nested_space() -> None:
    configs = CONDITIONAL.covering_configs()
    lrs = {c["optimizer"]["lr"] for c in configs if c["optimizer"]["name"] == "adam"}
    nesterovs = {c["optimizer"].get("nesterov") for c in configs if c["optimizer"]["name"] == "sgd"}
    assert lrs == {1e-4, 1e-2} and nesterovs == {True, False}
    assert {c["training"]["batch_size"] for c in configs} == {32, 64, 128}
    assert {c["regularization"]["dropout"] for c in configs} == {0.0, 0.5}


def test_covering_takes_the_last_quantized_step_below_high() -> None:
    space = Space.from_dict({"regularization": {"dropout": quantized(0.0, 0.55, 0.1)}})
    assert [c["regularization"]["dropout"] for c in space.covering_configs()] == [0.0, 0.5]


# -- Optuna -------------------------------------------------------------------------------


def test_define_by_run_drives_a_real_optuna_study(
    fitted: tuple[Space, str, str],
    vocabulary_check: Callable,
    value_at: Callable,
    label_of: Callable,
) -> None:
    space, task, input_kind = fitted
    paths = set(space.parameter_paths())
    configs = {}

    def objective(trial: optuna.Trial) -> float:
        configs[trial.number] = space.define_by_run(trial)
        return configs[trial.number]["optimizer"]["lr"]

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
    study.optimize(objective, n_trials=25)
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in study.trials)
    for trial in study.trials:
        config = configs[trial.number]
        vocabulary_check(config, task, input_kind)
        assert set(trial.params) <= paths
        for path, param in trial.params.items():
            found, value = value_at(config, path)
            assert found, path
            assert (label_of(value) if isinstance(value, dict) else value) == param


def test_define_by_run_names_conditional_parameters_by_option() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: len(str(CONDITIONAL.define_by_run(trial))), n_trials=30)
    names = {frozenset(trial.params) for trial in study.trials}
    adam = {"optimizer", "optimizer[adam].lr", "regularization.dropout"}
    sgd = {"optimizer", "optimizer[sgd].nesterov", "regularization.dropout"}
    common = {"regularization.batch_norm", "training.batch_size"}
    assert names == {frozenset(adam | common), frozenset(sgd | common)}


def test_define_by_run_uses_log_and_step_distributions() -> None:
    space = Space.from_dict(
        {
            "optimizer": {"name": "adam", "lr": loguniform(1e-4, 1e-1)},
            "model": {
                "family": "mlp",
                "width": integer(8, 512, log=True),
                "depth": quantized(1, 9, 2),
            },
            "regularization": {
                "dropout": quantized(0.0, 0.55, 0.1),
                "l2": quantized(1e-4, 1e-2, 1e-4, log=True),
            },
        }
    )
    trial = optuna.create_study().ask()
    config = space.define_by_run(trial)
    distributions = trial.distributions
    assert distributions["optimizer.lr"] == optuna.distributions.FloatDistribution(
        1e-4, 1e-1, log=True
    )
    assert distributions["model.width"] == optuna.distributions.IntDistribution(8, 512, log=True)
    assert distributions["model.depth"] == optuna.distributions.IntDistribution(1, 9, step=2)
    assert distributions["regularization.dropout"] == optuna.distributions.FloatDistribution(
        0.0, 0.5, step=0.1
    )
    l2 = config["regularization"]["l2"]
    assert math.isclose(round(l2 / 1e-4) * 1e-4, l2) and 1e-4 <= l2 <= 1e-2


# -- Nevergrad ----------------------------------------------------------------------------


def test_nevergrad_round_trip(fitted: tuple[Space, str, str], vocabulary_check: Callable) -> None:
    space, task, input_kind = fitted
    parameter = space.to_nevergrad()
    parameter.random_state = np.random.RandomState(0)
    for _ in range(15):  # Nevergrad copies the whole tree per sample: slow on default.yaml
        config = space.from_nevergrad(parameter.sample().value)
        vocabulary_check(config, task, input_kind)


def test_nevergrad_is_seedable_and_keeps_conditionals() -> None:
    def draw(seed: int) -> list[dict[str, Any]]:
        parameter = CONDITIONAL.to_nevergrad()
        parameter.random_state = np.random.RandomState(seed)
        return [CONDITIONAL.from_nevergrad(parameter.sample().value) for _ in range(40)]

    configs = draw(3)
    assert configs == draw(3) and configs != draw(4)
    for config in configs:
        assert (
            set(config["optimizer"])
            == {"adam": {"name", "lr"}, "sgd": {"name", "lr", "nesterov"}}[
                config["optimizer"]["name"]
            ]
        )
    assert {c["optimizer"]["name"] for c in configs} == {"adam", "sgd"}


def test_nevergrad_parameters_use_log_and_integer_casting() -> None:
    import nevergrad as ng

    space = Space.from_dict(
        {"model": {"family": "mlp", "depth": integer(1, 4), "width": integer(8, 512, log=True)}}
    )
    parameter = space.to_nevergrad()
    assert isinstance(parameter["model"]["width"], ng.p.Log)
    parameter.random_state = np.random.RandomState(0)
    models = [space.from_nevergrad(parameter.sample().value)["model"] for _ in range(100)]
    assert {m["depth"] for m in models} == {1, 2, 3, 4}
    assert all(type(m["width"]) is int and 8 <= m["width"] <= 512 for m in models)


def test_nevergrad_optimizer_ask_and_tell() -> None:
    import nevergrad as ng

    space = load_space("quick").specialize("multiclass", "image")
    parameter = space.to_nevergrad()
    parameter.random_state = np.random.RandomState(0)
    optimizer = ng.optimizers.NGOpt(parametrization=parameter, budget=12)
    for _ in range(12):
        candidate = optimizer.ask()
        config = space.from_nevergrad(candidate.value)
        optimizer.tell(candidate, config["optimizer"]["lr"])
    assert space.from_nevergrad(optimizer.provide_recommendation().value)["model"]["family"] in {
        "mlp",
        "cnn",
    }


# -- decision sequences -------------------------------------------------------------------


def random_choices(decisions: list, rng: random.Random) -> list[int]:
    return [rng.randrange(len(decision.options)) for decision in decisions]


def test_every_decision_sequence_makes_a_valid_config(
    fitted: tuple[Space, str, str], vocabulary_check: Callable
) -> None:
    space, task, input_kind = fitted
    decisions = space.decisions()
    rng = random.Random(0)
    for _ in range(200):
        vocabulary_check(
            space.config_from_decisions(random_choices(decisions, rng)), task, input_kind
        )


def test_decisions_enumerate_exactly_the_discrete_space() -> None:
    space = Space.from_dict(
        {
            "optimizer": choice(
                [{"name": "adam"}, {"name": "sgd", "nesterov": choice([True, False])}]
            ),
            "model": {"family": "mlp", "depth": integer(1, 3)},
        }
    )
    decisions = space.decisions()
    assert [d.options for d in decisions] == [("adam", "sgd"), (True, False), (1, 2, 3)]
    sequences = itertools.product(*(range(len(d.options)) for d in decisions))
    configs = {str(space.config_from_decisions(list(sequence))) for sequence in sequences}
    assert len(configs) == (1 + 2) * 3


def test_inactive_decisions_are_skipped() -> None:
    space = load_space("default").specialize("multiclass", "sequence")
    decisions = space.decisions()
    rng = random.Random(0)
    for _ in range(10):
        choices = random_choices(decisions, rng)
        config = space.config_from_decisions(choices)
        active = set(active_decisions(decisions, choices))
        assert 0 < len(active) < len(decisions)
        for index in set(range(len(decisions))) - active:
            changed = list(choices)
            changed[index] = (choices[index] + 1) % len(decisions[index].options)
            assert space.config_from_decisions(changed) == config
            changed[index] = -1  # out of range, but never read
            assert space.config_from_decisions(changed) == config


def test_decisions_record_the_option_that_activates_them() -> None:
    decisions = CONDITIONAL.decisions()
    paths = [d.path for d in decisions]
    optimizer = paths.index("optimizer")
    assert decisions[paths.index("optimizer[adam].lr")].parent == (optimizer, (0,))
    assert decisions[paths.index("optimizer[sgd].nesterov")].parent == (optimizer, (1,))
    assert decisions[paths.index("training.batch_size")].parent is None
    assert all(d.parent is None or d.parent[0] < i for i, d in enumerate(decisions))


def test_bins_are_log_spaced_on_log_ranges_and_deduplicated_for_ints() -> None:
    space = Space.from_dict(
        {
            "optimizer": {"name": "adam", "lr": loguniform(1e-4, 1e-1)},
            "regularization": {"dropout": uniform(0.0, 0.4)},
            "model": {"family": "mlp", "depth": integer(1, 3), "width": integer(1, 1000, log=True)},
        }
    )
    bins = {d.path: d.options for d in space.decisions(num_bins=4)}
    assert all(d.numeric for d in space.decisions())
    assert np.allclose(bins["optimizer.lr"], [1e-4, 1e-3, 1e-2, 1e-1])
    assert np.allclose(bins["regularization.dropout"], [0.0, 0.4 / 3, 0.8 / 3, 0.4])
    assert bins["model.depth"] == (1, 2, 3)
    assert bins["model.width"] == (1, 10, 100, 1000)


def test_bad_decision_sequences_are_space_errors() -> None:
    decisions = CONDITIONAL.decisions()
    with pytest.raises(SpaceError, match="one per decision"):
        CONDITIONAL.config_from_decisions([0])
    with pytest.raises(SpaceError, match=r"choices\[0\] \(optimizer\)"):
        CONDITIONAL.config_from_decisions([2] + [0] * (len(decisions) - 1))
    with pytest.raises(SpaceError, match="num_bins"):
        CONDITIONAL.decisions(num_bins=1)


def test_numpy_option_indices_are_accepted() -> None:
    choices = np.zeros(len(CONDITIONAL.decisions()), dtype=np.int64)
    assert CONDITIONAL.config_from_decisions(list(choices))["optimizer"]["name"] == "adam"


# -- documentation ------------------------------------------------------------------------

MODULES = [
    importlib.import_module(f"automl_nn.space.{info.name}")
    for info in pkgutil.iter_modules(space_package.__path__)
]


@pytest.mark.parametrize("module", [space_package, *MODULES], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
