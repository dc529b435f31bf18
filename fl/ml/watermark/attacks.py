"""Removal attacks a thief may run on a stolen model, as in FedIPR's robustness experiments
(Li et al., IEEE TPAMI 2022, Sec. 6.4): fine-tuning on its own clean data, and pruning.
"""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.training import local_sgd, make_optimizer


def fine_tune(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float, batch_size: int = 32,
              momentum: float = 0.9, seed: int = 0) -> nn.Module:
    """`epochs` of plain SGD (cross-entropy only, no sign loss) on (x, y), in place."""
    optimizer = make_optimizer("sgd", model.parameters(), lr, momentum, 0.0)
    local_sgd(model, x, y, torch.arange(len(y)), epochs=epochs, batch_size=batch_size, optimizer=optimizer,
              generator=torch.Generator().manual_seed(seed))
    return model


def prunable(model: nn.Module, every_tensor: bool = False) -> list[nn.Parameter]:
    """The weights pruning removes: those of every convolution and linear layer, or with
    `every_tensor` every parameter tensor (normalization scales and biases too)."""
    if every_tensor:
        return list(model.parameters())
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@torch.no_grad()
def prune(model: nn.Module, fraction: float, every_tensor: bool = False) -> nn.Module:
    """Zero the `fraction` of each tensor's weights with the smallest magnitude, in place."""
    for weight in prunable(model, every_tensor):
        count = int(round(fraction * weight.numel()))
        if count:
            smallest = weight.abs().reshape(-1).argsort()[:count]
            weight.view(-1)[smallest] = 0.0
    return model
