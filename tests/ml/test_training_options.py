"""Each experiment option of the local training and client sampling is honoured."""
import pytest
import torch

from fl.core.config import build as build_config
from fl.core.errors import UserError
from fl.core.store import ArtifactStore
from fl.ml.algorithms import build
from fl.ml.data.synthetic_images import generate
from fl.ml.models import build as build_model
from fl.run.engine import Engine
from fl.run.assembly import check_names


def weights(update):
    return update.tensors["classifier.weight"]


def test_steps_are_epochs_times_batches(tiny_client):
    result = build("fedavg").client_update(tiny_client(batch_size=5, local_epochs=2))
    assert result.steps == 2 * 3  # 12 samples in batches of 5, 5, 2


def test_learning_rate_scales_the_first_step(tiny_client):
    start = tiny_client().global_state["classifier.weight"]
    small = weights(build("fedavg").client_update(tiny_client(batch_size=12, lr=0.01))) - start
    large = weights(build("fedavg").client_update(tiny_client(batch_size=12, lr=0.03))) - start
    assert torch.allclose(large, 3 * small, rtol=1e-4, atol=1e-7)


def test_momentum_and_weight_decay_change_the_result(tiny_client):
    plain = weights(build("fedavg").client_update(tiny_client()))
    assert not torch.equal(weights(build("fedavg").client_update(tiny_client(momentum=0.9))), plain)
    decayed = weights(build("fedavg").client_update(tiny_client(weight_decay=0.5)))
    assert decayed.norm() < plain.norm()


def test_adam_moves_every_weight_by_about_the_learning_rate_on_its_first_step(tiny_client):
    ctx = tiny_client(batch_size=12, optimizer="adam", lr=0.001)
    start = ctx.global_state["classifier.weight"].clone()
    moved = (weights(build("fedavg").client_update(ctx)) - start).abs()
    assert torch.allclose(moved, torch.full_like(moved, 0.001), rtol=1e-3)


def sampling_engine(tmp_path, fraction, seed=0):
    cfg = build_config(None, {"train.clients": 10, "train.fraction": fraction, "seed": seed})
    data = generate(train_size=40, test_size=10)
    model = build_model("logreg", data.input_shape, 10, seed=0)
    parts = [torch.arange(4 * i, 4 * i + 4) for i in range(10)]
    return Engine(cfg, data, parts, model, build("fedavg"), ArtifactStore(tmp_path), None, list(range(1, 11)))


def test_fraction_samples_that_share_of_clients_each_round_seeded(tmp_path):
    engine = sampling_engine(tmp_path, 0.3)
    rounds = [engine.select(r) for r in range(1, 6)]
    assert all(len(s) == 3 and s == sorted(s) and set(s) <= set(range(1, 11)) for s in rounds)
    assert len({tuple(s) for s in rounds}) > 1
    assert rounds == [sampling_engine(tmp_path, 0.3).select(r) for r in range(1, 6)]
    assert rounds != [sampling_engine(tmp_path, 0.3, seed=1).select(r) for r in range(1, 6)]
    assert sampling_engine(tmp_path, 1.0).select(1) == list(range(1, 11))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(UserError, match="device 'cuda' asked for but torch sees no CUDA GPU here; use --device cpu"):
        check_names(build_config(None, {"train.device": "cuda"}))
