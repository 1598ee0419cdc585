"""ConfigEnsemble and mean_prediction: different configs, their predictions averaged."""

from __future__ import annotations

import pytest
import torch

from automl_nn import FitResult, evaluate, fit
from automl_nn.errors import ConfigError
from automl_nn.training import (
    ConfigEnsemble,
    SeedEnsemble,
    config_ensemble_result,
    ensemble_size,
    fit_seed_ensemble,
    mean_prediction,
    on_cpu,
    predict,
)
from tests.training.conftest import mlp_config

DIVERGING = mlp_config(
    optimizer={"name": "sgd", "lr": 1e12}, training={"batch_size": 8, "epochs": 10}
)
HINGE = mlp_config(loss={"name": "hinge"})


def test_regression_outputs_are_averaged() -> None:
    outputs = [torch.tensor([[1.0], [4.0]]), torch.tensor([[3.0], [0.0]])]
    averaged = mean_prediction(outputs, classification=False)
    assert torch.equal(averaged, torch.tensor([[2.0], [2.0]]))


def test_class_probabilities_are_averaged_not_logits() -> None:
    # Two members lean to class 1; a third, with logits 4x larger, is sure of class 0.
    # Mean logits would follow the loud one; mean probabilities follow the majority.
    leaning = torch.tensor([[0.0, 2.0]])
    loud = torch.tensor([[9.0, 0.0]])
    averaged = mean_prediction([leaning, leaning, loud], classification=True)
    expected = (2 * torch.softmax(leaning, -1) + torch.softmax(loud, -1)) / 3
    assert torch.allclose(averaged.exp(), expected, atol=1e-6)
    assert averaged.argmax(-1).item() == 1
    assert ((2 * leaning + loud) / 3).argmax(-1).item() == 0


def test_one_logit_members_give_the_logit_of_their_mean_probability() -> None:
    outputs = [torch.tensor([[0.0], [3.0]]), torch.tensor([[2.0], [-1.0]])]
    averaged = mean_prediction(outputs, classification=True)
    assert averaged.shape == (2, 1)
    expected = (torch.sigmoid(outputs[0]) + torch.sigmoid(outputs[1])) / 2
    assert torch.allclose(torch.sigmoid(averaged), expected, atol=1e-6)


def test_a_one_logit_member_joins_two_logit_members_as_two_classes() -> None:
    one_logit, two_logits = torch.tensor([[1.5]]), torch.tensor([[0.5, -0.5]])
    averaged = mean_prediction([one_logit, two_logits], classification=True)
    positive = (torch.sigmoid(one_logit[0, 0]) + torch.softmax(two_logits, -1)[0, 1]) / 2
    assert averaged.shape == (1, 2)
    assert averaged.exp()[0, 1].item() == pytest.approx(positive.item(), abs=1e-6)
    assert averaged.exp().sum().item() == pytest.approx(1.0, abs=1e-6)


def test_no_output_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        mean_prediction([], classification=True)


def test_members_trained_with_different_losses_are_averaged_by_probability(wine) -> None:
    members = [fit(mlp_config(), wine, seed=0).model, fit(HINGE, wine, seed=1).model]
    ensemble = ConfigEnsemble(members, classification=True).eval()
    x = wine.x_test
    expected = sum(torch.softmax(predict(member, x), -1) for member in members) / 2
    assert torch.allclose(predict(ensemble, x).exp(), expected, atol=1e-5)
    metrics = evaluate(ensemble, wine, "test", loss={"name": "cross_entropy"})
    assert metrics["loss"] == pytest.approx(metrics["log_loss"], abs=1e-5)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")  # branches on fixed widths
def test_a_seed_ensemble_can_be_a_member_and_the_whole_traces(wine) -> None:
    seeds = fit_seed_ensemble(lambda seed: fit(mlp_config(), wine, seed=seed), [0, 1])
    other = fit(HINGE, wine, seed=2)
    ensemble = ConfigEnsemble([seeds.model, other.model], classification=True).eval()
    x = wine.x_test[:8]
    traced = torch.jit.trace(on_cpu(ensemble), x)  # as export() traces: on the CPU
    assert torch.allclose(traced(x), predict(ensemble, x), atol=1e-6)


def test_the_result_of_several_configs_is_their_ensemble(wine) -> None:
    first, second = fit(mlp_config(), wine, seed=0), fit(HINGE, wine, seed=0)
    result = config_ensemble_result([first, second], classification=True)
    assert isinstance(result.model, ConfigEnsemble) and result.members == [first, second]
    assert result.config == first.config and result.history == first.history
    assert result.num_parameters == first.num_parameters + second.num_parameters
    assert result.seconds == pytest.approx(first.seconds + second.seconds)
    assert ensemble_size(result) == (2, 1)


def test_one_config_gives_its_own_result() -> None:
    alone = FitResult({}, [], {}, torch.nn.Linear(2, 2), 6, "completed", 0.1)
    assert config_ensemble_result([alone], classification=True) is alone
    assert ensemble_size(alone) == (1, 1)


def test_a_diverged_config_is_left_out_of_the_mean(wine) -> None:
    kept, diverged = fit(mlp_config(), wine, seed=0), fit(DIVERGING, wine, seed=0)
    assert diverged.status == "diverged"
    result = config_ensemble_result([kept, diverged], classification=True)
    assert len(result.model.members) == 1 and result.status == kept.status
    alone = ConfigEnsemble([kept.model], classification=True).eval()
    assert torch.equal(predict(result.model, wine.x_test), predict(alone, wine.x_test))


def test_the_size_of_configs_from_several_seeds(wine) -> None:
    def seeded(config: dict) -> FitResult:
        return fit_seed_ensemble(lambda seed: fit(config, wine, seed=seed), [0, 1, 2])

    result = config_ensemble_result([seeded(mlp_config()), seeded(HINGE)], classification=True)
    assert isinstance(result.model.members[0], SeedEnsemble)
    assert ensemble_size(result) == (2, 3)
    assert ensemble_size(result.members[0]) == (1, 3)


def test_no_config_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as caught:
        config_ensemble_result([], classification=True)
    assert caught.value.field == "results"
