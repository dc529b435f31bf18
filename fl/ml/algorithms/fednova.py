"""FedNova: Wang, Liu, Liang, Joshi, Poor, "Tackling the Objective Inconsistency Problem in
Heterogeneous Federated Optimization", NeurIPS 2020.

Clients that run more local steps move further, and plain averaging then drifts towards their
objectives. FedNova averages the clients' moves normalized by their amount of local work ||a_i||₁
and rescales by the effective number of steps τ_eff = Σ p_i ||a_i||₁ (p_i = n_i / Σ n):

    x ← x − τ_eff Σ_i p_i (x − y_i) / ||a_i||₁

For plain SGD ||a_i||₁ = τ_i, the client's number of local steps; with SGD momentum ρ it is
[τ_i − ρ(1 − ρ^τ_i)/(1 − ρ)] / (1 − ρ) (the paper's momentum variant). Each client sends its
||a_i||₁ in the update (`fednova.a_norm`, committed on chain with the model). With equal local
steps this is FedAvg.

Arithmetic, in float64 with each operation rounded on its own (fl/ml/exact.py), clients i = 1..K in
ascending client id, n_i their sample counts (integers, N = Σ n_i exact), a_i the float64 value
of each update's `fednova.a_norm`:

    p_i = float64(n_i) / float64(N)
    τ_eff = ((p_1 * a_1) + (p_2 * a_2)) + ... + (p_K * a_K)      (from 0, left to right)
    c_i = (p_i * τ_eff) / a_i
    move_0 = +0.0,  move_i = move_{i-1} + (c_i * (y_i − x))      (y_i, x widened to float64)
    x_new = x + move_K, rounded once to x's dtype

(x − τ_eff Σ p_i (x − y_i)/a_i written as x + Σ c_i (y_i − x).) Integer tensors are carried over
from the previous model.

An update is aggregated only if its `fednova.a_norm` is a positive float64 scalar equal (to a
relative 1e-9, for libm's `pow`) to the ||a_i||₁ of the local steps `steps` in its signed
metadata, and `steps` is at most what its signed `num_samples` give in the task's local epochs
(fl/ml/validate.py). So a client's step length is bounded by its sample count, the claim its
weight already rests on.

No robust aggregation rule (only `mean`): a rule could stand in for the weighted mean of the
normalized moves d_i = (x − y_i)/a_i, but the step length τ_eff = Σ p_i a_i would still be made of
what each client reports (its a_i and n_i), so one client claiming a huge a_i would scale
whatever the rule picks as far as it liked.
"""
from __future__ import annotations

import torch
from torch import nn

from fl.core.config import ExperimentConfig, TrainConfig
from fl.core.errors import UserError
from fl.ml.algorithms.api import ClientContext, State, Update, model_part
from fl.ml.algorithms.base import Algorithm
from fl.ml.exact import linear_combination, widen
from fl.ml.training import effective_steps
from fl.ml.validate import steps_problem

A_NORM = "fednova.a_norm"
#: how far a reported ||a_i||₁ may be from the one recomputed from its steps (libm's pow may differ by an ulp)
A_NORM_TOLERANCE = 1e-9


class FedNova(Algorithm):
    name = "fednova"
    #: the step length comes from the clients' own claims: no robust rule (see the module docstring)
    takes_rule = False

    def setup(self, cfg: ExperimentConfig, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().setup(cfg, model, input_shape)
        if cfg.train.optimizer != "sgd" or cfg.train.momentum >= 1:
            raise UserError(f"algorithm 'fednova' normalizes SGD steps and cannot use optimizer "
                            f"{cfg.train.optimizer!r} with momentum {cfg.train.momentum}; use --optimizer sgd "
                            f"with momentum below 1")

    def client_update(self, ctx: ClientContext) -> Update:
        update = super().client_update(ctx)
        update.tensors[A_NORM] = torch.tensor(effective_steps(update.steps, ctx.train.momentum), dtype=torch.float64)
        return update

    def update_problem(self, update: Update, global_state: State, train: TrainConfig) -> str | None:
        problem = super().update_problem(update, global_state, train)
        if problem:
            return problem
        a_norm = update.tensors.get(A_NORM)
        if a_norm is None or a_norm.dtype != torch.float64 or a_norm.shape != ():
            return f"tensor {A_NORM!r} is missing or not a float64 scalar"
        claimed = float(a_norm)
        if not claimed > 0:
            return f"{A_NORM} is {claimed!r}, not positive"
        problem = steps_problem(update.steps, update.num_samples, train)
        if problem:
            return problem
        done = effective_steps(update.steps, train.momentum)
        if not abs(claimed - done) <= A_NORM_TOLERANCE * done:
            return (f"{A_NORM} is {claimed!r}, but its {update.steps} local steps with momentum {train.momentum} "
                    f"amount to {done!r}")
        return None

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        model = model_part(previous)
        total = sum(u.num_samples for u in updates)
        shares = [float(u.num_samples) / float(total) for u in updates]
        work = [float(u.tensors[A_NORM]) for u in updates]
        tau_eff = 0.0
        for p, a in zip(shares, work):
            tau_eff += p * a
        coefficients = [(p * tau_eff) / a for p, a in zip(shares, work)]
        new: State = {}
        for name, x in model.items():
            if not x.is_floating_point():
                new[name] = x.clone()
                continue
            x64 = widen(x)
            move = linear_combination((widen(u.tensors[name]) - x64 for u in updates), coefficients)
            new[name] = (x64 + move).to(x.dtype)
        return new
