"""ResNet-18 (He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016)
adapted to 32x32 inputs as for CIFAR: a 3x3 stride-1 stem without max pooling, then four stages
of two basic blocks (64, 128, 256, 512 channels), global average pooling and the linear layer.

Batch norm is replaced by group norm (2 groups), as Hsieh et al. ("The Non-IID Data Quagmire of
Decentralized Machine Learning", ICML 2020) and Reddi et al. ("Adaptive Federated Optimization",
ICLR 2021) do for federated training: batch statistics do not average well across non-IID
clients, and the model's state is then parameters only.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

GROUPS = 2
STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, stride of the stage's first block)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(GROUPS, channels)


class BasicBlock(nn.Module):
    def __init__(self, channels_in: int, channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride=stride, padding=1, bias=False)
        self.norm1 = _norm(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm2 = _norm(channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or channels_in != channels:
            self.shortcut = nn.Sequential(nn.Conv2d(channels_in, channels, 1, stride=stride, bias=False), _norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(input_shape[0], 64, 3, padding=1, bias=False), _norm(64), nn.ReLU()]
        channels_in = 64
        for channels, stride in STAGES:
            layers += [BasicBlock(channels_in, channels, stride), BasicBlock(channels, channels, 1)]
            channels_in = channels
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(channels_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
