"""Each algorithm's defining math, checked on a tiny problem against FedAvg or a hand computation."""
import math

import pytest
import torch
from torch.nn import functional as F

from fl.core.config import TrainConfig
from fl.core.config import build as build_config
from fl.core.errors import UserError
from fl.ml.algorithms import ALGORITHMS, build
from fl.ml.algorithms.api import Update, model_part
from fl.ml.algorithms.fednova import A_NORM
from fl.ml.algorithms.moon import PREVIOUS_MODEL, contrastive_loss
from fl.ml.algorithms.scaffold import CLIENT_C, DELTA_C, SERVER_C, SERVER_CLIENTS
from fl.ml.models import build as build_model
from fl.ml.training import effective_steps

PREVIOUS = {"w": torch.tensor([1.0, -2.0]), "n": torch.tensor(5)}


def update(client, samples, w, **extra):
    return Update(client, samples, {"w": torch.tensor(w), "n": torch.tensor(0), **extra})


UPDATES = [update(1, 10, [2.0, 0.0]), update(2, 30, [0.0, -4.0])]  # weighted mean w = [0.5, -3.0]


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def setup_for(algorithm, model, **config):
    algorithm.setup(build_config(None, {"train.clients": 4, **config}), model, (4,))
    return algorithm


# --- FedProx ---------------------------------------------------------------------------------
def test_fedprox_with_mu_zero_is_fedavg_bit_for_bit(tiny_client):
    fedavg = build("fedavg").client_update(tiny_client(momentum=0.9))
    fedprox = build("fedprox", {"mu": 0.0}).client_update(tiny_client(momentum=0.9))
    assert same(fedprox.tensors, fedavg.tensors)
    assert fedprox.train_loss == fedavg.train_loss


def test_fedprox_loss_adds_mu_half_squared_distance_to_the_global_model(tiny_client):
    ctx = tiny_client()
    with torch.no_grad():
        ctx.model.classifier.weight.add_(0.5)  # 12 weights each 0.5 away from the global ones
    x, y = ctx.train_x[:4], ctx.train_y[:4]
    loss = build("fedprox", {"mu": 0.2}).loss_fn(ctx)(ctx.model, x, y)
    expected = F.cross_entropy(ctx.model(x), y) + 0.2 / 2 * 12 * 0.25
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


# --- MOON ------------------------------------------------------------------------------------
def test_moon_with_mu_zero_is_the_cross_entropy_step(tiny_client):
    fedavg = build("fedavg").client_update(tiny_client(model="mlp-proj"))
    moon = build("moon", {"mu": 0.0}).client_update(tiny_client(model="mlp-proj"))
    assert same(moon.tensors, fedavg.tensors)


def test_moon_contrastive_loss_is_the_papers_formula():
    z, z_glob, z_prev = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]]), torch.tensor([[0.0, 1.0]])
    tau = 0.5
    positive, negative = math.exp((1 / math.sqrt(2)) / tau), math.exp(0.0 / tau)
    expected = -math.log(positive / (positive + negative))
    assert contrastive_loss(z, z_glob, z_prev, tau).item() == pytest.approx(expected, rel=1e-6)


def test_moon_keeps_the_clients_model_as_next_rounds_previous_model(tiny_client):
    ctx = tiny_client(model="mlp-proj")
    result = build("moon").client_update(ctx)
    assert same(ctx.state[PREVIOUS_MODEL], result.tensors)
    assert not same(ctx.state[PREVIOUS_MODEL], ctx.global_state)


def test_moon_with_a_model_without_projection_head_names_the_models_that_have_one():
    with pytest.raises(UserError, match="model 'mlp' has none; use one of: alexnet-proj, cnn-proj, lenet5-proj"):
        setup_for(build("moon"), build_model("mlp", (4,), 3, 0), **{"model.name": "mlp"})


