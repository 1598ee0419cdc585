"""One test per knob of the config, showing that it takes effect."""

from __future__ import annotations

import math

import pytest
import torch

from automl_nn import fit
from automl_nn.training import (
    GradientRules,
    LearningRateSchedule,
    build_loss,
    build_optimizer,
    model_device,
)
from automl_nn.training._augment import augment
from automl_nn.training._fit import _batch_starts
from automl_nn.vocabulary import CYCLIC_MODES, OPTIMIZERS
from tests.training.conftest import mlp_config


def weights_of(result) -> torch.Tensor:
    return torch.cat(
        [p.detach().flatten() for n, p in result.model.named_parameters() if "weight" in n]
    )


def lr_history(result) -> list[float]:
    return [row["lr"] for row in result.history]


# Optimizers ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_trains(wine, name: str) -> None:
    lr = 0.05 if name in ("sgd", "adagrad") else 0.01
    result = fit(
        mlp_config(optimizer={"name": name, "lr": lr}, training={"batch_size": 16, "epochs": 5}),
        wine,
    )
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_momentum_changes_the_trajectory(wine) -> None:
    plain = fit(mlp_config(optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.0}), wine)
    heavy = fit(mlp_config(optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.9}), wine)
    assert plain.history[-1]["train_loss"] != heavy.history[-1]["train_loss"]
    assert not torch.equal(weights_of(plain), weights_of(heavy))


def test_nesterov_changes_the_trajectory(wine) -> None:
    base = {"name": "sgd", "lr": 0.01, "momentum": 0.9}
    classic = fit(mlp_config(optimizer={**base, "nesterov": False}), wine)
    nesterov = fit(mlp_config(optimizer={**base, "nesterov": True}), wine)
    assert not torch.equal(weights_of(classic), weights_of(nesterov))


def test_adam_betas_reach_the_optimizer() -> None:
    model = torch.nn.Linear(2, 1)
    opt = build_optimizer(
        {"name": "adam", "lr": 0.1, "beta1": 0.5, "beta2": 0.9},
        list(model.parameters()),
        weight_decay=0,
    )
    assert opt.param_groups[0]["betas"] == (0.5, 0.9)


@pytest.mark.parametrize(("batch_size", "steps"), [("full", 1), (16, 8), (1, 113)])
def test_batch_gradient_descent_minibatch_and_pure_stochastic(wine, batch_size, steps) -> None:
    assert len(_batch_starts(len(wine.y_train), batch_size, batch_norm=False)) == steps
    # one_cycle moves the rate every step, so its last value tells how many steps ran.
    config = mlp_config(
        schedule={"name": "cosine"}, training={"batch_size": batch_size, "epochs": 1}
    )
    result = fit(config, wine)
    expected = LearningRateSchedule(
        {"name": "cosine", "min_lr": 0.0, "warmup_epochs": 0},
        lr=0.05,
        epochs=1,
        steps_per_epoch=steps,
    ).lr_at(0, steps - 1)
    assert result.history[0]["lr"] == pytest.approx(expected)


def test_batch_norm_drops_a_last_batch_of_one_sample() -> None:
    assert _batch_starts(33, 16, batch_norm=True) == [(0, 16), (16, 32)]
    assert _batch_starts(33, 16, batch_norm=False)[-1] == (32, 33)


# Schedules -------------------------------------------------------------------------------


def test_step_decay_gives_the_expected_learning_rates(wine) -> None:
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 0.08},
        schedule={"name": "step", "step_size": 2, "gamma": 0.5},
        training={"batch_size": 32, "epochs": 6},
    )
    assert lr_history(fit(config, wine)) == pytest.approx([0.08, 0.08, 0.04, 0.04, 0.02, 0.02])


def test_exponential_decay(wine) -> None:
    config = mlp_config(
        schedule={"name": "exponential", "gamma": 0.5}, training={"batch_size": 32, "epochs": 4}
    )
    assert lr_history(fit(config, wine)) == pytest.approx([0.05, 0.025, 0.0125, 0.00625])


