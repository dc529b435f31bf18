"""Personalized algorithms without a chain: what stays local, what is sent, what the server makes of it."""
import pytest
import torch

from fl.core import codec
from fl.core.config import ExperimentConfig, TrainConfig
from fl.core.errors import UserError
from fl.ml import algorithms, models
from fl.ml.algorithms.api import PERSONAL_DIGEST, ClientContext, Update, personal_metadata
from fl.ml.algorithms.personal import LOCAL_NAMES, PERSONAL, names_of
from fl.ml.training import state_of

SHAPE, CLASSES = (1, 28, 28), 10
#: the algorithms that keep part of the global model local, with a model they apply to
SPLIT = [("fedper", "niid-cnn"), ("fedrep", "niid-cnn"), ("fedbn", "niid-cnn-bn")]


def set_up(name, model_name, **params):
    cfg = ExperimentConfig()
    cfg.model.name = model_name
    model = models.build(model_name, SHAPE, CLASSES, seed=0)
    algorithm = algorithms.build(name, params)
    algorithm.setup(cfg, model, SHAPE)
    return algorithm, model, algorithm.initial_state(state_of(model))


def context(model, global_state, client_id=1, state=None, round_=1):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(40, *SHAPE, generator=g)
    y = torch.arange(40) % CLASSES
    return ClientContext(round=round_, client_id=client_id, model=model, global_state=global_state, train_x=x,
                         train_y=y, indices=torch.arange(40), train=TrainConfig(batch_size=8, lr=0.05),
                         generator=torch.Generator().manual_seed(client_id), state=state if state is not None else {})


def test_fedper_and_fedrep_keep_the_last_linear_layer():
    for name in ("fedper", "fedrep"):
        algorithm, _, start = set_up(name, "niid-cnn")
        assert algorithm.local_names(start) == {"classifier.4.weight", "classifier.4.bias"}


def test_fedper_head_layers_two_keeps_the_last_two_linear_layers():
    algorithm, _, start = set_up("fedper", "niid-cnn", head_layers=2)
    assert algorithm.local_names(start) == {"classifier.2.weight", "classifier.2.bias", "classifier.4.weight",
                                            "classifier.4.bias"}


def test_fedbn_keeps_every_batch_norm_tensor_and_nothing_else():
    algorithm, model, start = set_up("fedbn", "niid-cnn-bn")
    norms = {name for name in model.state_dict() if "running_mean" in name}
    assert len(norms) == 4
    local = algorithm.local_names(start)
    assert {n.rsplit(".", 1)[0] for n in local} == {n.rsplit(".", 1)[0] for n in norms}
    assert all(n.rsplit(".", 1)[1] in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
               for n in local)
    assert len(local) == 4 * 5


def test_the_global_artifact_lists_the_local_tensors():
    algorithm, _, start = set_up("fedbn", "niid-cnn-bn")
    assert start[LOCAL_NAMES].dtype == torch.uint8
    assert names_of(start[LOCAL_NAMES]) == algorithm.local_names(start)


@pytest.mark.parametrize("name,model_name", SPLIT)
def test_what_stays_local_never_enters_the_aggregate(name, model_name):
    algorithm, _, previous = set_up(name, model_name)
    local = algorithm.local_names(previous)
    shared = algorithm.shared_part(previous)
    updates = []
    for client_id, value in ((1, 1.0), (2, 3.0)):
        # a client that sends its local tensors anyway, with values far from the global model's
        tensors = {k: torch.full_like(v, value) if v.is_floating_point() else v + 7
                   for k, v in previous.items() if not k.startswith("server.")}
        tensors[PERSONAL_DIGEST] = torch.zeros(32, dtype=torch.uint8)
        updates.append(Update(client_id, 10 * client_id, tensors))
    new = algorithm.aggregate(previous, updates)
    for k in local:
        assert torch.equal(new[k], previous[k]), k
    for k, v in shared.items():
        if v.is_floating_point():
            assert torch.allclose(new[k], torch.full_like(v, (10 * 1.0 + 20 * 3.0) / 30)), k
    assert torch.equal(new[LOCAL_NAMES], previous[LOCAL_NAMES])