# --- SCAFFOLD --------------------------------------------------------------------------------
def scaffold_context(tiny_client, **train):
    """A client with server c = 0.1 and its own c_i = -0.2 on every parameter."""
    algorithm = setup_for(build("scaffold"), build_model("logreg", (4,), 3, 0))
    start = tiny_client()
    global_state = algorithm.initial_state(dict(start.global_state))
    for name in ("classifier.weight", "classifier.bias"):
        global_state[SERVER_C + name] = torch.full_like(global_state[name], 0.1)
    client_c = {name: torch.full_like(global_state[name], -0.2) for name in ("classifier.weight", "classifier.bias")}
    return algorithm, tiny_client(global_state=global_state, state={CLIENT_C: dict(client_c)}, **train), client_c


def test_scaffold_control_variate_is_option_two(tiny_client):
    algorithm, ctx, client_c = scaffold_context(tiny_client)
    result = algorithm.client_update(ctx)
    lr, steps = 0.1, result.steps
    for name, old in client_c.items():
        x, y = ctx.global_state[name].double(), result.tensors[name].double()
        expected = old.double() - 0.1 + (x - y) / (steps * lr)  # c_i+ = c_i - c + (x - y_i) / (K lr)
        assert torch.allclose(ctx.state[CLIENT_C][name].double(), expected, atol=1e-6)
        assert torch.allclose(result.tensors[DELTA_C + name].double(), expected - old.double(), atol=1e-6)


def test_scaffold_with_momentum_divides_by_the_effective_number_of_steps(tiny_client):
    algorithm, ctx, client_c = scaffold_context(tiny_client, momentum=0.5)
    result = algorithm.client_update(ctx)
    name = "classifier.bias"
    x, y = ctx.global_state[name].double(), result.tensors[name].double()
    expected = client_c[name].double() - 0.1 + (x - y) / (effective_steps(result.steps, 0.5) * 0.1)
    assert torch.allclose(ctx.state[CLIENT_C][name].double(), expected, atol=1e-6)


def test_scaffold_corrects_each_gradient_by_c_minus_c_i(tiny_client):
    algorithm, ctx, _ = scaffold_context(tiny_client, batch_size=12)  # one step over all 12 samples
    model = build_model("logreg", (4,), 3, 0)
    F.cross_entropy(model(ctx.train_x[:12]), ctx.train_y[:12]).backward()
    result = algorithm.client_update(ctx)
    assert result.steps == 1
    expected = ctx.global_state["classifier.weight"] - 0.1 * (model.classifier.weight.grad + 0.1 - (-0.2))
    assert torch.allclose(result.tensors["classifier.weight"], expected, atol=1e-6)


SCAFFOLD_PREVIOUS = {"w": torch.tensor([1.0, -2.0]), SERVER_C + "w": torch.tensor([0.5, 0.5]),
                     SERVER_CLIENTS: torch.tensor(4)}


def scaffold_update(client, samples, steps, w, delta_c):
    return Update(client, samples, {"w": torch.tensor(w), DELTA_C + "w": torch.tensor(delta_c)}, steps=steps)


def test_scaffold_server_with_equal_work_is_the_papers_step():
    updates = [scaffold_update(1, 10, 6, [2.0, 0.0], [0.4, 0.0]), scaffold_update(3, 30, 2, [0.0, -4.0], [0.4, -0.8])]
    new = build("scaffold").aggregate(SCAFFOLD_PREVIOUS, updates)  # n_i K_i = 60 for both
    assert torch.equal(new["w"], torch.tensor([0.5, -3.0]))  # sample-weighted mean
    assert torch.allclose(new[SERVER_C + "w"], torch.tensor([0.5 + 0.8 / 4, 0.5 - 0.8 / 4]))  # c + sum(dc) / N
    assert new[SERVER_CLIENTS].item() == 4


