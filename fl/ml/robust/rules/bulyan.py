"""Bulyan: El Mhamdi, Guerraoui, Rouault, "The Hidden Vulnerability of Distributed Learning
in Byzantium", ICML 2018.

Krum is applied again and again, each time removing the update it picks, until theta = n - 2f
updates are chosen; then each coordinate of the new model is the mean of the beta = theta - 2f
values (of the chosen updates) closest to that coordinate's median. Needs n >= 4f + 3. Ties
go to the lowest client id (Krum) and to the smaller value (closest to the median); a round
with fewer updates keeps theta and beta at least 1.

Arithmetic (krum.py and base.py for the pieces):

1. theta = max(n - 2f, 1). d(i, j) as in Krum, computed once over all n updates. Candidates C
   start as all updates; theta times: score each i in C among C (k = min(max(|C| - f - 2, 1),
   |C| - 1) nearest), pick the smallest score (equal scores: lower client id), remove it from C.
2. The picked rows, reordered by ascending client id, form the theta x d matrix P.
3. Per coordinate: s = the stable ascending sort of P's column; med = the median of s (as in
   median.py: the middle value, or (s[theta/2 - 1] + s[theta/2]) / 2 for even theta);
   dist_t = |s_t - med| (float64, rounded). beta = max(theta - 2f, 1). The beta positions t with
   the smallest dist_t are kept, equal distances going to the smaller t (a stable sort of dist),
   i.e. to the smaller value. The kept s_t, in ascending t, are summed from +0.0 (each `+`
   rounded) and the sum divided by float64(beta).

The sample counts do not weigh in.
"""
from __future__ import annotations

import torch

from fl.core.params import INT, Param
from fl.ml.exact import mean, pairwise_squared_distances
from fl.ml.robust.rules.base import Rule, sorted_columns
from fl.ml.robust.rules.krum import by_score, krum_scores
from fl.ml.robust.rules.median import coordinate_median


def iterated_krum(rows: torch.Tensor, f: int, count: int) -> list[int]:
    """The indices Krum picks one after the other from the shrinking set, in pick order."""
    dist = pairwise_squared_distances(rows)
    remaining = list(range(len(rows)))
    picked = []
    while len(picked) < count:
        best = by_score(krum_scores(dist, remaining, f))[0]
        picked.append(best)
        remaining.remove(best)
    return picked


def closest_to_median_mean(rows: torch.Tensor, beta: int) -> torch.Tensor:
    """Per coordinate, the mean of the `beta` values closest to the median."""
    ordered = sorted_columns(rows)
    distance = (ordered - coordinate_median(rows)).abs()
    nearest = torch.sort(torch.argsort(distance, dim=0, stable=True)[:beta], dim=0).values
    return mean(torch.gather(ordered, 0, nearest))


class Bulyan(Rule):
    name = "bulyan"
    parameters = (Param("f", 1, INT, at_least=0),)

    def min_updates(self) -> int:
        return 4 * self.params["f"] + 3

    def combine_rows(self, rows, weights, previous):
        f = self.params["f"]
        theta = max(len(rows) - 2 * f, 1)
        chosen = rows[sorted(iterated_krum(rows, f, theta))]
        return closest_to_median_mean(chosen, max(theta - 2 * f, 1))
