"""Models by name; each builds for a data set's input shape and number of classes.

Every model `<name>` also comes as `<name>-proj`, with MOON's projection head before its output
layer (fl/ml/models/projection.py); MOON needs one of those.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from fl.core.errors import UserError, choices_error
from fl.ml.models import portable_init, signalexnet
from fl.ml.models.alexnet import AlexNet
from fl.ml.models.cnn import VeryFLCNN
from fl.ml.models.lenet import LeNet5
from fl.ml.models.logreg import LogisticRegression
from fl.ml.models.mlp import MLP
from fl.ml.models.niid_cnn import NIIDBenchCNN, NIIDBenchCNNWithBN
from fl.ml.models.projection import has_projection_head, with_projection_head
from fl.ml.models.resnet import ResNet18
from fl.ml.models.vgg import VGG11

Builder = Callable[[tuple[int, ...], int], nn.Module]
BASE_MODELS: dict[str, Builder] = {
    "cnn": VeryFLCNN,
    "niid-cnn": NIIDBenchCNN,
    "niid-cnn-bn": NIIDBenchCNNWithBN,
    "lenet5": LeNet5,
    "mlp": MLP,
    "logreg": LogisticRegression,
    "resnet18": ResNet18,
    "vgg11": VGG11,
    "alexnet": AlexNet,
    "signalexnet": signalexnet.SignAlexNet,
    "signalexnet-small": signalexnet.small,
}
#: the models that take any input shape (they flatten it); the others need images (channels, height, width)
FLAT_INPUT = ("mlp", "logreg")
#: models without a `features` / `classifier` split to put MOON's projection head between
NO_PROJECTION = ("logreg", "signalexnet", "signalexnet-small")
PROJECTION_SUFFIX = "-proj"
MODELS: dict[str, Builder] = {
    **BASE_MODELS,
    **{name + PROJECTION_SUFFIX: with_projection_head(cls) for name, cls in BASE_MODELS.items()
       if name not in NO_PROJECTION},
}


def with_projection() -> list[str]:
    """The models that have a projection head (what MOON needs)."""
    return sorted(name for name in MODELS if name.endswith(PROJECTION_SUFFIX))


def check_name(name: str) -> str:
    if name not in MODELS:
        raise choices_error("model", name, MODELS)
    return name


def build(name: str, input_shape: tuple[int, ...], num_classes: int, seed: int) -> nn.Module:
    """The model `name` with its initial weights drawn from `seed` (fl.ml.models.portable_init: the same
    bytes on every machine)."""
    check_name(name)
    if len(input_shape) != 3 and name.removesuffix(PROJECTION_SUFFIX) not in FLAT_INPUT:
        raise UserError(f"model {name!r} takes images, but the data set's inputs have shape {tuple(input_shape)}; "
                        f"use one of: {', '.join(sorted(n for n in MODELS if n.removesuffix(PROJECTION_SUFFIX) in FLAT_INPUT))}")
    torch.manual_seed(seed)
    try:
        model = MODELS[name](tuple(input_shape), num_classes)
    except RuntimeError as exc:  # e.g. an input too small for the model's convolutions
        raise UserError(f"model {name!r} cannot take inputs of shape {tuple(input_shape)}: {exc}") from None
    return portable_init.initialize(model, seed)


__all__ = ["MODELS", "build", "check_name", "has_projection_head", "with_projection"]