def test_constant_schedule_keeps_the_rate(wine) -> None:
    assert lr_history(fit(mlp_config(schedule={"name": "constant"}), wine)) == [0.05] * 3


def test_cosine_reaches_its_minimum_at_the_end() -> None:
    schedule = LearningRateSchedule(
        {"name": "cosine", "min_lr": 0.001, "warmup_epochs": 0},
        lr=0.1,
        epochs=10,
        steps_per_epoch=5,
    )
    assert schedule.lr_at(0, 0) == pytest.approx(0.1)
    assert schedule.lr_at(5, 0) == pytest.approx(0.0505)
    assert schedule.lr_at(9, 4) == pytest.approx(0.001, abs=2e-4)


@pytest.mark.parametrize("mode", CYCLIC_MODES)
def test_cyclic_matches_torch_cycliclr(mode: str) -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    reference = torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=0.1, max_lr=1.0, step_size_up=20, mode=mode, gamma=0.99
    )
    ours = LearningRateSchedule(
        {"name": "cyclic", "mode": mode, "base_lr_ratio": 0.1, "cycle_epochs": 4, "gamma": 0.99,
         "warmup_epochs": 0},
        lr=1.0, epochs=10, steps_per_epoch=10,
    )  # fmt: skip
    for step in range(100):
        assert ours.lr_at(step // 10, step % 10) == pytest.approx(opt.param_groups[0]["lr"])
        opt.step()
        reference.step()


def test_one_cycle_matches_torch_onecyclelr() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    reference = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=60, pct_start=0.25)
    ours = LearningRateSchedule(
        {"name": "one_cycle", "pct_start": 0.25, "div_factor": 25.0, "final_div_factor": 1e4,
         "warmup_epochs": 0},
        lr=1.0, epochs=6, steps_per_epoch=10,
    )  # fmt: skip
    for step in range(60):
        assert ours.lr_at(step // 10, step % 10) == pytest.approx(opt.param_groups[0]["lr"])
        opt.step()
        if step < 59:
            reference.step()


def test_plateau_reduces_the_rate_when_validation_loss_stalls() -> None:
    schedule = LearningRateSchedule(
        {"name": "plateau", "factor": 0.5, "patience": 1, "threshold": 0.0, "min_lr": 0.0,
         "warmup_epochs": 0},
        lr=0.2, epochs=10, steps_per_epoch=1,
    )  # fmt: skip
    rates = []
    for epoch, val_loss in enumerate([1.0, 0.9, 0.9, 0.9, 0.9, 0.8]):
        rates.append(schedule.lr_at(epoch, 0))
        schedule.end_epoch(val_loss)
    assert rates == pytest.approx([0.2, 0.2, 0.2, 0.2, 0.1, 0.1])


def test_plateau_in_fit_reduces_when_training_cannot_improve(wine) -> None:
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 1e-9},
        schedule={"name": "plateau", "patience": 0, "factor": 0.1, "threshold": 0.01},
        training={"batch_size": 32, "epochs": 3},
    )
    # Epoch 1 improves on nothing; epochs 2 and 3 gain nothing, so each cuts the next rate.
    assert lr_history(fit(config, wine)) == pytest.approx([1e-9, 1e-9, 1e-10])


def test_a_plateau_given_replayed_scales_follows_them_and_not_its_validation_loss() -> None:
    schedule = LearningRateSchedule(
        {"name": "plateau", "factor": 0.5, "patience": 0, "threshold": 0.0, "min_lr": 0.01,
         "warmup_epochs": 1, "replayed_scales": [1.0, 1.0, 0.25, 0.01]},
        lr=0.2, epochs=6, steps_per_epoch=2,
    )  # fmt: skip
    rates = []
    for epoch in range(6):
        rates += [schedule.lr_at(epoch, step) for step in range(2)]
        schedule.end_epoch(10.0 + epoch)  # a stalled loss would cut the rate every epoch
    # Warm-up first; then the scales by epoch, floored at min_lr; the last holds after them.
    assert rates == pytest.approx(
        [0.1, 0.2, 0.2, 0.2, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]
    )


