"""SCAFFOLD: Karimireddy, Kale, Mohri, Reddi, Stich, Suresh, "SCAFFOLD: Stochastic Controlled
Averaging for Federated Learning", ICML 2020 (Algorithm 1, control variates of option II).

Each client i corrects every local gradient by c − c_i, the server's control variate minus its
own (y ← y − η (g(y) − c_i + c)), and afterwards sets

    c_i⁺ = c_i − c + (x − y_i) / (K η)        (option II; K local steps, x the global model)

and sends Δc_i = c_i⁺ − c_i with its model. The server moves x by η_g times the clients' mean
move, sample-weighted as FedAvg weighs, and sets c ← c + (|S|/N) Σ_{i∈S} w_i Δc_i over the N clients.

The paper has every client run the same K steps and averages uniformly, with w_i = 1/|S|. Here
clients run epochs, so K_i grows with n_i, and the global move is Σ p_i (y_i − x) with
y_i − x ≈ −η K_i (ḡ_i + c − c_i): the corrections cancel in it only if c is the mean of the c_i
weighted as they enter it, w_i ∝ n_i K_i. With the uniform mean they do not, and on a Dirichlet(0.1)
split (K_i from 4 to 366) the large clients then drag the model along the small clients'
gradients until it diverges. With equal n_i K_i the weights are the paper's 1/|S|.

Where what lives: c_i in the client's `ctx.state`; c (and N) in the global artifact under
`server.scaffold.`; Δc_i in the update under `scaffold.delta_c.`, so the one hash a client
commits on chain covers its model and its control-variate change. Control variates are kept
for the model's trainable parameters. With SGD momentum ρ the correction goes through the
momentum like the gradient, and K in option II becomes the number of plain steps the K momentum
steps amount to (`effective_steps`, FedNova's ||a||₁), so that (x − y_i)/(K η) still estimates
the mean corrected gradient; ρ = 0 gives the paper's formula exactly.

Server arithmetic (float64, each operation rounded on its own; fl/ml/exact.py and server_step.py),
with avg the combined model rounded to its dtype, updates in ascending client id, η_g = server_lr:

    x_new = x + (η_g * (avg − x))                                 rounded to x's dtype
    W = Σ n_i K_i (integers: samples times local steps `steps`, exact)
    m = weighted mean of the Δc_i with weights n_i K_i: acc_0 = +0.0,
        acc_i = acc_{i-1} + ((float64(n_i K_i) / float64(W)) * Δc_i)
    c_new = c + ((float64(|S|) / float64(N)) * m)                  rounded to c's dtype

|S| the number of updates aggregated, N the stored `server.scaffold.clients`, which is carried
over unchanged. An update is aggregated only if it carries every Δc_i of the dtype and shape of
its control variate, and its signed `steps` (K_i in the weights) is at most what its signed
`num_samples` give in the task's local epochs (fl/ml/validate.py).
"""
from __future__ import annotations

import torch
from torch import nn

from fl.core.config import ExperimentConfig, TrainConfig
from fl.core.errors import UserError
from fl.core.params import Param
from fl.ml.algorithms import server_step
from fl.ml.algorithms.api import SERVER_PREFIX, ClientContext, State, Update, model_part, prefixed, unprefixed
from fl.ml.algorithms.base import Algorithm
from fl.ml.exact import weighted_mean, widen
from fl.ml.training import effective_steps
from fl.ml.validate import steps_problem

SERVER_C = SERVER_PREFIX + "scaffold.c."
SERVER_CLIENTS = SERVER_PREFIX + "scaffold.clients"
DELTA_C = "scaffold.delta_c."
CLIENT_C = "scaffold.c"  # key in ctx.state


def option_two(client_c: State, server_c: State, global_model: State, local_model: State, steps: float,
               step_size: float) -> State:
    """c_i⁺ = c_i − c + (x − y_i) / (K η), in float64, cast back to each tensor's dtype."""
    return {name: (client_c[name].double() - server_c[name].double()
                   + (global_model[name].double() - local_model[name].double()) / (steps * step_size)
                   ).to(client_c[name].dtype)
            for name in server_c}


