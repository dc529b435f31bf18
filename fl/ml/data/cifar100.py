"""CIFAR-100 (Krizhevsky 2009): 50,000 training and 10,000 test 32x32 colour images, 100 fine
classes, read from the python files (`cifar-100-python/train`, `test`) in the configured data dir
or the project's `data/`, else downloaded and unpacked there by torchvision (needs internet, 161 MB)."""
from __future__ import annotations

from fl.ml.data.cifar_batches import CifarSet
from fl.ml.data.source import FileSource, how_to_get, torchvision_download

SET = CifarSet(
    name="cifar100", folder="cifar-100-python", label_key="fine_labels", num_classes=100,
    train_files=("train",), test_files=("test",),
    mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762))
SOURCE = FileSource("CIFAR-100", SET, torchvision_download("CIFAR100", train=True),
                    how_to_get("unpack cifar-100-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) "
                               "into data/ or a folder"))
load = SOURCE.load
