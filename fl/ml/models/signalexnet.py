"""SignAlexNet: the AlexNet-style network FedIPR watermarks, with sign (passport-style) blocks.

FedIPR (Li, Fan, Gu, Li, Yang, "FedIPR: Ownership Verification for Federated Deep Neural
Network Models", IEEE TPAMI 2022) and VeryFL's SignAlexNet use five convolutions
(64, 192, 384, 256, 256 channels; kernels 5, 5, 3, 3, 3) with max pooling after the 1st, 2nd
and 5th, and replace the last three by sign blocks: convolution, normalization without its own
affine part, then a learnable per-channel scale γ and bias β. The signs of γ carry the owners'
signatures (see fl/ml/watermark/signature.py). `width` scales every channel count (FedIPR's
network is width 1; `signalexnet-small` is width 1/4 for CPU runs on FashionMNIST).

Works for 1x28x28 and 3x32x32 inputs (the classifier's width follows the input size).
"""
from __future__ import annotations

import torch
from torch import nn

from fl.ml.models.base import flat_size
from fl.ml.models.portable_init import HE_FAN_OUT, use_scheme

CHANNELS = (64, 192, 384, 256, 256)
KERNELS = (5, 5, 3, 3, 3)
POOL_AFTER = (0, 1, 4)
SIGN_LAYERS = (2, 3, 4)


class ConvBlock(nn.Module):
    """Convolution and ReLU (VeryFL's plain block: no normalization)."""

    def __init__(self, inputs: int, outputs: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv2d(inputs, outputs, kernel, padding=kernel // 2, bias=False)
        use_scheme(self.conv, HE_FAN_OUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


class SignBlock(ConvBlock):
    """Convolution, batch normalization without affine parameters, then `x * scale + bias`, ReLU.

    `scale` (γ) starts at 1 and `bias` (β) at 0, as in a normal affine normalization layer;
    its tensor name ends in `.scale`, which is how a watermark detector finds it in a model file.
    """

    def __init__(self, inputs: int, outputs: int, kernel: int):
        super().__init__(inputs, outputs, kernel)
        self.norm = nn.BatchNorm2d(outputs, affine=False)
        self.scale = nn.Parameter(torch.ones(outputs))
        self.bias = nn.Parameter(torch.zeros(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        return torch.relu(x * self.scale[None, :, None, None] + self.bias[None, :, None, None])


class SignAlexNet(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], num_classes: int, width: float = 1.0):
        super().__init__()
        layers: list[nn.Module] = []
        inputs = input_shape[0]
        for index, (channels, kernel) in enumerate(zip(CHANNELS, KERNELS)):
            outputs = max(1, round(channels * width))
            block = SignBlock if index in SIGN_LAYERS else ConvBlock
            layers.append(block(inputs, outputs, kernel))
            if index in POOL_AFTER:
                layers.append(nn.MaxPool2d(2, 2))
            inputs = outputs
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        self.features.eval()  # measuring the flat size must not touch the normalization statistics
        self.classifier = nn.Linear(flat_size(self.features, input_shape), num_classes)
        self.features.train()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def small(input_shape: tuple[int, ...], num_classes: int) -> SignAlexNet:
    """A quarter of FedIPR's channels (16, 48, 96, 64, 64): 224 scale parameters carry the signatures."""
    return SignAlexNet(input_shape, num_classes, width=0.25)