class Scaffold(Algorithm):
    name = "scaffold"
    parameters = (Param("server_lr", 1.0, above=0),)

    def __init__(self, params=None, rule=None):
        super().__init__(params, rule)
        self.parameter_names: list[str] = []
        self.clients = 0

    def setup(self, cfg: ExperimentConfig, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().setup(cfg, model, input_shape)
        if cfg.train.optimizer != "sgd":
            raise UserError(f"algorithm 'scaffold' corrects SGD steps (option II divides by the step size) and "
                            f"cannot use optimizer {cfg.train.optimizer!r}; use --optimizer sgd")
        if cfg.train.momentum >= 1:
            raise UserError(f"algorithm 'scaffold' needs SGD momentum below 1, got {cfg.train.momentum}")
        self.parameter_names = [name for name, _ in model.named_parameters()]
        self.clients = cfg.train.clients

    def initial_state(self, model_state: State) -> State:
        if not self.parameter_names:
            raise RuntimeError("Scaffold.setup(cfg, model, input_shape) must run before initial_state")
        c = {name: torch.zeros_like(model_state[name]) for name in self.parameter_names}
        return {**model_state, **prefixed(SERVER_C, c), SERVER_CLIENTS: torch.tensor(self.clients, dtype=torch.int64)}

    # --- client side -------------------------------------------------------------------------
    def _client_c(self, ctx: ClientContext) -> State:
        server_c = unprefixed(SERVER_C, ctx.global_state)
        return ctx.state.get(CLIENT_C) or {name: torch.zeros_like(value) for name, value in server_c.items()}

    def before_step(self, ctx: ClientContext):
        client_c = self._client_c(ctx)
        parameters = dict(ctx.model.named_parameters())
        correction = {name: (c - client_c[name]).to(parameters[name].device)
                      for name, c in unprefixed(SERVER_C, ctx.global_state).items()}

        def correct() -> None:
            for name, c in correction.items():
                if parameters[name].grad is not None:
                    parameters[name].grad.add_(c)

        return correct

    def client_update(self, ctx: ClientContext) -> Update:
        client_c = self._client_c(ctx)
        update = super().client_update(ctx)
        t = ctx.train
        new_c = option_two(client_c, unprefixed(SERVER_C, ctx.global_state), ctx.global_state, update.tensors,
                           effective_steps(update.steps, t.momentum), t.lr)
        ctx.state[CLIENT_C] = new_c
        delta = {name: (new_c[name].double() - client_c[name].double()).to(new_c[name].dtype) for name in new_c}
        update.tensors.update(prefixed(DELTA_C, delta))
        return update

    # --- server side -------------------------------------------------------------------------
    def update_problem(self, update: Update, global_state: State, train: TrainConfig) -> str | None:
        problem = super().update_problem(update, global_state, train)
        if problem:
            return problem
        for name, c in sorted(unprefixed(SERVER_C, global_state).items()):
            delta = update.tensors.get(DELTA_C + name)
            if delta is None:
                return f"tensor {DELTA_C + name!r} is missing"
            if delta.shape != c.shape or delta.dtype != c.dtype:
                return (f"tensor {DELTA_C + name!r} is {delta.dtype} {tuple(delta.shape)}, expected {c.dtype} "
                        f"{tuple(c.shape)}")
        return steps_problem(update.steps, update.num_samples, train)

    def aggregate(self, previous: State, updates: list[Update]) -> State:
        averaged = self.combined(previous, updates)
        model = model_part(previous)
        move = server_step.mean_update(model, averaged)
        lr = float(self.params["server_lr"])
        new_model = server_step.moved(model, averaged, {name: lr * delta for name, delta in move.items()})
        server_c = unprefixed(SERVER_C, previous)
        share = float(len(updates)) / float(int(previous[SERVER_CLIENTS]))
        work = [u.num_samples * u.steps for u in updates]
        new_c = {name: (widen(c) + share * weighted_mean((u.tensors[DELTA_C + name] for u in updates), work)).to(c.dtype)
                 for name, c in server_c.items()}
        return {**new_model, **prefixed(SERVER_C, new_c), SERVER_CLIENTS: previous[SERVER_CLIENTS].clone()}
