"""SeedEnsemble and fit_seed_ensemble: one config from several seeds, outputs averaged."""

from __future__ import annotations

import pytest
import torch

from automl_nn import FitResult, evaluate, fit
from automl_nn.errors import ConfigError
from automl_nn.training import SeedEnsemble, fit_seed_ensemble, on_cpu, predict
from tests.training.conftest import mlp_config, without_timings

DIVERGING = mlp_config(
    optimizer={"name": "sgd", "lr": 1e12}, training={"batch_size": 8, "epochs": 10}
)


def test_the_ensemble_outputs_the_mean_of_its_members_outputs(wine) -> None:
    members = [fit(mlp_config(), wine, seed=seed).model for seed in (0, 1, 2)]
    x = wine.x_test
    expected = sum(predict(member, x) for member in members) / 3
    assert torch.allclose(predict(SeedEnsemble(members), x), expected, atol=1e-6)


def test_each_member_trains_from_its_own_seed(wine) -> None:
    result = fit_seed_ensemble(lambda seed: fit(mlp_config(), wine, seed=seed), [4, 5])
    assert isinstance(result.model, SeedEnsemble) and len(result.members) == 2
    for member, seed in zip(result.members, (4, 5), strict=True):
        alone = fit(mlp_config(), wine, seed=seed)
        assert without_timings(member.history) == without_timings(alone.history)
    first, second = (member.model for member in result.members)
    assert not torch.equal(predict(first, wine.x_val), predict(second, wine.x_val))
    assert result.num_parameters == 2 * result.members[0].num_parameters
    assert result.history == result.members[0].history
    assert result.seconds == pytest.approx(sum(member.seconds for member in result.members))


def test_one_seed_gives_the_plain_model(wine) -> None:
    result = fit_seed_ensemble(lambda seed: fit(mlp_config(), wine, seed=seed), [3])
    assert not isinstance(result.model, SeedEnsemble) and result.members == []
    alone = fit(mlp_config(), wine, seed=3)
    assert without_timings(result.history) == without_timings(alone.history)


def test_a_diverged_member_is_left_out_of_the_mean(wine) -> None:
    def train(seed: int) -> FitResult:
        return fit(DIVERGING if seed == 1 else mlp_config(), wine, seed=seed)

    result = fit_seed_ensemble(train, [0, 1, 2])
    assert [member.status for member in result.members] == ["completed", "diverged", "completed"]
    assert len(result.model.members) == 2
    assert (
        evaluate(result.model, wine, "test")["accuracy"]
        == evaluate(SeedEnsemble([result.members[0].model, result.members[2].model]), wine, "test")[
            "accuracy"
        ]
    )


def test_an_ensemble_traces_to_torchscript_with_the_same_outputs(wine) -> None:
    result = fit_seed_ensemble(lambda seed: fit(mlp_config(), wine, seed=seed), [0, 1])
    x = wine.x_test[:8]
    traced = torch.jit.trace(on_cpu(result.model), x)  # as export() traces: on the CPU
    assert torch.allclose(traced(x), predict(result.model, x), atol=1e-6)


def test_no_seed_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as caught:
        fit_seed_ensemble(lambda seed: pytest.fail("nothing may train"), [])
    assert caught.value.field == "seeds"
