"""The small FashionMNIST CNN of VeryFL (conv 1→4 k4 p2, pool, conv 4→8 k4 p2, pool, linear 392→10).

Channels follow the data set; the linear layer's width follows the input size
(392 for 28x28, 512 for 32x32).
"""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.models.base import flat_size


class VeryFLCNN(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        channels = input_shape[0]
        self.features = nn.Sequential(
            nn.Conv2d(channels, 4, kernel_size=4, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, kernel_size=4, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(flat_size(self.features, input_shape), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
