"""A 2-layer perceptron: flatten, one hidden layer of 200 ReLU units, the linear output layer
(the width of McMahan et al.'s "2NN", AISTATS 2017, with one hidden layer instead of two)."""
from __future__ import annotations

import math

import torch
from torch import nn

HIDDEN = 200


class MLP(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int, hidden: int = HIDDEN):
        super().__init__()
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), hidden), nn.ReLU())
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
