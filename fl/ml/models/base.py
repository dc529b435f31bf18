"""Helpers shared by the model definitions.

Every model is `classifier(features(x))`: `features` maps an input to a flat representation and
`classifier` ends in the linear output layer. That shape is what lets `fl.ml.models.projection`
put MOON's projection head between a model's encoder and its output layer.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fl.ml.models.portable_init import HE_FAN_OUT, SMALL, use_scheme


def flat_size(features: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Width of `features`' flattened output for one input of `input_shape`."""
    with torch.no_grad():
        return int(features(torch.zeros(1, *input_shape)).shape[1])


class PadTo(nn.Module):
    """Zero-pads smaller images up to size x size (e.g. 28x28 to 32x32), centred; larger ones pass unchanged."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dh, dw = max(self.size - x.shape[-2], 0), max(self.size - x.shape[-1], 0)
        if dh == dw == 0:
            return x
        return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def kaiming_init(model: nn.Module) -> nn.Module:
    """He et al. 2015 initialization for ReLU networks without normalization layers (as torchvision's
    VGG): convolutions by fan-out, linear layers small, biases zero; drawn by fl.ml.models.portable_init."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            use_scheme(module, HE_FAN_OUT)
        elif isinstance(module, nn.Linear):
            use_scheme(module, SMALL)
    return model
