"""The server arithmetic of VERIFY.md ("Aggregation arithmetic"), in numpy binary64.

Every function takes and returns float64 arrays; numpy's element-wise `+ - * /` and `sqrt` are
IEEE-754 correctly rounded operations, each rounded on its own (numpy never fuses a multiply
and an add), and sums over coordinates go through `math.fsum`. Sorting along the clients axis
is stable. Rounding to a tensor's own dtype happens in `checks`, once, at the end.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


class Unsupported(Exception):
    """An algorithm or rule this verifier does not implement (reported as UNSUPPORTED, never OK)."""


# --- sums ----------------------------------------------------------------------------------------
def fsum(values: np.ndarray) -> float:
    """The correctly rounded sum of the (already rounded) values; +-inf where it overflows."""
    terms = np.asarray(values, dtype=np.float64).ravel().tolist()
    try:
        return math.fsum(terms)
    except OverflowError:  # the exact sum rounds beyond the largest finite binary64
        return math.inf if sum(Fraction(t) for t in terms) > 0 else -math.inf


def squared_norm(vector: np.ndarray) -> float:
    return fsum(vector * vector)


def weighted_mean(rows: list[np.ndarray], weights: list[int]) -> np.ndarray:
    """acc_0 = +0; acc_k = acc_{k-1} + (c_k * x_k), c_k = float64(w_k) / float64(W), W = sum w (exact)."""
    total = sum(int(w) for w in weights)
    if total <= 0 or total >= 2 ** 53:
        raise ValueError(f"the weights {weights} must sum to a positive integer below 2^53")
    acc = np.zeros_like(rows[0], dtype=np.float64)
    for row, w in zip(rows, weights):
        acc = acc + (np.float64(int(w)) / np.float64(total)) * row
    return acc


def mean_of_rows(rows) -> np.ndarray:
    """The uniform mean of rows: summed one row at a time in the order given, then divided by their count."""
    acc = np.zeros_like(rows[0], dtype=np.float64)
    for row in rows:
        acc = acc + row
    return acc / np.float64(len(rows))


def stable_sort(rows: np.ndarray) -> np.ndarray:
    """Each coordinate's values over the clients, ascending; ties (+0 and -0 too) keep client order."""
    return np.sort(rows, axis=0, kind="stable")


# --- robust rules, over the (clients x coordinates) matrix ----------------------------------------
def pairwise_squared_distances(rows: np.ndarray) -> list[list[float]]:
    n = len(rows)
    dist = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            dist[i][j] = dist[j][i] = squared_norm(rows[i] - rows[j])
    return dist


def krum_neighbours(n: int, f: int) -> int:
    return min(max(n - f - 2, 1), n - 1)


def krum_scores(dist, candidates: list[int], f: int) -> dict[int, float]:
    k = krum_neighbours(len(candidates), f)
    return {i: fsum(sorted(dist[i][j] for j in candidates if j != i)[:k]) for i in candidates}


def by_score(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda i: (scores[i], i))


def krum(rows, weights, previous, params):
    dist = pairwise_squared_distances(rows)
    return rows[by_score(krum_scores(dist, list(range(len(rows))), params["f"]))[0]].copy()


def multi_krum(rows, weights, previous, params):
    n, f, m = len(rows), params["f"], params["m"]
    count = max(1, min(n, n - f if m is None else m))
    dist = pairwise_squared_distances(rows)
    chosen = by_score(krum_scores(dist, list(range(n)), f))[:count]
    return mean_of_rows(rows[sorted(chosen)])


