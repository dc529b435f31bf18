"""A generated image data set for tests and smoke runs (no files, no download).

Ten classes of 1x28x28 images: each class is a fixed random template (drawn from a
generator with a fixed seed) plus per-sample Gaussian noise, so a small CNN learns it in
a few steps but not instantly.
"""
from __future__ import annotations

import torch

from fl.ml.data.dataset import Dataset

NUM_CLASSES = 10
TRAIN_SIZE, TEST_SIZE = 1200, 400


def generate(train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE, noise: float = 1.5, seed: int = 1234) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    templates = torch.randn(NUM_CLASSES, 1, 28, 28, generator=g)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, NUM_CLASSES, (n,), generator=g)
        x = templates[y] + noise * torch.randn(n, 1, 28, 28, generator=g)
        return x, y

    train_x, train_y = draw(train_size)
    test_x, test_y = draw(test_size)
    return Dataset("synthetic-images", train_x, train_y, test_x, test_y, NUM_CLASSES)


def load(root: str | None = None, allow_download: bool = True) -> Dataset:
    return generate()