def test_scaffold_server_weighs_delta_c_by_samples_times_steps():
    updates = [scaffold_update(1, 10, 1, [2.0, 0.0], [0.4, 0.0]), scaffold_update(3, 30, 1, [0.0, -4.0], [0.4, -0.8])]
    new = build("scaffold").aggregate(SCAFFOLD_PREVIOUS, updates)
    # c + |S|/N * (10 * dc_1 + 30 * dc_3) / 40
    assert torch.allclose(new[SERVER_C + "w"], torch.tensor([0.5 + 0.5 * 0.4, 0.5 + 0.5 * 0.75 * -0.8]))


SCAFFOLD_TRAIN = TrainConfig(batch_size=2, local_epochs=3)  # 10 samples: 15 steps at most


def test_scaffold_takes_an_update_with_its_control_variate_change_and_true_steps():
    honest = scaffold_update(1, 10, 6, [2.0, 0.0], [0.4, 0.0])
    assert build("scaffold").update_problem(honest, SCAFFOLD_PREVIOUS, SCAFFOLD_TRAIN) is None


@pytest.mark.parametrize("tensors, steps, problem", [
    ({"w": torch.tensor([2.0, 0.0])}, 6, "tensor 'scaffold.delta_c.w' is missing"),
    ({"w": torch.tensor([2.0, 0.0]), DELTA_C + "w": torch.tensor([0.4])}, 6,
     "tensor 'scaffold.delta_c.w' is torch.float32 (1,), expected torch.float32 (2,)"),
    ({"w": torch.tensor([2.0, 0.0]), DELTA_C + "w": torch.tensor([0.4, 0.0])}, 16,
     "it claims 16 local steps; 10 samples in 3 epoch(s) of batch 2 take at most 15"),
])
def test_scaffold_refuses_an_update_without_its_control_variate_change_or_with_more_steps_than_its_samples(
        tensors, steps, problem):
    update = Update(1, 10, tensors, steps=steps)
    assert build("scaffold").update_problem(update, SCAFFOLD_PREVIOUS, SCAFFOLD_TRAIN) == problem


def test_scaffold_refuses_adam():
    with pytest.raises(UserError, match="cannot use optimizer 'adam'; use --optimizer sgd"):
        setup_for(build("scaffold"), build_model("logreg", (4,), 3, 0), **{"train.optimizer": "adam"})


# --- FedAvgM ---------------------------------------------------------------------------------
def test_fedavgm_without_momentum_and_server_lr_one_is_fedavg():
    fedavgm = build("fedavgm", {"server_momentum": 0.0, "server_lr": 1.0})
    new = fedavgm.aggregate(fedavgm.initial_state(PREVIOUS), UPDATES)
    assert same(model_part(new), build("fedavg").aggregate(PREVIOUS, UPDATES))


def test_fedavgm_velocity_accumulates_the_mean_move():
    fedavgm = build("fedavgm", {"server_momentum": 0.5, "server_lr": 2.0})
    state = fedavgm.initial_state(PREVIOUS)
    state["server.fedavgm.velocity.w"] = torch.tensor([1.0, 1.0])
    new = fedavgm.aggregate(state, UPDATES)
    velocity = torch.tensor([0.5 * 1.0 + (0.5 - 1.0), 0.5 * 1.0 + (-3.0 + 2.0)])  # beta v + (avg - x)
    assert torch.allclose(new["server.fedavgm.velocity.w"], velocity)
    assert torch.allclose(new["w"], PREVIOUS["w"] + 2.0 * velocity)
    assert new["n"].item() == 5


# --- FedAdam, FedYogi, FedAdagrad ------------------------------------------------------------
def by_hand(algorithm, v_old):
    """One server step of Reddi et al.'s Algorithm 2 from m = 0, in plain Python per coordinate."""
    lr, beta1, beta2, tau = 0.1, 0.9, 0.99, 0.01
    out = []
    for x, avg, v in zip([1.0, -2.0], [0.5, -3.0], v_old):
        d = avg - x
        m = (1 - beta1) * d
        v = {"fedadam": beta2 * v + (1 - beta2) * d * d,
             "fedyogi": v - (1 - beta2) * d * d * math.copysign(1, v - d * d),
             "fedadagrad": v + d * d}[algorithm]
        out.append((x + lr * m / (math.sqrt(v) + tau), m, v))
    return out


