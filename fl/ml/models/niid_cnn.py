"""The simple CNN of NIID-Bench: Li, Diao, Chen, He, "Federated Learning on Non-IID Data Silos: An
Experimental Study", ICDE 2022 (as in Flower's `baselines/niid_bench`), and the same CNN with batch
normalization for FedBN (Li, Jiang, Zhang, Kamp, Dou, "FedBN: Federated Learning on Non-IID Features
via Local Batch Normalization", ICLR 2021).

conv 5x5 → 6, max-pool 2, conv 5x5 → 16, max-pool 2, fully connected 120 → 84 → classes, ReLU
after each hidden layer, no padding. On FashionMNIST (1x28x28, 10 classes) it has 44,426
parameters (156 + 2,416 + 30,840 + 10,164 + 850). `NIIDBenchCNNWithBN` adds a BatchNorm after
each convolution and each hidden fully connected layer (as FedBN's models do).
"""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.models.base import flat_size


class NIIDBenchCNN(nn.Module):
    batch_norm = False

    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        channels = input_shape[0]

        def norm2d(width: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(width)] if self.batch_norm else []

        def norm1d(width: int) -> list[nn.Module]:
            return [nn.BatchNorm1d(width)] if self.batch_norm else []

        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, kernel_size=5), *norm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), *norm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(flat_size(self.features, input_shape), 120), *norm1d(120), nn.ReLU(),
            nn.Linear(120, 84), *norm1d(84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )
        for module in self.modules():  # flat_size's forward pass updated them; start from the constants
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class NIIDBenchCNNWithBN(NIIDBenchCNN):
    batch_norm = True
