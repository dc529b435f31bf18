"""Batch-level augmentation of image tensors, drawn from the client's seeded generator.

`train.augment` is a `+`-separated list of:
- `crop`: pad each image by CROP_PADDING pixels of zeros (the per-channel mean, since images are
  normalized) and cut a random H x W window back out (He et al., "Deep Residual Learning", 2016, CIFAR);
- `flip`: mirror each image left-right with probability 1/2 (not for digits or letters).
The same seed gives the same crops and flips, so runs stay reproducible.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from fl.core.errors import UserError

CROP_PADDING = 4
Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def random_crop(x: torch.Tensor, generator: torch.Generator, padding: int = CROP_PADDING) -> torch.Tensor:
    n, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    top = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    rows = (top[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (n, 1, h, 1)
    cols = (left[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (n, 1, 1, w)
    samples = torch.arange(n, device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[samples, channels, rows, cols]


def horizontal_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


STEPS: dict[str, Transform] = {"crop": random_crop, "flip": horizontal_flip}


def parse(spec: str | None) -> list[str]:
    """The step names of `spec` ("crop+flip"); None or "" or "none" is no augmentation."""
    if not spec or spec == "none":
        return []
    names = [name.strip() for name in spec.split("+")]
    for name in names:
        if name not in STEPS:
            raise UserError(f"unknown augmentation {name!r} in train.augment={spec!r}; "
                            f"use none or a +-separated list of: {', '.join(sorted(STEPS))}")
    return names


def build(spec: str | None, input_shape: tuple[int, ...]) -> Transform | None:
    """The transform `spec` names for inputs of `input_shape`, or None when there is nothing to do."""
    names = parse(spec)
    if not names:
        return None
    if len(input_shape) != 3:
        raise UserError(f"train.augment={spec!r} needs image data, but the inputs have shape {tuple(input_shape)}; "
                        "set train.augment to none")

    def transform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for name in names:
            x = STEPS[name](x, generator)
        return x

    return transform