@pytest.mark.parametrize("name", ["fedadam", "fedyogi", "fedadagrad"])
def test_adaptive_server_step_matches_a_hand_computation(name):
    params = {"server_lr": 0.1, "beta1": 0.9, "tau": 0.01, **({} if name == "fedadagrad" else {"beta2": 0.99})}
    algorithm = build(name, params)
    state = algorithm.initial_state(PREVIOUS)
    state[f"server.{name}.v.w"] = torch.tensor([2.0, 0.0001])  # v > delta^2 in one coordinate, < in the other
    new = algorithm.aggregate(state, UPDATES)
    expected = by_hand(name, [2.0, 0.0001])
    assert new["w"].tolist() == pytest.approx([e[0] for e in expected], rel=1e-6)
    assert new[f"server.{name}.m.w"].tolist() == pytest.approx([e[1] for e in expected], rel=1e-6)
    assert new[f"server.{name}.v.w"].tolist() == pytest.approx([e[2] for e in expected], rel=1e-6)


def test_adaptive_optimizers_start_from_v_equal_tau_squared():
    state = build("fedadam", {"tau": 0.01}).initial_state(PREVIOUS)
    assert torch.equal(state["server.fedadam.v.w"], torch.full((2,), 1e-4))
    assert torch.equal(state["server.fedadam.m.w"], torch.zeros(2))
    assert "server.fedadam.v.n" not in state  # integer tensors have no moments


# --- FedNova ---------------------------------------------------------------------------------
def test_fednova_with_equal_local_steps_is_fedavg():
    g = torch.Generator().manual_seed(1)
    previous = {"w": torch.randn(50, generator=g)}
    updates = [Update(i, n, {"w": torch.randn(50, generator=g), A_NORM: torch.tensor(12.0, dtype=torch.float64)})
               for i, n in ((1, 7), (2, 20), (3, 33))]
    nova = build("fednova").aggregate(previous, updates)
    assert torch.allclose(nova["w"], build("fedavg").aggregate(previous, updates)["w"], rtol=0, atol=1e-6)


def test_fednova_normalizes_each_move_by_its_local_steps():
    updates = [update(1, 10, [2.0, 0.0], **{A_NORM: torch.tensor(2.0, dtype=torch.float64)}),
               update(2, 30, [0.0, -4.0], **{A_NORM: torch.tensor(6.0, dtype=torch.float64)})]
    new = build("fednova").aggregate(PREVIOUS, updates)
    tau_eff = 0.25 * 2 + 0.75 * 6  # = 5
    expected = [x - tau_eff * (0.25 * (x - a) / 2 + 0.75 * (x - b) / 6) for x, a, b in ((1, 2, 0), (-2, 0, -4))]
    assert new["w"].tolist() == pytest.approx(expected, rel=1e-6)


def test_effective_steps_with_momentum_is_fednovas_norm():
    rho, steps = 0.5, 3
    a = [(1 - rho ** (steps - k)) / (1 - rho) for k in range(steps)]  # a_i = [1-ρ^3, 1-ρ^2, 1-ρ] / (1-ρ)
    assert effective_steps(steps, rho) == pytest.approx(sum(a))
    assert effective_steps(steps, 0.0) == 3.0


def test_fednova_sends_its_local_work_with_the_update(tiny_client):
    result = build("fednova").client_update(tiny_client(momentum=0.5))
    assert result.steps == 3  # 12 samples, batch 4
    assert result.tensors[A_NORM].item() == pytest.approx(effective_steps(3, 0.5))


