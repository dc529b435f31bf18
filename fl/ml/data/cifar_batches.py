"""Reader for CIFAR's "python version" files (Krizhevsky 2009): pickled dicts, one per batch.

Each batch is a dict with `data` (uint8, N x 3072: the red, green and blue 32x32 planes of an
image, row-major) and its labels (`labels` for CIFAR-10, `fine_labels` for CIFAR-100). The
originals were pickled by Python 2, so they are read with latin-1 strings. Unpickling runs code
named in the file, so only the few globals a pickled numpy array needs are allowed.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fl.core.errors import UserError
from fl.ml.data.dataset import Dataset, normalize_images

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) of one batch file."""
    try:
        with open(path, "rb") as fh:
            batch = _BatchUnpickler(fh, encoding="latin1").load()
        batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
        images = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[label_key], dtype=np.int64)
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
    except (OSError, EOFError, ValueError, KeyError, AttributeError, pickle.UnpicklingError) as exc:
        raise UserError(f"{path} is not a valid CIFAR batch file: {type(exc).__name__}: {exc}") from None
    return images, labels


@dataclass(frozen=True)
class CifarSet:
    name: str  # registry name
    folder: str  # what the archive unpacks to, e.g. "cifar-10-batches-py"
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    label_key: str
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def find(self, folder: Path) -> Path | None:
        """The folder holding all batch files: `folder/<self.folder>` or `folder` itself."""
        for candidate in (folder / self.folder, folder):
            if all((candidate / f).is_file() for f in self.train_files + self.test_files):
                return candidate
        return None

    def _read(self, folder: Path, files: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = zip(*(read_batch(folder / f, self.label_key) for f in files))
        return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels))

    def read(self, folder: Path) -> Dataset:
        train_x, train_y = self._read(folder, self.train_files)
        test_x, test_y = self._read(folder, self.test_files)
        for labels in (train_y, test_y):
            if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < self.num_classes:
                raise UserError(f"{folder}: labels outside 0..{self.num_classes - 1}; is this {self.name}?")
        return Dataset(self.name, normalize_images(train_x, self.mean, self.std), train_y,
                       normalize_images(test_x, self.mean, self.std), test_y, self.num_classes)
