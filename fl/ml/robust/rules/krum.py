"""Krum: Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries:
Byzantine Tolerant Gradient Descent", NeurIPS 2017.

Each update is scored by the sum of its squared distances to its n - f - 2 nearest other
updates; the update with the smallest score becomes the new model. With n >= 2f + 3 and at
most f Byzantine updates, the choice lies close to the honest ones. Ties go to the lowest
client id. A round with fewer updates than 2f + 3 uses n - f - 2 clamped to [1, n - 1]
neighbours (with one update, that update).

Arithmetic (rows r_1..r_n of base.py's matrix, ascending client id; fl/ml/exact.py):

- d(i, j) = exact_sum over coordinates of (r_i - r_j) * (r_i - r_j), each difference and square
  rounded to float64, the sum exactly rounded (so d(i, j) == d(j, i)).
- Among candidates C (all n updates here), k = min(max(|C| - f - 2, 1), |C| - 1); the score of
  i in C is the exactly rounded sum (`math.fsum`) of the k smallest values of d(i, j), j in C,
  j != i (which of equal values are taken does not change the sum).
- The pick is the candidate with the smallest score; equal scores go to the lower client id.
  The new model is that update's row unchanged (rounding it back to the dtype is exact).
"""
from __future__ import annotations

import math

from fl.core.params import INT, Param
from fl.ml.exact import pairwise_squared_distances
from fl.ml.robust.rules.base import Rule


def neighbours(n: int, f: int) -> int:
    return min(max(n - f - 2, 1), n - 1)


def krum_scores(dist: list[list[float]], candidates: list[int], f: int) -> dict[int, float]:
    """Krum's score of each candidate among the candidates (indices into `dist`)."""
    k = neighbours(len(candidates), f)
    scores = {}
    for i in candidates:
        nearest = sorted(dist[i][j] for j in candidates if j != i)[:k]
        scores[i] = math.fsum(nearest)
    return scores


def by_score(scores: dict[int, float]) -> list[int]:
    """Candidates from the best (smallest) score; ties by index, i.e. by client id."""
    return sorted(scores, key=lambda i: (scores[i], i))


class Krum(Rule):
    name = "krum"
    parameters = (Param("f", 1, INT, at_least=0),)

    def min_updates(self) -> int:
        return 2 * self.params["f"] + 3

    def combine_rows(self, rows, weights, previous):
        dist = pairwise_squared_distances(rows)
        best = by_score(krum_scores(dist, list(range(len(rows))), self.params["f"]))[0]
        return rows[best].clone()
