"""MOON's network shape (Li, He, Song, "Model-Contrastive Federated Learning", CVPR 2021, section
3.2): a base encoder, a projection head (a 2-layer MLP with a 256-wide output) and the output layer.

`with_projection_head(Model)` builds Model and keeps everything but its last linear layer as the
encoder: for `lenet5` that is exactly MOON's CIFAR-10 network (two convolutions, the 120- and
84-unit layers, the head, the output layer). The registry names these variants `<model>-proj`.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

PROJECTION_DIM = 256


class ProjectionHeadNet(nn.Module):
    """`head(represent(x))`, where `represent` = projection(encoder(x)) is what MOON's loss compares."""

    def __init__(self, encoder: nn.Module, encoder_dim: int, num_classes: int, projection_dim: int = PROJECTION_DIM):
        super().__init__()
        self.encoder = encoder
        self.projection = nn.Sequential(nn.Linear(encoder_dim, encoder_dim), nn.ReLU(),
                                        nn.Linear(encoder_dim, projection_dim))
        self.head = nn.Linear(projection_dim, num_classes)

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.represent(x))


def has_projection_head(model: nn.Module) -> bool:
    return isinstance(model, ProjectionHeadNet)


def with_projection_head(model_class: Callable[[tuple[int, ...], int], nn.Module]):
    """A builder of `model_class` with its output layer replaced by a projection head and a new output layer."""
    def build(input_shape: tuple[int, ...], num_classes: int) -> ProjectionHeadNet:
        base = model_class(input_shape, num_classes)
        layers = list(base.classifier) if isinstance(base.classifier, nn.Sequential) else [base.classifier]
        output = layers.pop()
        encoder = nn.Sequential(base.features, *layers)
        return ProjectionHeadNet(encoder, output.in_features, num_classes)

    return build
