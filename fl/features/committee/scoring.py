"""How a committee member scores another client's update (CMFL's scoring system).

Che et al. score a training client's local update by its Euclidean distance to the committee
member's own local update, computed on the member's own data: the closer, the higher the
score (they take S_k = 1 / sum over members of the distances). On chain the scores must be
integers and the contract takes the median over members, so each member submits

    score = max(1, floor(SCALE / (1 + ||x_k - x_c||^2)))

over the model's floating coordinates (x_k the client's model, x_c the member's own), and 0 for
an update that cannot be aggregated (missing tensors, wrong shapes, NaN or Inf). The squared
distance is an exactly rounded float64 sum, so anyone can recompute a member's scores from the
committed artifacts (verify does).

Arithmetic: the coordinates are the floating tensors of the global model's own part (not the
`server.` state), in sorted name order, widened to float64; d = exact_sum over them of
(x_k,i - x_c,i) * (x_k,i - x_c,i) (each difference and square rounded, the sum exactly rounded:
`fl.ml.exact.squared_distance`); then 1.0 + d and SCALE / (1.0 + d) are float64 operations, each
rounded, and floor gives the integer.
"""
from __future__ import annotations

import math

from fl.ml.algorithms.api import State, model_part
from fl.ml.exact import squared_distance as vector_squared_distance
from fl.ml.robust.rules.base import Layout
from fl.ml.validate import update_problem

SCALE = 10**9


def squared_distance(a: State, b: State, global_state: State) -> float:
    layout = Layout(model_part(global_state))
    return vector_squared_distance(layout.flatten(a), layout.flatten(b))


def score(own: State, other: State, global_state: State) -> int:
    """Member's score of `other` (a client's update tensors), given its `own` update."""
    if update_problem(other, global_state) is not None:
        return 0
    return max(1, math.floor(SCALE / (1.0 + squared_distance(own, other, global_state))))