@pytest.mark.parametrize("name,model_name", SPLIT)
def test_a_client_sends_its_shared_part_and_the_hash_of_its_personal_part(name, model_name):
    algorithm, model, start = set_up(name, model_name, **({"head_epochs": 1} if name == "fedrep" else {}))
    ctx = context(model, start)
    update = algorithm.client_update(ctx)
    local = algorithm.local_names(start)
    assert not local & set(update.tensors)
    assert set(algorithm.shared_part(start)) <= set(update.tensors)
    personal = ctx.state[PERSONAL]
    assert set(personal) == local
    assert update.personal == codec.encode(personal, personal_metadata(1, 1))
    assert bytes(update.tensors[PERSONAL_DIGEST].tolist()) == codec.keccak(update.personal)


@pytest.mark.parametrize("name,model_name", SPLIT)
def test_a_client_trains_its_next_round_from_its_own_kept_part(name, model_name):
    algorithm, model, start = set_up(name, model_name, **({"head_epochs": 1} if name == "fedrep" else {}))
    state = {}
    algorithm.client_update(context(model, start, state=state))
    kept = {k: v.clone() for k, v in state[PERSONAL].items()}
    assert any(not torch.equal(kept[k], start[k]) for k in kept if kept[k].is_floating_point())
    ctx = context(model, start, state=state, round_=2)
    begin = algorithm.start_model(ctx)
    for k, v in kept.items():
        assert torch.equal(begin[k], v)
    personal_view = algorithm.personal_model(start, state)
    for k, v in kept.items():
        assert torch.equal(personal_view[k], v)


def test_fedrep_trains_the_head_with_the_body_frozen_then_the_body_with_the_head_frozen(monkeypatch):
    from fl.ml.algorithms import base

    algorithm, model, start = set_up("fedrep", "niid-cnn", head_epochs=2)
    phases = []
    real = base.local_sgd

    def spy(net, *args, epochs, **kwargs):
        trainable = {n for n, p in net.named_parameters() if p.requires_grad}
        phases.append((epochs, trainable))
        return real(net, *args, epochs=epochs, **kwargs)

    monkeypatch.setattr(base, "local_sgd", spy)
    update = algorithm.client_update(context(model, start))
    head = {n for n in algorithm.local_names(start)}
    assert phases[0] == (2, head)
    assert phases[1][0] == 1 and phases[1][1] == {n for n, _ in model.named_parameters()} - head
    assert all(p.requires_grad for p in model.parameters())
    assert update.steps == 3 * 5  # 40 samples in batches of 8, 2 + 1 epochs


def test_ditto_sends_fedavgs_update_and_keeps_a_personal_model_pulled_towards_the_global_one():
    algorithm, model, start = set_up("ditto", "niid-cnn", lam=1.0)
    fedavg = algorithms.build("fedavg")
    fedavg.setup(ExperimentConfig(), model, SHAPE)
    ctx = context(model, start)
    update = algorithm.client_update(ctx)
    plain = fedavg.client_update(context(model, start))
    for k, v in plain.tensors.items():
        assert torch.equal(update.tensors[k], v), k  # the global model's local update is FedAvg's, bit for bit
    personal = ctx.state[PERSONAL]
    assert set(personal) == set(model.state_dict())
    assert any(not torch.equal(personal[k], update.tensors[k]) for k in personal)
    assert algorithm.personal_model(start, ctx.state) is personal
    assert bytes(update.tensors[PERSONAL_DIGEST].tolist()) == codec.keccak(update.personal)


def test_ditto_with_a_large_lambda_keeps_the_personal_model_near_the_global_one():
    far, near = [], []
    for lam, out in ((0.0, far), (5.0, near)):  # lr 0.05: lr * lam stays well inside the stable range
        algorithm, model, start = set_up("ditto", "niid-cnn", lam=lam)
        ctx = context(model, start, state={})
        algorithm.client_update(ctx)
        out.append(sum(float(((ctx.state[PERSONAL][k] - start[k]) ** 2).sum()) for k, _ in model.named_parameters()))
    assert near[0] < far[0] / 3


