"""Data sets by name, loaded into memory as tensors.

Image sets are read from their original files (found on disk, or downloaded by torchvision when
there is internet); `synthetic` (FedProx's Synthetic(α, β)) and `synthetic-images` are generated.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fl.core.errors import choices_error
from fl.core.params import with_defaults
from fl.ml.data import cifar10, cifar100, emnist, fashionmnist, mnist, synthetic, synthetic_images
from fl.ml.data.dataset import Dataset

LOADERS: dict[str, Callable[..., Dataset]] = {
    "fashionmnist": fashionmnist.load,
    "mnist": mnist.load,
    "emnist": emnist.load,
    "cifar10": cifar10.load,
    "cifar100": cifar100.load,
    "synthetic": synthetic.load,
    "synthetic-images": synthetic_images.load,
}
#: the parameters (data.params) a data set takes, with their defaults
PARAMS: dict[str, dict[str, Any]] = {"synthetic": synthetic.DEFAULTS, "fashionmnist": fashionmnist.DEFAULTS}


def check_name(name: str) -> str:
    if name not in LOADERS:
        raise choices_error("data set", name, LOADERS)
    return name


def check_params(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """`params` completed with the data set's defaults; an unknown one is a UserError."""
    return with_defaults(f"data set {name!r}", PARAMS.get(check_name(name), {}), params)


def load(name: str, root: str | None = None, allow_download: bool = True, params: dict[str, Any] | None = None) -> Dataset:
    given = dict(params or {})
    check_params(name, given)
    return LOADERS[name](root=root, allow_download=allow_download, **given)
