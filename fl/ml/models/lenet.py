"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998) with ReLU and max pooling, for 28x28 or 32x32 inputs."""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.models.base import flat_size


class LeNet5(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        channels, height = input_shape[0], input_shape[1]
        pad = 2 if height < 32 else 0  # 28x28 inputs are padded to LeNet's 32x32
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, kernel_size=5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(flat_size(self.features, input_shape), 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