NOVA_TRAIN = TrainConfig(batch_size=4, local_epochs=2, momentum=0.9)  # 10 samples: 3 steps an epoch, 6 at most


def nova_update(steps, a_norm, dtype=torch.float64):
    """Client 1's update of 10 samples claiming `steps` local steps and ||a||₁ = `a_norm` (None: no a_norm)."""
    tensors = {"w": torch.tensor([2.0, 0.0]), "n": torch.tensor(0)}
    if a_norm is not None:
        tensors[A_NORM] = torch.tensor(a_norm, dtype=dtype)
    return Update(1, 10, tensors, steps=steps)


def test_fednova_takes_the_norm_of_the_steps_it_claims():
    honest = nova_update(6, effective_steps(6, 0.9))
    assert build("fednova").update_problem(honest, PREVIOUS, NOVA_TRAIN) is None


@pytest.mark.parametrize("steps, a_norm, dtype, problem", [
    (6, None, torch.float64, "tensor 'fednova.a_norm' is missing or not a float64 scalar"),
    (6, 5.0, torch.float32, "tensor 'fednova.a_norm' is missing or not a float64 scalar"),
    (0, 0.0, torch.float64, "fednova.a_norm is 0.0, not positive"),
    (6, -1.0, torch.float64, "fednova.a_norm is -1.0, not positive"),
    (7, effective_steps(7, 0.9), torch.float64,
     "it claims 7 local steps; 10 samples in 2 epoch(s) of batch 4 take at most 6"),
    (6, 1000 * effective_steps(6, 0.9), torch.float64,
     f"fednova.a_norm is {1000 * effective_steps(6, 0.9)!r}, but its 6 local steps with momentum 0.9 amount to "
     f"{effective_steps(6, 0.9)!r}"),
])
def test_fednova_refuses_a_norm_that_its_signed_steps_and_samples_do_not_give(steps, a_norm, dtype, problem):
    """One client's inflated ||a_i||₁ would scale every other client's move (c_j = p_j τ_eff / a_j)."""
    claimed = nova_update(steps, a_norm, dtype)
    assert build("fednova").update_problem(claimed, PREVIOUS, NOVA_TRAIN) == problem


def test_fednova_allows_the_last_bits_of_pow_in_a_norm():
    exact = effective_steps(6, 0.9)
    nudged = nova_update(6, math.nextafter(math.nextafter(exact, math.inf), math.inf))
    assert build("fednova").update_problem(nudged, PREVIOUS, NOVA_TRAIN) is None


# --- all -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(set(ALGORITHMS) - {"fedbn"}))  # FedBN needs batch norm: test_personalized.py
def test_server_step_is_recomputed_bit_for_bit_by_a_fresh_instance(name, tiny_client):
    """What `verify` relies on: the new global artifact depends only on the stored artifacts."""
    first = build(name)
    setup_for(first, build_model("mlp-proj", (4,), 3, 0), **{"model.name": "mlp-proj"})
    start = first.initial_state(tiny_client(model="mlp-proj").global_state)
    updates = []
    for client in (1, 2):
        ctx = tiny_client(model="mlp-proj", global_state=start)
        ctx.client_id, ctx.indices = client, torch.arange(12) + 12 * (client - 1)
        updates.append(first.client_update(ctx))
    new = first.aggregate(start, updates)
    again = build(name).aggregate({k: v.clone() for k, v in start.items()}, updates)
    assert same(new, again)
    assert not same(model_part(new), model_part(start))


@pytest.mark.parametrize("name,params,message", [
    ("fedprox", {"mu": -1}, "algorithm 'fedprox': mu must be a non-negative number, got -1"),
    ("moon", {"temperature": 0}, "algorithm 'moon': temperature must be a positive number, got 0"),
    ("fedavgm", {"server_momentum": 1.0}, r"algorithm 'fedavgm': server_momentum must be in \[0, 1\), got 1.0"),
    ("fedadam", {"server_lr": "fast"}, "algorithm 'fedadam': server_lr must be a positive number, got 'fast'"),
    ("fedadagrad", {"beta2": 0.9}, "algorithm 'fedadagrad' has no parameter 'beta2'; its parameters: beta1, server_lr, tau"),
])
def test_bad_algorithm_parameters_are_named(name, params, message):
    with pytest.raises(UserError, match=message):
        build(name, params)


