"""Which of MLflow's PyTorch formats a model is logged in: ``pt2`` where it can be, else pickle.

``pt2`` is the model's ``torch.export`` graph with its weights: loading it unpickles nothing
and needs neither automl_nn nor the model's classes. torch.export traces ``forward`` once, so
a model whose Python code branches on the values of its input cannot be exported, and one
that branches on the batch size exports for that size alone. automl_nn's own families do
neither (the model contract test exports each one); a model built from other classes (a
plugin family) is exported here first and run at other batch sizes, and goes as pickle when
that fails, with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

PT2 = "pt2"
PICKLE = "pickle"
# Modules of these packages export for any batch size (automl_nn's: its model contract test).
_TRUSTED_PACKAGES = ("torch", "automl_nn")
# Batch sizes besides the example's that an exported untrusted model must serve.
_CHECKED_BATCHES = (1, 5)


def export_problem(model: torch.nn.Module, example: np.ndarray) -> str | None:
    """Why ``model`` cannot go as ``pt2`` for any batch size; None when it can.

    Models built only from torch's and automl_nn's modules are not traced here (MLflow
    traces them once when it saves). Others are exported with a free batch size and their
    exported graph must give the model's outputs at batch sizes 1 and 5.

    Example:
        >>> import numpy as np, torch
        >>> export_problem(torch.nn.Linear(3, 2), np.ones((4, 3), np.float32)) is None
        True
    """
    if all(_is_trusted(type(module)) for module in model.modules()):
        return None
    return traced_problem(model, example)


def traced_problem(model: torch.nn.Module, example: np.ndarray) -> str | None:
    """:func:`export_problem`'s check itself, for any model (the model contract runs it)."""
    import torch

    inputs = torch.as_tensor(example)
    try:
        batch = torch.export.Dim.AUTO
        exported = torch.export.export(model, (inputs,), dynamic_shapes=({0: batch},)).module()
    except Exception as error:  # noqa: BLE001 - any failure of torch.export means: not pt2
        return f"torch.export failed: {_described(error)}"
    with torch.no_grad():
        for size in _CHECKED_BATCHES:
            rows = inputs[torch.arange(size) % len(inputs)]
            try:
                same = torch.allclose(exported(rows), model(rows), rtol=1e-4, atol=1e-5)
            except Exception as error:  # noqa: BLE001 - the graph's guards, a shape mismatch
                return f"its exported graph fails at batch size {size}: {_described(error)}"
            if not same:
                return f"its exported graph gives other outputs at batch size {size}"
    return None


def is_export_error(error: BaseException) -> bool:
    """Whether an error raised while MLflow saved a ``pt2`` model came from torch's tracing.

    It did when torch raised it (a torch class, or any class raised in torch's code: tracing
    raises AssertionError and RuntimeError too); MLflow's own errors, a store that is down,
    are not.
    """
    import torch

    if type(error).__module__.split(".")[0] == "torch":
        return True
    torch_folder = str(Path(torch.__file__).parent)
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename.startswith(torch_folder):
            return True
        frame = frame.tb_next
    return False


def _is_trusted(module_class: type) -> bool:
    return module_class.__module__.split(".")[0] in _TRUSTED_PACKAGES


def _described(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
