"""The entry point: build a model for a task from the ``model`` section of a trial config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from torch import nn

from automl_nn.errors import ConfigError, DataError, one_of
from automl_nn.models._registry import build_from_family, check_model_config
from automl_nn.models._rules import as_integer
from automl_nn.vocabulary import TASK_KINDS


class ModelTask(Protocol):
    """What :func:`build_model` reads from a task (``automl_nn.data.TaskData`` has it)."""

    input_shape: tuple[int, ...]
    kind: str
    num_classes: int | None


def build_model(
    model_config: Mapping[str, Any],
    task: ModelTask,
    *,
    num_outputs: int | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Module:
    """Build the model that ``model_config`` describes, sized for ``task``.

    Args:
        model_config: the ``model`` section of a trial config, ``{"family": ..., ...}``;
            checked with :func:`check_model_config`.
        task: gives ``input_shape`` (per sample), ``kind`` and ``num_classes``.
        num_outputs: width of the output; by default ``num_classes`` for multiclass, 2 for
            binary and 1 for regression.
        dropout: dropout probability in ``[0, 1)`` (``regularization.dropout``).
        batch_norm: add batch norm layers (``regularization.batch_norm``).

    Returns:
        A module mapping ``(batch, *task.input_shape)`` to ``(batch, num_outputs)`` logits.

    Raises:
        ConfigError: the model config, ``num_outputs``, ``dropout`` or ``batch_norm`` is
            not valid.
        DataError: the task's shape, kind or number of classes is not valid.

    Example:
        >>> from types import SimpleNamespace
        >>> import torch
        >>> task = SimpleNamespace(input_shape=(1, 40), kind="multiclass", num_classes=10)
        >>> model = build_model({"family": "cnn", "depth": 2}, task, dropout=0.1)
        >>> model(torch.randn(8, 1, 40)).shape
        torch.Size([8, 10])
    """
    config = check_model_config(model_config, task.input_shape)
    outputs = _default_outputs(task) if num_outputs is None else num_outputs
    if as_integer(outputs) is None or outputs < 1:
        raise ConfigError("num_outputs", outputs, "an integer >= 1")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ConfigError("regularization.dropout", dropout, "a number in [0, 1)")
    if not isinstance(batch_norm, bool):
        raise ConfigError("regularization.batch_norm", batch_norm, "true or false")
    input_shape = tuple(int(size) for size in task.input_shape)
    return build_from_family(config, input_shape, int(outputs), float(dropout), batch_norm)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters in ``model`` (every parameter, trainable or frozen).

    Example:
        >>> count_parameters(nn.Linear(3, 2))
        8
    """
    return sum(parameter.numel() for parameter in model.parameters())


def _default_outputs(task: ModelTask) -> int:
    if task.kind not in TASK_KINDS:
        raise DataError("task.kind", task.kind, one_of(TASK_KINDS))
    if task.kind == "regression":
        return 1
    if task.kind == "binary":
        return 2
    if as_integer(task.num_classes) is None or task.num_classes < 2:
        raise DataError("task.num_classes", task.num_classes, "an integer >= 2 for multiclass")
    return int(task.num_classes)
