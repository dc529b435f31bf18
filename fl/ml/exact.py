"""Server arithmetic that gives the same bytes on every CPU, torch build and language.

FedAvg's weighted mean, every robust rule and every algorithm's server step are built from the
operations here, so that `verify` recomputes a round bit for bit whichever kernels torch picks
(`ATEN_CPU_CAPABILITY=default|avx2|avx512`), and so does an independent implementation (numpy,
another language) written from these docstrings. The rules:

- All arithmetic is IEEE-754 binary64 (float64), round to nearest, ties to even. float32 inputs
  are widened to float64, which is exact.
- Each +, -, *, / and square root is rounded on its own. Nothing is fused: no fused multiply-add
  (torch's `add_(x, alpha=w)`, `addcmul_`, `lerp`, which some kernels fuse and others do not), and
  no library reduction (`sum`, `mean`, `norm`, `dot`, `matmul`), whose order depends on the kernel.
  torch's element-wise + - * / on float64 are correctly rounded on every kernel; its `sqrt` is
  not (one unit in the last place off for about 1 % of inputs), so `sqrt` here is numpy's.
- Sums over clients run one client at a time, in the order given (ascending client id unless a
  rule says otherwise), each `+` rounded, starting from +0.0.
- Sums over coordinates (squared norms and distances) are exactly rounded: the real sum of the
  float64 terms, rounded once. The order of the terms therefore does not matter.
- A result is rounded to each tensor's own dtype once, at the end (round to nearest even). The
  combined model (the weighted mean, or a robust rule's result) is rounded so, as FedAvg stores
  it; the server steps that move on from it (FedAvgM, FedAdam/Yogi/Adagrad, SCAFFOLD; see
  fl/ml/algorithms/server_step.py) take that rounded model as their input and round their own
  results once more at their end. FedNova does not go through the combined model.

The primitives, exactly:

- `linear_combination(x, c)`: acc_0 = +0.0 in every coordinate; acc_k = acc_{k-1} + (c_k * x_k) for
  k = 1..K in the order given; the result is acc_K (float64).
- `weighted_mean(x, w)`, integer weights w_k >= 0 with 0 < W = sum w_k < 2^53 (so W is exact): the
  linear combination with c_k = float64(w_k) / float64(W).
- `mean(x)`: s_0 = +0.0, s_k = s_{k-1} + x_k in the order given, then s_K / float64(K).
- `exact_sum(v)`: the exactly rounded sum of the float64 values v, what Python's `math.fsum` gives
  (for numpy, `math.fsum(a.ravel().tolist())`); the empty sum is 0.0; a sum whose rounded value
  would exceed the largest finite float64 is +-inf (where `math.fsum` raises OverflowError).
- `squared_norm(v)` = exact_sum of v_i * v_i; `squared_distance(a, b)` = exact_sum of d_i * d_i with
  d_i = a_i - b_i: each difference and square rounded to float64, then summed exactly.
- `sqrt` is the correctly rounded square root of each coordinate (IEEE-754 sqrt).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import torch

# exact_sum adds the float64 values grouped by sign and exponent: within a group every value is
# (2^52 + f) * 2^(e - 1075) (f < 2^52 its fraction field; f * 2^-1074 for e = 0), and the fractions'
# upper and lower 26 bits are summed separately, each sum an integer below 2^53 and so exact in
# float64 (np.bincount). The groups' exact totals are combined as one Python integer in units of
# 2^-1074, and Python's int / int division rounds it correctly.
_CHUNK = 1 << 26  # values per pass: each partial sum stays below 2^52
_FRACTION = (1 << 52) - 1
_LOW26 = (1 << 26) - 1


def widen(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor as float64 (exact for float32 and float64 inputs)."""
    return tensor.detach().to(torch.float64)


def linear_combination(values: Iterable[torch.Tensor], coefficients: Sequence[float]) -> torch.Tensor:
    """sum_k c_k * x_k, one term at a time from +0.0, in float64 (see the module docstring).
    `values` may be a generator: only one widened term is held at a time."""
    acc = None
    for x, c in zip(values, coefficients, strict=True):
        term = widen(x) * float(c)
        if acc is None:
            acc = torch.zeros(term.shape, dtype=torch.float64)
        acc += term
    if acc is None:
        raise ValueError("a linear combination needs at least one tensor")
    return acc


