"""A model family whose trials wait to be let go, imported by trials through search(plugins=...).

``held_mlp`` builds a small MLP once :func:`tests.tracking.hold.release` lets its ``hold``
go. Only trials (and the search that names the plugin) import this module, so the family
stays out of the registry of tests that never asked for it.
"""

from __future__ import annotations

import torch

from automl_nn.models import register_model_family
from automl_nn.models._rules import positive_int
from tests.tracking.hold import HELD_FAMILY, wait_for_release


@register_model_family(
    HELD_FAMILY,
    defaults={"hold": 1, "width": 8},
    input_ranks=(1,),
    rules={"hold": positive_int, "width": positive_int},
)
def build_held_mlp(config, input_shape, num_outputs, dropout, batch_norm) -> torch.nn.Module:
    wait_for_release(config["hold"])
    width = config["width"]
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(int(input_shape[0]), width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, num_outputs),
    )
