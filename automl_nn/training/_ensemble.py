"""Ensembles: one config trained from several seeds, and the top configs of a search."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from automl_nn.errors import ConfigError
from automl_nn.training._fit import FitResult

# Keeps the logit of a mean probability finite when every member is certain.
_PROBABILITY_EPS = 1e-7


class SeedEnsemble(torch.nn.Module):
    """Models of one config trained from different seeds; its output is the mean of theirs.

    The mean is taken over raw outputs: logits for a classifier (the softmax of the mean
    logits is the normalized geometric mean of the members' probabilities, and every loss
    of the vocabulary still applies to it), predictions for a regressor. It is an ordinary
    module: :func:`~automl_nn.training.evaluate`, ``torch.jit.trace`` and MLflow take it as
    they take one model.

    Example:
        >>> members = [torch.nn.Linear(3, 2) for _ in range(2)]
        >>> x = torch.ones(1, 3)
        >>> bool(torch.allclose(SeedEnsemble(members)(x), (members[0](x) + members[1](x)) / 2))
        True
    """

    def __init__(self, members: Sequence[torch.nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a SeedEnsemble needs at least one member")
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


def fit_seed_ensemble(train_one: Callable[[int], FitResult], seeds: Sequence[int]) -> FitResult:
    """Train one model per seed with ``train_one(seed)``; one FitResult for their mean.

    A single seed gives that model's FitResult itself. Otherwise the result's ``model`` is a
    :class:`SeedEnsemble` of the members that did not diverge (all of them when each did),
    ``members`` holds every member's FitResult, ``config``, ``history`` and ``metrics`` are
    the first member's, ``status`` the first kept member's, ``num_parameters`` is summed
    over the ensemble and ``seconds`` over every member.
    """
    if not seeds:
        raise ConfigError("seeds", list(seeds), "one seed or more")
    results = [train_one(seed) for seed in seeds]
    if len(results) == 1:
        return results[0]
    kept = _not_diverged(results)
    first = results[0]
    return FitResult(
        config=first.config,
        history=first.history,
        metrics=first.metrics,
        model=SeedEnsemble([result.model for result in kept]).eval(),
        num_parameters=sum(result.num_parameters for result in kept),
        status=kept[0].status,
        seconds=sum(result.seconds for result in results),
        members=results,
    )


def mean_prediction(outputs: Sequence[torch.Tensor], *, classification: bool) -> torch.Tensor:
    """The mean prediction of models that may differ in loss, width and scale of outputs.

    Regression: the mean of the outputs. Classes: the log of the mean of the members'
    probabilities (softmax; a one-logit member's sigmoid, as two classes), so a member
    trained with hinge or focal loss weighs in by its probabilities, not by the scale of its
    logits. Every member one logit: one logit back (that of the mean probability); else
    one log-probability per class, which :func:`~automl_nn.training.evaluate` and its
    metrics read as logits.

    Example:
        >>> one_logit, two_logits = torch.tensor([[0.0]]), torch.tensor([[0.0, 2.0]])
        >>> mean_prediction([one_logit, two_logits], classification=True).exp().sum().item()
        1.0
    """
    if not outputs:
        raise ValueError("a mean prediction needs at least one output")
    if not classification:
        return torch.stack(list(outputs)).mean(dim=0)
    if all(output.shape[-1] == 1 for output in outputs):
        probability = torch.stack([torch.sigmoid(output) for output in outputs]).mean(dim=0)
        return torch.logit(probability, eps=_PROBABILITY_EPS)
    log_probabilities = [_class_log_probabilities(output) for output in outputs]
    return torch.stack(log_probabilities).logsumexp(dim=0) - math.log(len(outputs))


def _class_log_probabilities(output: torch.Tensor) -> torch.Tensor:
    """Log-probabilities per class; a one-logit output as two classes (negative, positive)."""
    if output.shape[-1] == 1:
        return torch.cat([F.logsigmoid(-output), F.logsigmoid(output)], dim=-1)
    return F.log_softmax(output, dim=-1)


class ConfigEnsemble(torch.nn.Module):
    """Models of different configs (a search's top trials); its output is their mean prediction.

    See :func:`mean_prediction`: probabilities are averaged for classes (the members may
    have trained with different losses), outputs for regression. A member may itself be a
    :class:`SeedEnsemble`. An ordinary module, like :class:`SeedEnsemble`.

    Example:
        >>> members = [torch.nn.Linear(3, 2) for _ in range(2)]
        >>> ensemble = ConfigEnsemble(members, classification=True)
        >>> round(ensemble(torch.ones(1, 3)).exp().sum().item(), 6)
        1.0
    """

    def __init__(self, members: Sequence[torch.nn.Module], *, classification: bool) -> None:
        super().__init__()
        if not members:
            raise ValueError("a ConfigEnsemble needs at least one member")
        self.members = torch.nn.ModuleList(members)
        self.classification = classification

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [member(x) for member in self.members]
        return mean_prediction(outputs, classification=self.classification)


def config_ensemble_result(results: Sequence[FitResult], *, classification: bool) -> FitResult:
    """One FitResult for the :class:`ConfigEnsemble` of already trained configs' results.

    One result gives itself back. Otherwise ``model`` is the ConfigEnsemble of the models
    that did not diverge (all of them when each did), ``members`` holds every config's
    FitResult (each may be a seed ensemble's), ``config``, ``history`` and ``metrics`` are the
    first (best) config's, ``status`` the first kept one's, ``num_parameters`` is summed over
    the ensemble and ``seconds`` over every member.
    """
    if not results:
        raise ConfigError("results", [], "one trained config or more")
    if len(results) == 1:
        return results[0]
    kept = _not_diverged(results)
    first = results[0]
    return FitResult(
        config=first.config,
        history=first.history,
        metrics=first.metrics,
        model=ConfigEnsemble(
            [result.model for result in kept], classification=classification
        ).eval(),
        num_parameters=sum(result.num_parameters for result in kept),
        status=kept[0].status,
        seconds=sum(result.seconds for result in results),
        members=list(results),
    )


def ensemble_size(final: FitResult) -> tuple[int, int]:
    """``(configs, seeds)`` of a final model: how many configs it averages, and seeds each.

    Example:
        >>> result = FitResult({}, [], {}, torch.nn.Linear(1, 1), 2, "completed", 0.0)
        >>> ensemble_size(result)
        (1, 1)
    """
    if isinstance(final.model, ConfigEnsemble):
        return len(final.members), max(len(final.members[0].members), 1)
    return 1, max(len(final.members), 1)


def _not_diverged(results: Sequence[FitResult]) -> list[FitResult]:
    """The members that did not diverge (all of them when each did): what an ensemble keeps."""
    return [result for result in results if result.status != "diverged"] or list(results)
