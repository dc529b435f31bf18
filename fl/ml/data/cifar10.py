"""CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test 32x32 colour images, 10 classes,
read from the python batches (`cifar-10-batches-py/`) in the configured data dir or the project's
`data/`, else downloaded and unpacked there by torchvision (needs internet, 163 MB)."""
from __future__ import annotations

from fl.ml.data.cifar_batches import CifarSet
from fl.ml.data.source import FileSource, how_to_get, torchvision_download

SET = CifarSet(
    name="cifar10", folder="cifar-10-batches-py", label_key="labels", num_classes=10,
    train_files=tuple(f"data_batch_{i}" for i in range(1, 6)), test_files=("test_batch",),
    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))
SOURCE = FileSource("CIFAR-10", SET, torchvision_download("CIFAR10", train=True),
                    how_to_get("unpack cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) "
                               "into data/ or a folder"))
load = SOURCE.load
