"""Embedding and detecting FedIPR's sign watermark in the normalization scales γ of a model.

FedIPR (Li, Fan, Gu, Li, Yang, IEEE TPAMI 2022), Sec. 4: an owner with bits b and embedding
matrix M adds to its local loss the sign loss

    L_S = Σ_j max(μ - b_j · t_j, 0),   t = γ·M,

a hinge with margin μ that pushes every projection t_j to the sign b_j and at least μ beyond
zero; it detects its watermark by the bit accuracy of sign(γ·M) against b. γ is every
normalization scale of the model (the tensors named `*.scale`, see fl/ml/models/signalexnet.py)
concatenated in layer order, so a detector needs nothing but the model's tensors.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch
from torch import nn

from fl.core.errors import UserError
from fl.ml.watermark.key import Watermark

SCALE_SUFFIX = ".scale"


def _layer_order(name: str) -> list:
    """Natural order: features.10.scale after features.9.scale."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def scale_names(names) -> list[str]:
    return sorted((n for n in names if n.endswith(SCALE_SUFFIX)), key=_layer_order)


def scale_vector(tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """γ: every `*.scale` tensor, flattened and concatenated in layer order."""
    names = scale_names(tensors)
    if not names:
        raise UserError("the model has no normalization scale tensors ('*.scale'), so it cannot carry a sign "
                        "watermark; use a sign model such as signalexnet")
    return torch.cat([tensors[n].reshape(-1) for n in names])


def model_scales(model: nn.Module) -> torch.Tensor:
    """γ of a live model, differentiable."""
    return scale_vector(dict(model.named_parameters()))


def projections(gamma: torch.Tensor, watermark: Watermark) -> torch.Tensor:
    """t = γ·M."""
    return gamma @ watermark.matrix(gamma.numel()).to(gamma.dtype)


def sign_loss(gamma: torch.Tensor, watermark: Watermark, margin: float) -> torch.Tensor:
    """FedIPR's hinge: Σ_j max(margin - b_j t_j, 0)."""
    return torch.relu(margin - watermark.b.to(gamma.dtype) * projections(gamma, watermark)).sum()


@torch.no_grad()
def bit_accuracy(gamma: torch.Tensor, watermark: Watermark) -> float:
    """Share of the bits of sign(γ·M) equal to b (a projection of exactly 0 matches no bit)."""
    return float((torch.sign(projections(gamma.detach().float(), watermark)) == watermark.b).float().mean())


def false_positive_probability(bits: int, accuracy: float) -> float:
    """P(a model that never carried the watermark matches at least this share of the bits by chance):
    the binomial tail with p = 1/2, each bit of sign(γ·M) being a fair coin for an unrelated key."""
    needed = math.ceil(accuracy * bits - 1e-9)
    return sum(math.comb(bits, k) for k in range(needed, bits + 1)) / 2 ** bits


def check_capacity(channels: int, watermarks) -> None:
    """FedIPR, Theorem 1: all owners' bits can be embedded without conflict only if Σ N_k ≤ C."""
    total = sum(w.bits for w in watermarks)
    if total > channels:
        raise UserError(f"the owners' watermarks carry {total} bits in all, more than the model's {channels} "
                        "normalization scales can hold (FedIPR needs the sum of bits <= scales): "
                        "fewer owners or bits, or a wider model")