# --- the template ----------------------------------------------------------------------------
def test_every_algorithm_is_an_algorithm_and_the_template_itself_is_abstract():
    from fl.ml.algorithms.base import Algorithm
    from fl.ml.algorithms.fedopt import FedOpt

    assert all(issubclass(cls, Algorithm) for cls in ALGORITHMS.values())
    for abstract in (Algorithm, FedOpt):
        with pytest.raises(TypeError, match="abstract"):
            abstract()


# the personalized algorithms keep part of the model out of `combine`: test_personalized.py
@pytest.mark.parametrize("name", sorted(n for n, cls in ALGORITHMS.items() if cls.takes_rule and not cls.personalized))
def test_a_rule_given_to_the_constructor_replaces_the_mean_in_the_server_step(name):
    """The median of [0, 0], [1, 1], [9, 9] is [1, 1] where the weighted mean is [4, 4]: each
    algorithm's step starts from what `combine` gives, so its rule hash names the rule."""
    from fl.ml.robust import rules

    model = build_model("mlp-proj", (4,), 3, 0)
    start = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
    updates = []
    for client, value in ((1, 0.0), (2, 1.0), (3, 9.0)):
        tensors = {k: torch.full_like(v, value) if v.is_floating_point() else v.clone() for k, v in start.items()}
        tensors.update({DELTA_C + k: torch.zeros_like(p) for k, p in model.named_parameters()})
        updates.append(Update(client, 10, tensors, steps=2))
    median = setup_for(build(name, rule=rules.build("median")), model, **{"model.name": "mlp-proj"})
    assert median.combined(median.initial_state(start), updates)["head.weight"].unique().tolist() == [1.0]
    mean = setup_for(build(name), model, **{"model.name": "mlp-proj"})
    assert mean.combined(mean.initial_state(start), updates)["head.weight"].unique().tolist() == [
        pytest.approx(10 / 3)]
    assert not same(model_part(median.aggregate(median.initial_state(start), updates)),
                    model_part(mean.aggregate(mean.initial_state(start), updates)))
    assert median.rule() == {**mean.rule(), "aggregation": {"rule": "median", "params": {}}}
    assert median.rule_hash() != mean.rule_hash()


def test_fedavgm_with_no_momentum_and_unit_rate_is_the_rule_itself():
    from fl.ml.robust import rules

    algorithm = build("fedavgm", {"server_lr": 1.0, "server_momentum": 0.0}, rules.build("median"))
    start = algorithm.initial_state(PREVIOUS)
    third = update(3, 5, [90.0, 90.0])
    new = algorithm.aggregate(start, UPDATES + [third])
    assert model_part(new)["w"].tolist() == [2.0, 0.0]  # per coordinate: median(2, 0, 90), median(0, -4, 90)


def test_fednova_refuses_a_robust_rule_naming_it_the_rule_and_the_choices():
    from fl.ml.algorithms.fednova import FedNova
    from fl.ml.robust import rules

    others = ", ".join(sorted(n for n in ALGORITHMS if n != "fednova"))
    message = (f"algorithm 'fednova' cannot use aggregation rule 'krum': its server step is not a combination of "
               f"client models; use aggregation rule 'mean' or another algorithm (one of: {others})")
    for make in (lambda: build("fednova", rule=rules.build("krum")), lambda: FedNova(rule=rules.build("krum"))):
        with pytest.raises(UserError) as caught:
            make()
        assert str(caught.value) == message
    assert "aggregation" not in build("fednova").rule()
