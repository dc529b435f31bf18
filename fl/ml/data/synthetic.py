"""Synthetic(α, β): the federated data set of FedProx (Li, Sahu, Zaheer, Sanjabi, Talwalkar, Smith,
"Federated Optimization in Heterogeneous Networks", MLSys 2020, section 5.1), generated here, no download.

Each user k has its own softmax-regression task: y = argmax(W_k x + b_k) with W_k, b_k ~ N(u_k, 1)
and u_k ~ N(0, α) (α: how much the users' models differ), and its own inputs
x ~ N(v_k, Σ) with v_k ~ N(B_k, 1), B_k ~ N(0, β) (β: how much their inputs differ) and
Σ = diag(j^-1.2). Sample counts per user follow a power law (lognormal(4, 2) + 50, as in the
authors' generator, which also reads α and β as standard deviations). `iid: true` gives
Synthetic-IID: one W, b for all users and v_k = B_k. Each user keeps 90% of its samples for
training and 10% for the shared test set; the per-user split is the `natural` partition.
"""
from __future__ import annotations

import numpy as np
import torch

from fl.core.errors import UserError
from fl.ml.data.dataset import Dataset

DEFAULTS = {"alpha": 1.0, "beta": 1.0, "users": 30, "dimension": 60, "classes": 10, "iid": False, "seed": 0}
TRAIN_SHARE = 0.9


def _user_task(rng: np.random.Generator, alpha: float, beta: float, dimension: int, classes: int):
    u, b_mean = rng.normal(0.0, alpha), rng.normal(0.0, beta)
    weights = rng.normal(u, 1.0, (dimension, classes))
    bias = rng.normal(u, 1.0, classes)
    mean_x = rng.normal(b_mean, 1.0, dimension)
    return weights, bias, mean_x


def generate(alpha: float = 1.0, beta: float = 1.0, users: int = 30, dimension: int = 60, classes: int = 10,
             iid: bool = False, seed: int = 0) -> Dataset:
    for key, value, low in (("users", users, 1), ("dimension", dimension, 1), ("classes", classes, 2), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UserError(f"data.params.{key} of 'synthetic' must be an integer >= {low}, got {value!r}")
    for key, value in (("alpha", alpha), ("beta", beta)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise UserError(f"data.params.{key} of 'synthetic' must be a non-negative number, got {value!r}")
    rng = np.random.default_rng([seed, 0x5F9])
    sizes = rng.lognormal(4.0, 2.0, users).astype(np.int64) + 50
    scale = np.arange(1, dimension + 1, dtype=np.float64) ** -0.6  # sqrt of Σ's diagonal j^-1.2
    shared = _user_task(rng, 0.0, 0.0, dimension, classes)
    train, test = [], []
    for user, size in enumerate(sizes):
        weights, bias, mean_x = _user_task(rng, alpha, beta, dimension, classes)
        if iid:
            weights, bias, mean_x = shared[0], shared[1], np.full(dimension, rng.normal(0.0, beta))
        x = mean_x + scale * rng.standard_normal((size, dimension))
        y = np.argmax(x @ weights + bias, axis=1)  # softmax is monotone: its argmax is the logits' argmax
        cut = int(TRAIN_SHARE * size)
        train.append((x[:cut], y[:cut], np.full(cut, user)))
        test.append((x[cut:], y[cut:]))

    def stack(parts, column, dtype):
        return torch.from_numpy(np.concatenate([p[column] for p in parts])).to(dtype)

    return Dataset("synthetic", stack(train, 0, torch.float32), stack(train, 1, torch.int64),
                   stack(test, 0, torch.float32), stack(test, 1, torch.int64), classes,
                   train_client=stack(train, 2, torch.int64))


def load(root: str | None = None, allow_download: bool = True, **params) -> Dataset:
    return generate(**{**DEFAULTS, **params})
