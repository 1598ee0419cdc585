"""A seed ensemble: one config trained from several seeds, its outputs the mean of theirs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from automl_nn.errors import ConfigError
from automl_nn.training._fit import FitResult


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
    kept = [result for result in results if result.status != "diverged"] or results
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
