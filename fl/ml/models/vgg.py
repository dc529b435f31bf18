"""VGG-11 (Simonyan, Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, configuration A) for 32x32 inputs: its eight 3x3 convolutions and five
max-pools bring 32x32 down to 1x1x512, followed by a 512-512-classes classifier (as the CIFAR
VGGs of federated benchmarks, e.g. FedMA) instead of the 4096-wide ImageNet one; no batch norm
or dropout, He initialization. Smaller inputs (28x28) are zero-padded to 32x32.
"""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.models.base import PadTo, flat_size, kaiming_init

CONFIG_A = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
INPUT_SIZE = 32


class VGG11(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        layers: list[nn.Module] = [PadTo(INPUT_SIZE)]
        channels = input_shape[0]
        for item in CONFIG_A:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
                channels = item
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(flat_size(self.features, input_shape), 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                        nn.Linear(512, num_classes))
        kaiming_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
