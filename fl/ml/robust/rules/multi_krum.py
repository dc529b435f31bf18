"""Multi-Krum: Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries:
Byzantine Tolerant Gradient Descent", NeurIPS 2017 (section 5, "Multi-Krum").

Krum's scores are computed once; the m updates with the smallest scores (ties: lowest client
id) are averaged uniformly, in ascending client id. m defaults to n - f.

Arithmetic: scores and ties as in krum.py, over all n updates; the count is
max(1, min(n, n - f if m is unset else m)); the chosen rows, in ascending client id, are summed
one at a time from +0.0 (each `+` rounded, float64) and the sum divided by float64(count)
(`fl.ml.exact.mean`). The sample counts do not weigh in.
"""
from __future__ import annotations

from fl.core.params import INT, Param
from fl.ml.exact import mean, pairwise_squared_distances
from fl.ml.robust.rules.krum import Krum, by_score, krum_scores


class MultiKrum(Krum):
    name = "multi-krum"
    parameters = (*Krum.parameters, Param("m", None, INT, at_least=1, optional=True))

    def count(self, n: int) -> int:
        m = self.params["m"]
        return max(1, min(n, n - self.params["f"] if m is None else m))

    def combine_rows(self, rows, weights, previous):
        dist = pairwise_squared_distances(rows)
        chosen = by_score(krum_scores(dist, list(range(len(rows))), self.params["f"]))[:self.count(len(rows))]
        return mean(rows[sorted(chosen)])
