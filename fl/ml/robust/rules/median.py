"""Coordinate-wise median: Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust Distributed
Learning: Towards Optimal Statistical Rates", ICML 2018.

Each coordinate of the new model is the median of that coordinate over the updates; with an
even number of updates, the mean of the two middle values.

Arithmetic: s = the stable ascending sort of each coordinate over the n updates (base.py);
n odd: s[(n - 1) / 2] (0-based); n even: (s[n/2 - 1] + s[n/2]) / 2, the sum and the halving each
rounded in float64. The sample counts do not weigh in.
"""
from __future__ import annotations

import torch

from fl.ml.robust.rules.base import Rule, sorted_columns


def coordinate_median(rows: torch.Tensor) -> torch.Tensor:
    ordered = sorted_columns(rows)
    n = len(rows)
    if n % 2:
        return ordered[n // 2].clone()
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2.0


class Median(Rule):
    name = "median"

    def combine_rows(self, rows, weights, previous):
        return coordinate_median(rows)
