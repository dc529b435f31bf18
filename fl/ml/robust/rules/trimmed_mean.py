"""Coordinate-wise trimmed mean: Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust
Distributed Learning: Towards Optimal Statistical Rates", ICML 2018.

For each coordinate, the k = floor(beta * n) largest and the k smallest values over the n
updates are dropped and the rest averaged (summed in ascending order of value). beta is in
[0, 0.5); a round too small to drop 2k values keeps at least one (k <= (n - 1) / 2).

Arithmetic: k = min(floor((beta * n) + 1e-9), (n - 1) // 2), where beta * n and the + 1e-9 are
float64 operations, each rounded (the 1e-9 keeps a product that rounds just below an integer
from flooring one lower). s = the stable ascending sort of each
coordinate over the updates (base.py); the kept values s[k], ..., s[n - k - 1] (0-based) are
summed in that order from +0.0, each `+` rounded, and the sum divided by float64(n - 2k). The
sample counts do not weigh in.
"""
from __future__ import annotations

import math

from fl.core.params import Param
from fl.ml.exact import mean
from fl.ml.robust.rules.base import Rule, sorted_columns


def trimmed(n: int, beta: float) -> int:
    """How many values are dropped at each end: floor(beta * n), up to (n - 1) // 2."""
    return min(math.floor(beta * n + 1e-9), (n - 1) // 2)


class TrimmedMean(Rule):
    name = "trimmed-mean"
    parameters = (Param("beta", 0.1, at_least=0, below=0.5),)

    def combine_rows(self, rows, weights, previous):
        k = trimmed(len(rows), self.params["beta"])
        return mean(sorted_columns(rows)[k:len(rows) - k])
