"""AlexNet (Krizhevsky, Sutskever, Hinton, NeurIPS 2012) scaled to 32x32 inputs: five 3x3
convolutions (64, 192, 384, 256, 256 channels) with three 2x2 max-pools, then a 1024-1024-classes
classifier; no dropout or local response normalization. Works for 28x28 inputs too."""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.models.base import flat_size

HIDDEN = 1024


class AlexNet(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(input_shape[0], 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(flat_size(self.features, input_shape), HIDDEN), nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
            nn.Linear(HIDDEN, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
