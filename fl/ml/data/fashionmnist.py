"""FashionMNIST (Xiao, Rasul, Vollgraf 2017) from the original IDX files.

Search order: the configured data dir, Debian's `dataset-fashion-mnist` package
(/usr/share/datasets/fashion-mnist), the project's `data/` folder, then torchvision's
download into `data/` (needs internet).
"""
from __future__ import annotations

from pathlib import Path

from fl.core.errors import UserError
from fl.ml.data import source
from fl.ml.data.dataset import Dataset
from fl.ml.data.idx_images import IdxImageSet

SET = IdxImageSet(
    name="fashionmnist", raw_folder="FashionMNIST/raw", mean=0.2860, std=0.3530, num_classes=10,
    files={"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
           "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"})
FILES = SET.files
MEAN, STD = SET.mean, SET.std
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
PROJECT_DATA_DIR = source.PROJECT_DATA_DIR
HOW_TO_GET = ("install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), "
              "or run once with internet access, or put the four *-ubyte.gz files in a folder and pass data.root")


def find_files(folders: list[Path]) -> dict[str, Path] | None:
    """The files of the first folder holding all four, as {part: path}."""
    return next((found for found in map(SET.find, folders) if found), None)


def download(root: Path) -> None:
    """torchvision's downloader (internet needed); writes root/FashionMNIST/raw/*."""
    from torchvision.datasets import FashionMNIST

    FashionMNIST(str(root), train=True, download=True)
    FashionMNIST(str(root), train=False, download=True)


def fetch(root: str | None = None, allow_download: bool = True) -> dict[str, Path]:
    """The four files, downloaded first if no folder holds them; UserError saying how to get them otherwise."""
    return source.locate("FashionMNIST", SET.find, root=root, data_dir=PROJECT_DATA_DIR, system_dirs=(DEBIAN_DIR,),
                         download=download, how_to_get=HOW_TO_GET, allow_download=allow_download)


#: data.params: normalize false keeps pixels in [0, 1] (torchvision's ToTensor alone, as NIID-Bench reads it)
DEFAULTS = {"normalize": True}


def load(root: str | None = None, allow_download: bool = True, normalize: bool = True) -> Dataset:
    if not isinstance(normalize, bool):
        raise UserError(f"data set 'fashionmnist': normalize must be true or false, got {normalize!r}")
    return SET.read(fetch(root, allow_download), normalize=normalize)