def test_fedbn_on_a_model_without_batch_norm_says_which_model_to_use():
    with pytest.raises(UserError, match="niid-cnn-bn"):
        set_up("fedbn", "niid-cnn")


def test_a_head_as_large_as_the_model_is_refused():
    with pytest.raises(UserError, match="leave nothing shared; use head_layers below 1"):
        set_up("fedper", "logreg")
    with pytest.raises(UserError, match="fewer than head_layers 4; use head_layers of at most 3"):
        set_up("fedper", "niid-cnn", head_layers=4)


def test_personalized_algorithms_refuse_an_attack():
    cfg = ExperimentConfig()
    cfg.attack.name = "sign-flip"
    model = models.build("niid-cnn", SHAPE, CLASSES, seed=0)
    with pytest.raises(UserError, match="use attack none"):
        algorithms.build("fedper").setup(cfg, model, SHAPE)


@pytest.mark.parametrize("name,model_name", SPLIT + [("ditto", "niid-cnn")])
def test_the_server_step_is_recomputed_bit_for_bit_by_a_fresh_instance(name, model_name):
    algorithm, model, start = set_up(name, model_name, **({"head_epochs": 1} if name == "fedrep" else {}))
    updates = [algorithm.client_update(context(model, start, client_id=c)) for c in (1, 2)]
    new = algorithm.aggregate(start, updates)
    again = algorithms.build(name).aggregate({k: v.clone() for k, v in start.items()}, updates)
    assert codec.encode(new) == codec.encode(again)
    assert codec.encode(new) != codec.encode(start)


@pytest.mark.parametrize("name,model_name", SPLIT)
def test_a_robust_rule_combines_the_shared_part_and_leaves_the_local_part(name, model_name):
    from fl.ml.robust import rules

    algorithm = algorithms.build(name, rule=rules.build("median"))
    model = models.build(model_name, SHAPE, CLASSES, seed=0)
    cfg = ExperimentConfig()
    cfg.model.name = model_name
    algorithm.setup(cfg, model, SHAPE)
    start = algorithm.initial_state(state_of(model))
    updates = [Update(c, 10, {k: torch.full_like(v, value) if v.is_floating_point() else v.clone()
                              for k, v in algorithm.shared_part(start).items()})
               for c, value in ((1, 0.0), (2, 1.0), (3, 9.0))]
    new = algorithm.aggregate(start, updates)
    for k, v in algorithm.shared_part(start).items():
        if v.is_floating_point():
            assert new[k].unique().tolist() == [1.0], k
    for k in algorithm.local_names(start):
        assert torch.equal(new[k], start[k])


def test_an_update_without_its_personal_digest_is_invalid():
    algorithm, model, start = set_up("fedper", "niid-cnn")
    update = algorithm.client_update(context(model, start))
    assert algorithm.update_problem(update, start, TrainConfig()) is None
    del update.tensors[PERSONAL_DIGEST]
    assert algorithm.update_problem(update, start, TrainConfig()) == \
        "tensor 'personal.digest' is missing or not 32 bytes (uint8)"


def test_personalized_algorithms_refuse_a_committee():
    cfg = ExperimentConfig()
    cfg.committee.size = 2
    model = models.build("niid-cnn", SHAPE, CLASSES, seed=0)
    with pytest.raises(UserError, match="use committee.size 0"):
        algorithms.build("fedrep").setup(cfg, model, SHAPE)


def test_a_last_batch_of_one_sample_is_skipped_by_a_model_with_1d_batch_norm():
    from fl.ml.training import local_sgd, make_optimizer

    model = models.build("niid-cnn-bn", SHAPE, CLASSES, seed=0)
    x, y = torch.randn(9, *SHAPE), torch.arange(9) % CLASSES
    result = local_sgd(model, x, y, torch.arange(9), epochs=1, batch_size=4,
                       optimizer=make_optimizer("sgd", model.parameters(), 0.01, 0.9, 0.0),
                       generator=torch.Generator().manual_seed(0))
    assert result.steps == 2  # batches of 4, 4, and the last sample alone skipped
