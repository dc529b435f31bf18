"""The MNIST family (MNIST, FashionMNIST, EMNIST): four IDX files, images and labels, train and test.

Files are looked for plain or gzip-compressed, directly in a folder or in torchvision's layout
(`<folder>/<Name>/raw/`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from fl.ml.data.dataset import Dataset, normalize_images
from fl.ml.data.idx import read_idx

PARTS = ("train_x", "train_y", "test_x", "test_y")


@dataclass(frozen=True)
class IdxImageSet:
    name: str  # registry name
    raw_folder: str  # torchvision's layout below a root, e.g. "FashionMNIST/raw"
    files: dict[str, str]  # part (PARTS) -> file stem
    mean: float
    std: float
    num_classes: int
    transposed: bool = False  # EMNIST stores each image transposed

    def find_file(self, folder: Path, stem: str) -> Path | None:
        for sub in ("", self.raw_folder):
            for suffix in (".gz", ""):
                path = folder / sub / f"{stem}{suffix}"
                if path.is_file():
                    return path
        return None

    def find(self, folder: Path) -> dict[str, Path] | None:
        """{part: path} when `folder` holds all four files, else None."""
        found = {part: self.find_file(folder, self.files[part]) for part in PARTS}
        return found if all(found.values()) else None

    def read(self, files: dict[str, Path], normalize: bool = True) -> Dataset:
        """The four files as a Dataset: pixels scaled to [0, 1], then normalized by the set's mean
        and std unless `normalize` is false."""
        mean, std = (self.mean, self.std) if normalize else (0.0, 1.0)
        arrays = {part: torch.from_numpy(read_idx(path).copy()) for part, path in files.items()}
        images = {part: arrays[part].transpose(1, 2) if self.transposed else arrays[part] for part in ("train_x", "test_x")}
        return Dataset(
            name=self.name,
            train_x=normalize_images(images["train_x"], mean, std),
            train_y=arrays["train_y"].to(torch.int64),
            test_x=normalize_images(images["test_x"], mean, std),
            test_y=arrays["test_y"].to(torch.int64),
            num_classes=self.num_classes,
        )
