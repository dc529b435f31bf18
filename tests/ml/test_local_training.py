"""The client step: a reused optimizer steps bit for bit like a fresh one; the thread setting is checked."""
import copy

import pytest
import torch

from fl.core import config
from fl.core.errors import UserError
from fl.ml.algorithms import build
from fl.ml.algorithms.api import ClientContext
from fl.ml.data.synthetic_images import generate
from fl.ml.models import build as build_model


def client_step(algorithm, model, data, global_state, client_id):
    ctx = ClientContext(round=1, client_id=client_id, model=model, global_state=global_state, train_x=data.train_x,
                        train_y=data.train_y, indices=torch.arange(64 * client_id, 64 * client_id + 64),
                        train=config.TrainConfig(), generator=torch.Generator().manual_seed(client_id))
    return algorithm.client_update(ctx).tensors


def test_reused_optimizer_gives_the_same_update_as_a_fresh_one():
    data = generate(train_size=256, test_size=10)
    model = build_model("cnn", (1, 28, 28), 10, seed=0)
    global_state = copy.deepcopy(model.state_dict())
    shared = build("fedavg")
    reused = [client_step(shared, model, data, global_state, cid) for cid in (1, 2, 3)]
    fresh = [client_step(build("fedavg"), copy.deepcopy(model), data, global_state, cid) for cid in (1, 2, 3)]
    for a, b in zip(reused, fresh):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(reused[0]["classifier.weight"], reused[1]["classifier.weight"])


def test_thread_count_must_be_positive():
    with pytest.raises(UserError, match="train.threads must be a positive integer, got 0"):
        config.build(None, {"train.threads": 0})


def test_a_cnn_trains_in_channels_last_and_leaves_its_state_in_the_default_layout():
    from fl.ml.training import local_sgd

    data = generate(train_size=128, test_size=10)
    model = build_model("niid-cnn", (1, 28, 28), 10, seed=0)
    conv = model.features[3].weight  # 16 x 6 x 5 x 5 (with one input channel both layouts are alike)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seen = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    local_sgd(model, data.train_x, data.train_y, torch.arange(128), epochs=1, batch_size=32, optimizer=optimizer,
              generator=torch.Generator().manual_seed(0),
              after_step=lambda: seen.append(conv.is_contiguous(memory_format=torch.channels_last)
                                             and not conv.is_contiguous()))
    assert seen == [True] * 4
    state = model.state_dict()
    assert all(v.is_contiguous() for v in state.values())
    assert not torch.equal(state["features.0.weight"], before["features.0.weight"])
    assert model.features[3].weight is conv  # the optimizer's parameters are still the model's