def coordinate_median(rows):
    ordered = stable_sort(rows)
    n = len(rows)
    if n % 2:
        return ordered[n // 2].copy()
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2.0


def median(rows, weights, previous, params):
    return coordinate_median(rows)


def trimmed_count(n: int, beta: float) -> int:
    return min(math.floor(beta * n + 1e-9), (n - 1) // 2)


def trimmed_mean(rows, weights, previous, params):
    n = len(rows)
    k = trimmed_count(n, params["beta"])
    return mean_of_rows(stable_sort(rows)[k:n - k])


def bulyan(rows, weights, previous, params):
    f = params["f"]
    n = len(rows)
    theta = max(n - 2 * f, 1)
    dist = pairwise_squared_distances(rows)
    remaining, picked = list(range(n)), []
    while len(picked) < theta:
        best = by_score(krum_scores(dist, remaining, f))[0]
        picked.append(best)
        remaining.remove(best)
    chosen = rows[sorted(picked)]
    beta = max(theta - 2 * f, 1)
    ordered = stable_sort(chosen)
    distance = np.abs(ordered - coordinate_median(chosen))
    nearest = np.sort(np.argsort(distance, axis=0, kind="stable")[:beta], axis=0)
    return mean_of_rows(np.take_along_axis(ordered, nearest, axis=0))


def norm_clipping(rows, weights, previous, params):
    bound = float(params["bound"])
    clipped = []
    for row in rows:
        delta = row - previous
        norm = math.sqrt(squared_norm(delta))
        clipped.append(previous + (delta * (bound / norm) if norm > bound else delta))
    return weighted_mean(clipped, weights)


RULES = {"krum": (krum, {"f": 1}), "multi-krum": (multi_krum, {"f": 1, "m": None}), "median": (median, {}),
         "trimmed-mean": (trimmed_mean, {"beta": 0.1}), "bulyan": (bulyan, {"f": 1}),
         "norm-clipping": (norm_clipping, {"bound": 1.0})}


def combine(states: list[dict[str, np.ndarray]], weights: list[int], previous: dict[str, np.ndarray],
            rule: str, params: dict) -> dict[str, np.ndarray]:
    """The combined model's floating tensors (float64), from the updates' and the previous model's
    floating tensors (float64): the weighted mean per tensor, or a robust rule over the vector of
    all floating tensors concatenated in sorted name order."""
    names = sorted(previous)
    if rule == "mean":
        return {name: weighted_mean([s[name] for s in states], weights) for name in names}
    if rule not in RULES:
        raise Unsupported(f"aggregation rule {rule}")
    function, _ = RULES[rule]
    flat = lambda state: np.concatenate([state[name].ravel() for name in names]) if names else np.zeros(0)
    vector = function(np.stack([flat(s) for s in states]), weights, flat(previous), params)
    out, offset = {}, 0
    for name in names:
        size = previous[name].size
        out[name] = vector[offset:offset + size].reshape(previous[name].shape)
        offset += size
    return out


# --- server steps ---------------------------------------------------------------------------------
def fedavgm(x, avg, velocity, params):
    """v' = beta * v + (avg - x); x' = x + (lr * v')."""
    beta, lr = float(params["server_momentum"]), float(params["server_lr"])
    new_v = {n: beta * velocity[n] + (avg[n] - x[n]) for n in x}
    return {n: x[n] + lr * new_v[n] for n in x}, new_v


def fedopt(kind, x, avg, m, v, params):
    """m' = beta1 m + (1 - beta1) D; v' per kind; x' = x + (lr m') / (sqrt(v') + tau), D = avg - x."""
    lr, beta1, tau = float(params["server_lr"]), float(params["beta1"]), float(params["tau"])
    new_x, new_m, new_v = {}, {}, {}
    for n in x:
        d = avg[n] - x[n]
        d2 = d * d
        new_m[n] = beta1 * m[n] + (1.0 - beta1) * d
        if kind == "fedadam":
            beta2 = float(params["beta2"])
            new_v[n] = beta2 * v[n] + (1.0 - beta2) * d2
        elif kind == "fedyogi":
            beta2 = float(params["beta2"])
            new_v[n] = v[n] - ((1.0 - beta2) * d2) * np.sign(v[n] - d2)
        else:
            new_v[n] = v[n] + d2
        new_x[n] = x[n] + (lr * new_m[n]) / (np.sqrt(new_v[n]) + tau)
    return new_x, new_m, new_v


def scaffold(x, avg, c, deltas, work, participants, clients, params):
    """x' = x + lr (avg - x); c' = c + share * sum_i (w_i / W) dc_i, w_i = n_i K_i, share = |S| / N."""
    lr = float(params["server_lr"])
    new_x = {n: x[n] + lr * (avg[n] - x[n]) for n in x}
    share = np.float64(participants) / np.float64(clients)
    new_c = {n: c[n] + share * weighted_mean([d[n] for d in deltas], work) for n in c}
    return new_x, new_c


def effective_steps(steps: int, momentum: float) -> float:
    """FedNova's ||a||_1 of `steps` heavy-ball steps (VERIFY.md R16): steps for momentum 0, else
    (steps - rho (1 - rho^steps) / (1 - rho)) / (1 - rho)."""
    if momentum == 0:
        return float(steps)
    return (steps - momentum * (1 - momentum ** steps) / (1 - momentum)) / (1 - momentum)


def fednova(x, ys, samples, a_norms):
    """x' = x + sum_i coef_i (y_i - x), coef_i = (p_i tau_eff) / a_i, p_i = n_i / N, tau_eff = sum_i p_i a_i."""
    total = np.float64(sum(samples))
    shares = [np.float64(n) / total for n in samples]
    tau_eff = np.float64(0.0)
    for p, a in zip(shares, a_norms):
        tau_eff = tau_eff + p * a
    coefficients = [(p * tau_eff) / a for p, a in zip(shares, a_norms)]
    out = {}
    for n in x:
        move = np.zeros_like(x[n])
        for y, coefficient in zip(ys, coefficients):
            move = move + coefficient * (y[n] - x[n])
        out[n] = x[n] + move
    return out