def weighted_mean(values: Iterable[torch.Tensor], weights: Sequence[int]) -> torch.Tensor:
    """sum_k (w_k / W) * x_k with integer weights, W = sum w_k, in float64."""
    weights = [int(w) for w in weights]
    total = sum(weights)
    if total <= 0 or total >= 2**53 or min(weights) < 0:
        raise ValueError(f"weights must be non-negative integers with a positive sum below 2^53, got {weights}")
    return linear_combination(values, [float(w) / float(total) for w in weights])


def mean(values: Iterable[torch.Tensor]) -> torch.Tensor:
    """The uniform mean: the tensors summed one at a time from +0.0, then divided by their count."""
    acc, count = None, 0
    for x in values:
        if acc is None:
            acc = torch.zeros(x.shape, dtype=torch.float64)
        acc += widen(x)
        count += 1
    if acc is None:
        raise ValueError("the mean of no tensors is undefined")
    return acc / float(count)


def sqrt(values: torch.Tensor) -> torch.Tensor:
    """The correctly rounded square root of each float64 coordinate (numpy's; torch's is not)."""
    return torch.from_numpy(np.sqrt(widen(values).numpy()))


def _units(x: np.ndarray) -> int:
    """The exact sum of the finite float64 values `x`, in units of 2^-1074, as an integer."""
    bits = x.view(np.int64)
    key = bits >> 52  # sign and exponent field: e for x >= 0, e - 2048 for x < 0
    lowest = int(key.min())
    slot = key - lowest
    count = np.bincount(slot)
    fraction = bits & _FRACTION
    high = np.bincount(slot, weights=fraction >> 26)
    low = np.bincount(slot, weights=fraction & _LOW26)
    total = 0
    for s in np.flatnonzero(count).tolist():
        key_s = lowest + s
        e = key_s & 0x7FF
        units = ((int(count[s]) << 52) if e else 0) + (int(high[s]) << 26) + int(low[s])
        total += (-units if key_s < 0 else units) << max(e - 1, 0)
    return total


def _float64(values) -> np.ndarray:
    array = widen(values).numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=np.float64)
    return np.ascontiguousarray(array).reshape(-1)


def exact_sum(values) -> float:
    """The exactly rounded sum of all coordinates of a float64 array or tensor: `math.fsum`'s value
    (an inf or NaN among them: `math.fsum`'s answer), computed a few times faster."""
    x = _float64(values)
    if not np.isfinite(x).all():
        return math.fsum(x.tolist())
    total = sum(_units(x[start:start + _CHUNK]) for start in range(0, len(x), _CHUNK))
    try:
        return total / (1 << 1074) if total else 0.0
    except OverflowError:
        return math.inf if total > 0 else -math.inf


def squared_norm(vector: torch.Tensor) -> float:
    """sum_i v_i^2, each square rounded, the sum exactly rounded."""
    v = widen(vector)
    return exact_sum(v * v)


def squared_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """sum_i (a_i - b_i)^2, each difference and square rounded, the sum exactly rounded."""
    d = widen(a) - widen(b)
    return exact_sum(d * d)


def pairwise_squared_distances(rows: torch.Tensor) -> list[list[float]]:
    """dist[i][j] = squared_distance(rows[i], rows[j]) for the rows of a 2-D tensor (0.0 for i = j)."""
    r = widen(rows).numpy()
    n = len(r)
    block = max(1, (1 << 22) // max(r[0].size if n else 1, 1))  # rows of differences at a time: ~32 MB
    dist = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for start in range(i + 1, n, block):
            differences = r[start:start + block] - r[i]  # (b - a)^2 == (a - b)^2 exactly: rounding is symmetric
            for j, d in enumerate(differences, start=start):
                dist[i][j] = dist[j][i] = exact_sum(d * d)
    return dist
