"""Model families that fail on purpose, imported by trials through search(plugins=...)."""

from __future__ import annotations

import time

import torch

from automl_nn.models import register_model_family
from automl_nn.models._rules import choice

BEHAVIOURS = ("raise", "out_of_memory", "slow", "diverge")


class FaultyModel(torch.nn.Module):
    def __init__(self, behaviour: str, inputs: int, outputs: int) -> None:
        super().__init__()
        self.behaviour = behaviour
        self.linear = torch.nn.Linear(inputs, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.behaviour == "raise":
            raise RuntimeError("faulty model: broken on purpose")
        if self.training and self.behaviour == "out_of_memory":
            raise MemoryError("faulty model: out of memory on purpose")
        if self.training and self.behaviour == "slow":
            time.sleep(0.2)
        outputs = self.linear(x.flatten(1))
        if self.training and self.behaviour == "diverge":
            return outputs * float("inf")  # a loss no step can bring back
        return outputs


@register_model_family(
    "faulty",
    defaults={"behaviour": "raise"},
    input_ranks=(1,),
    rules={"behaviour": choice(*BEHAVIOURS)},
)
def build_faulty(config, input_shape, num_outputs, dropout, batch_norm) -> torch.nn.Module:
    return FaultyModel(config["behaviour"], int(input_shape[0]), num_outputs)
