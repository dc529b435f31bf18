"""Multinomial logistic regression: one linear layer on the flattened input (the model FedProx,
Li et al. MLSys 2020, trains on its Synthetic(α, β) data)."""
from __future__ import annotations

import math

import torch
from torch import nn


class LogisticRegression(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        self.features = nn.Flatten()
        self.classifier = nn.Linear(math.prod(input_shape), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