def test_fit_of_a_plateau_with_replayed_scales_trains_at_those_rates(wine) -> None:
    scales = [1.0, 0.5, 0.5, 0.125]
    config = mlp_config(
        optimizer={"name": "sgd", "lr": 0.04},
        schedule={"name": "plateau", "patience": 0, "threshold": 0.5, "replayed_scales": scales},
        training={"batch_size": 32, "epochs": 4},
    )
    assert lr_history(fit(config, wine)) == pytest.approx([0.04 * s for s in scales])


def test_linear_warmup_in_front_of_any_schedule() -> None:
    schedule = LearningRateSchedule(
        {"name": "step", "step_size": 1, "gamma": 0.5, "warmup_epochs": 2}, lr=1.0, epochs=5,
        steps_per_epoch=2,
    )  # fmt: skip
    rates = [schedule.lr_at(epoch, step) for epoch in range(5) for step in range(2)]
    assert rates == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25])


# Losses ----------------------------------------------------------------------------------


def test_cross_entropy_label_smoothing_changes_the_loss() -> None:
    logits, y = torch.tensor([[4.0, 0.0, 0.0]]), torch.tensor([0])
    plain = build_loss({"name": "cross_entropy", "label_smoothing": 0.0})(logits, y)
    smoothed = build_loss({"name": "cross_entropy", "label_smoothing": 0.3})(logits, y)
    assert float(smoothed) > float(plain)


def test_focal_loss_with_gamma_zero_is_cross_entropy_and_down_weights_easy_samples() -> None:
    logits, y = torch.tensor([[3.0, 0.0], [0.2, 0.0]]), torch.tensor([0, 0])
    ce = torch.nn.functional.cross_entropy(logits, y)
    assert float(build_loss({"name": "focal", "gamma": 0.0})(logits, y)) == pytest.approx(float(ce))
    easy, hard = logits[:1], logits[1:]
    focal = build_loss({"name": "focal", "gamma": 2.0})
    ce_ratio = float(
        torch.nn.functional.cross_entropy(easy, y[:1])
        / torch.nn.functional.cross_entropy(hard, y[:1])
    )
    assert float(focal(easy, y[:1]) / focal(hard, y[:1])) < ce_ratio


def test_hinge_is_the_multi_class_margin_loss() -> None:
    logits, y = torch.tensor([[1.0, 0.5, -1.0]]), torch.tensor([0])
    # margin 1: max(0, 1 - 1 + 0.5) + max(0, 1 - 1 - 1) over 3 classes.
    assert float(build_loss({"name": "hinge", "margin": 1.0})(logits, y)) == pytest.approx(0.5 / 3)


def test_huber_delta_switches_between_quadratic_and_linear() -> None:
    out, y = torch.zeros(1, 1), torch.tensor([3.0])
    assert float(build_loss({"name": "huber", "delta": 1.0})(out, y)) == pytest.approx(2.5)
    assert float(build_loss({"name": "huber", "delta": 5.0})(out, y)) == pytest.approx(4.5)
    assert float(build_loss({"name": "mse"})(out, y)) == pytest.approx(9.0)


def test_bce_is_binary_cross_entropy_on_one_logit() -> None:
    out, y = torch.tensor([[0.0], [2.0]]), torch.tensor([1, 0])
    expected = (math.log(2) + math.log(1 + math.exp(2))) / 2
    assert float(build_loss({"name": "bce"})(out, y)) == pytest.approx(expected)


# Regularization --------------------------------------------------------------------------


def test_l1_shrinks_weights_toward_zero(wine) -> None:
    base = fit(mlp_config(training={"batch_size": 16, "epochs": 8}), wine)
    sparse = fit(
        mlp_config(regularization={"l1": 0.05}, training={"batch_size": 16, "epochs": 8}), wine
    )
    assert weights_of(sparse).abs().sum() < 0.8 * weights_of(base).abs().sum()
    small = (weights_of(sparse).abs() < 1e-2).float().mean()
    assert small > (weights_of(base).abs() < 1e-2).float().mean()


