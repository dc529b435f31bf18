"""The in-memory data set every algorithm trains on: normalized tensors, no per-sample transforms."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch


@dataclass
class Dataset:
    name: str
    train_x: torch.Tensor  # float32 (N, C, H, W) or (N, D), normalized
    train_y: torch.Tensor  # int64 (N,)
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    #: for data sets that come split per client (the `natural` partition): the client of each training sample
    train_client: torch.Tensor | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.train_x.dim() == 4

    def limit(self, train: int | None, test: int | None) -> "Dataset":
        """The first `train` training and `test` test samples (None = all)."""
        client = None if self.train_client is None else self.train_client[:train]
        return replace(self, train_x=self.train_x[:train], train_y=self.train_y[:train], test_x=self.test_x[:test],
                       test_y=self.test_y[:test], train_client=client)

    def to(self, device: str | torch.device) -> "Dataset":
        """The samples and labels on `device` (the client assignment stays on the CPU)."""
        return replace(self, train_x=self.train_x.to(device), train_y=self.train_y.to(device),
                       test_x=self.test_x.to(device), test_y=self.test_y.to(device))


def normalize_images(images: torch.Tensor, mean: float | Sequence[float], std: float | Sequence[float]) -> torch.Tensor:
    """uint8 (N, H, W) or (N, C, H, W) images to normalized float32 (N, C, H, W); per-channel mean/std allowed."""
    x = images.to(torch.float32).div_(255.0)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if isinstance(mean, Sequence):
        mean = torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1)
        std = torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1)
    return x.sub_(mean).div_(std)
