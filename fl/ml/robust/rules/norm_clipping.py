"""Norm clipping: Sun, Kairouz, Suresh, McMahan, "Can You Really Backdoor Federated
Learning?", 2019 (NeurIPS FL workshop).

The server bounds each update's norm: delta_k = x_k - x_global is scaled by
min(1, bound / ||delta_k||_2), then the clipped models are averaged with the sample-count
weights, as FedAvg does.

Arithmetic (base.py's matrix: rows r_k in ascending client id, p the previous global model,
all float64, each operation rounded on its own; fl/ml/exact.py):

    delta_k = r_k - p
    norm_k  = sqrt(exact_sum of delta_k,i * delta_k,i)     (sqrt correctly rounded)
    clipped_k = delta_k * (bound / norm_k) if norm_k > bound else delta_k
                (the scalar bound / norm_k is rounded first, then each coordinate's product)
    y_k = p + clipped_k
    result = weighted mean of the y_k with the sample counts w_k:
             acc_0 = +0.0, acc_k = acc_{k-1} + ((float64(w_k) / float64(W)) * y_k)
"""
from __future__ import annotations

import math

import torch

from fl.core.params import Param
from fl.ml.exact import squared_norm, weighted_mean
from fl.ml.robust.rules.base import Rule


def clipped(delta: torch.Tensor, bound: float) -> torch.Tensor:
    norm = math.sqrt(squared_norm(delta))
    return delta * (bound / norm) if norm > bound else delta


class NormClipping(Rule):
    name = "norm-clipping"
    parameters = (Param("bound", 1.0, above=0),)

    def combine_rows(self, rows, weights, previous):
        bound = float(self.params["bound"])
        return weighted_mean((previous + clipped(row - previous, bound) for row in rows), weights)
