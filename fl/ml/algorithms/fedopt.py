"""The server optimizers of Reddi, Charles, Zaheer, Garrett, Rush, Konečný, Kumar, McMahan,
"Adaptive Federated Optimization", ICLR 2021 (Algorithm 2): FedAdagrad, FedAdam and FedYogi
differ only in how the second moment v is updated (`second_moment`, in their own files).

With Δ = avg(y_i) − x the clients' mean move (the pseudo-gradient's negative):

    m ← β1 m + (1 − β1) Δ,    v ← second_moment(v, Δ²),    x ← x + η m / (√v + τ)

starting from m = 0 and v = τ², without bias correction, as in the paper. m and v are server
state: they live in the global artifact under `server.<name>.m.` and `server.<name>.v.`.
Clients train as in FedAvg; the average they are compared with is FedAvg's (sample-weighted).

Arithmetic (see server_step.py): float64, per coordinate, each operation rounded on its own, in
this order, with avg the combined model rounded to its dtype and m, v the stored moments widened:

    Δ = avg − x
    m_new = (β1 * m) + ((1 − β1) * Δ)            (1 − β1 is computed in float64 first)
    v_new = second_moment(v, Δ * Δ)              (in each algorithm's file)
    x_new = x + ((η * m_new) / (sqrt(v_new) + τ))   (sqrt correctly rounded; τ added after it)

x_new, m_new and v_new are each rounded once to the tensor's dtype. The initial v is the float64
product τ * τ rounded to the tensor's dtype; the initial m is 0.
"""
from __future__ import annotations

import abc

import torch

from fl.core.params import Param
from fl.ml.algorithms import server_step
from fl.ml.algorithms.api import SERVER_PREFIX, State, Update, model_part, prefixed, unprefixed
from fl.ml.algorithms.base import Algorithm
from fl.ml.exact import sqrt, widen

SERVER_LR = Param("server_lr", 0.03, above=0)
BETA1 = Param("beta1", 0.9, at_least=0, below=1)
BETA2 = Param("beta2", 0.99, at_least=0, below=1)
TAU = Param("tau", 1e-3, above=0)


class FedOpt(Algorithm):
    """The shared part of FedAdagrad, FedAdam and FedYogi; not registered itself."""

    parameters = (SERVER_LR, BETA1, BETA2, TAU)

    @property
    def first_moment_prefix(self) -> str:
        return f"{SERVER_PREFIX}{self.name}.m."

    @property
    def second_moment_prefix(self) -> str:
        return f"{SERVER_PREFIX}{self.name}.v."

    @abc.abstractmethod
    def second_moment(self, v: torch.Tensor, delta_squared: torch.Tensor) -> torch.Tensor:
        """v_new from the stored v and Δ², both float64."""

    def initial_state(self, model_state: State) -> State:
        tau = float(self.params["tau"])
        return {**model_state, **prefixed(self.first_moment_prefix, server_step.filled_like(model_state, 0.0)),
                **prefixed(self.second_moment_prefix, server_step.filled_like(model_state, tau * tau))}

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        averaged = self.combined(previous, updates)
        model = model_part(previous)
        lr, beta1, tau = (float(self.params[k]) for k in ("server_lr", "beta1", "tau"))
        delta = server_step.mean_update(model, averaged)
        m_old = unprefixed(self.first_moment_prefix, previous)
        v_old = unprefixed(self.second_moment_prefix, previous)
        m = {name: beta1 * widen(m_old[name]) + (1 - beta1) * d for name, d in delta.items()}
        v = {name: self.second_moment(widen(v_old[name]), d * d) for name, d in delta.items()}
        step = {name: (lr * m[name]) / (sqrt(v[name]) + tau) for name in delta}
        return {**server_step.moved(model, averaged, step),
                **prefixed(self.first_moment_prefix, server_step.cast_like(m, model)),
                **prefixed(self.second_moment_prefix, server_step.cast_like(v, model))}
