"""MNIST (LeCun, Bottou, Bengio, Haffner 1998) from the original IDX files, found in the
configured data dir or the project's `data/` (plain, or torchvision's `MNIST/raw/` layout),
else downloaded there by torchvision (needs internet)."""
from __future__ import annotations

from fl.ml.data.idx_images import IdxImageSet
from fl.ml.data.source import FileSource, how_to_get, torchvision_download

SET = IdxImageSet(
    name="mnist", raw_folder="MNIST/raw", mean=0.1307, std=0.3081, num_classes=10,
    files={"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
           "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"})
SOURCE = FileSource("MNIST", SET, torchvision_download("MNIST", train=True),
                    how_to_get("put the four *-ubyte(.gz) files of MNIST in a folder"))
load = SOURCE.load