def test_l2_shrinks_the_weight_norm(wine) -> None:
    base = fit(mlp_config(training={"batch_size": 16, "epochs": 8}), wine)
    ridge = fit(
        mlp_config(regularization={"l2": 0.05}, training={"batch_size": 16, "epochs": 8}), wine
    )
    assert weights_of(ridge).norm() < 0.9 * weights_of(base).norm()


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_decoupled_weight_decay_shrinks_the_weight_norm(wine, optimizer: str) -> None:
    opt = {"name": optimizer, "lr": 0.05}
    base = fit(mlp_config(optimizer=opt, training={"batch_size": 16, "epochs": 8}), wine)
    decayed = fit(
        mlp_config(
            optimizer=opt,
            regularization={"weight_decay": 0.5},
            training={"batch_size": 16, "epochs": 8},
        ),
        wine,
    )
    assert weights_of(decayed).norm() < 0.9 * weights_of(base).norm()


def test_gradient_clipping_bounds_the_gradient_norm() -> None:
    weights = [torch.nn.Parameter(torch.ones(4)), torch.nn.Parameter(torch.ones(2))]
    for w in weights:
        w.grad = torch.full_like(w, 50.0)
    rules = {"l1": 0.0, "l2": 0.0, "weight_decay": 0.0, "grad_clip": 0.5}
    GradientRules(rules, optimizer_name="sgd").apply(weights, lr=0.1)
    assert torch.cat([w.grad for w in weights]).norm() == pytest.approx(0.5, rel=1e-4)


def test_gradient_clipping_changes_training(wine) -> None:
    opt = {"name": "sgd", "lr": 0.5}
    free = fit(mlp_config(optimizer=opt), wine)
    clipped = fit(mlp_config(optimizer=opt, regularization={"grad_clip": 0.01}), wine)
    assert not torch.equal(weights_of(free), weights_of(clipped))


def test_dropout_is_active_in_training_only(wine) -> None:
    result = fit(mlp_config(regularization={"dropout": 0.5}), wine)
    model = result.model
    x = wine.x_val.to(model_device(model))  # fit trains on the GPU where there is one
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def test_batch_norm_switch_adds_batch_norm_layers(wine) -> None:
    def has_batch_norm(result) -> bool:
        return any(
            isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in result.model.modules()
        )

    assert has_batch_norm(fit(mlp_config(regularization={"batch_norm": True}), wine))
    assert not has_batch_norm(fit(mlp_config(regularization={"batch_norm": False}), wine))


@pytest.mark.parametrize(
    ("shape", "augmentation"),
    [
        ((8, 1, 20), {"name": "sequence", "shift": 0.2, "scale": 0.1, "noise": 0.05}),
        ((8, 1, 8, 8), {"name": "image", "rotation": 20.0, "scaling": 0.1, "flip": True}),
        ((8, 5), {"name": "noise", "std": 0.1}),
        ((8, 5), {"name": "mixup", "alpha": 0.4}),
    ],
)
def test_augmentation_changes_the_batch_and_leaves_the_source_alone(shape, augmentation) -> None:
    x = torch.randn(shape)
    original = x.clone()
    augmented, _ = augment(x, torch.arange(8) % 2, augmentation, torch.Generator().manual_seed(0))
    assert augmented.shape == x.shape and not torch.equal(augmented, x)
    assert torch.equal(x, original)


def test_augmentation_changes_training_batches_only(tiny_sequences) -> None:
    seen_val = tiny_sequences.x_val.clone()
    plain = fit(mlp_config(), tiny_sequences)
    augmented = fit(
        mlp_config(regularization={"augmentation": {"name": "sequence", "shift": 0.25}}),
        tiny_sequences,
    )
    assert plain.history[0]["train_loss"] != augmented.history[0]["train_loss"]
    assert torch.equal(tiny_sequences.x_val, seen_val)
