"""EMNIST Balanced (Cohen, Afshar, Tapson, van Schaik, "EMNIST: an extension of MNIST to
handwritten letters", 2017): 47 classes (digits and letters, similar upper/lower case merged),
112,800 training and 18,800 test images of 28x28, stored transposed in the IDX files (read
upright here). Found in the configured data dir or the project's `data/` (plain, or
torchvision's `EMNIST/raw/` layout), else downloaded there by torchvision (internet, ~560 MB)."""
from __future__ import annotations

from fl.ml.data.idx_images import IdxImageSet
from fl.ml.data.source import FileSource, how_to_get, torchvision_download

SET = IdxImageSet(
    name="emnist", raw_folder="EMNIST/raw", mean=0.1751, std=0.3332, num_classes=47, transposed=True,
    files={"train_x": "emnist-balanced-train-images-idx3-ubyte", "train_y": "emnist-balanced-train-labels-idx1-ubyte",
           "test_x": "emnist-balanced-test-images-idx3-ubyte", "test_y": "emnist-balanced-test-labels-idx1-ubyte"})
SOURCE = FileSource("EMNIST (balanced)", SET, torchvision_download("EMNIST", split="balanced", train=True),
                    how_to_get("put the four emnist-balanced-*-ubyte(.gz) files in a folder"))
load = SOURCE.load
