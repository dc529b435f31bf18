"""FedIPR on the real chain: keys negotiated after registration, several owners' bits in one global model."""
import itertools
import json

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.chain.watermark import RegistryChain, negotiate_owner_keys
from fl.core import config
from fl.core.errors import UserError
from fl.core.store import ArtifactStore
from fl.ml import algorithms
from fl.ml.watermark.key import Watermark, commitment, signature_bits
from fl.ml.watermark.signature import bit_accuracy, scale_vector
from fl.chain.keys import client_keys
from fl.run.experiment import run_experiment


def fedipr_config(runs_dir, **overrides):
    return config.build(None, {"algorithm.name": "fedipr", "algorithm.params": {"owners": 2},
                               "model.name": "signalexnet-small", "data.name": "synthetic-images",
                               "train.clients": 3, "train.rounds": 2, "output.runs_dir": str(runs_dir),
                               "output.progress": False, **overrides})


@pytest.fixture(scope="module")
def fedipr_run(tmp_path_factory):
    """3 clients, clients 1 and 2 watermark, 2 rounds, on the test chain."""
    return run_experiment(fedipr_config(tmp_path_factory.mktemp("runs"))).path


def chain_info(run):
    return json.loads((run / "chain.json").read_text())


def owner_keys(run):
    info = chain_info(run)
    registry = RegistryChain.attach(info["algorithm"]["watermark_registry"])
    return {int(cid): registry.key_of(info["contract"], info["clients"][cid]) for cid in info["clients"]}


def test_owners_negotiate_their_keys_on_chain_from_their_own_accounts(fedipr_run):
    info = chain_info(fedipr_run)
    registry = RegistryChain.attach(info["algorithm"]["watermark_registry"])
    assert list(registry.contract.ownersOf(info["contract"])) == [info["clients"]["1"], info["clients"]["2"]]
    assert registry.settings(info["contract"]) == (32, 12)
    keys = owner_keys(fedipr_run)
    assert keys[3] is None
    assert info["algorithm"]["watermark_owners"] == {"1": commitment(keys[1]), "2": commitment(keys[2])}
    assert int((signature_bits(keys[1], 32) != signature_bits(keys[2], 32)).sum()) >= 12


def test_every_owner_detects_its_own_bits_in_the_global_model(fedipr_run):
    summary = json.loads((fedipr_run / "summary.json").read_text())
    final = summary["per_round"][-1]
    assert (final["detection_client1"], final["detection_client2"]) == (1.0, 1.0)
    assert "detection_client3" not in final
    state, _ = ArtifactStore(fedipr_run / "artifacts").get(summary["final_model"])
    keys = owner_keys(fedipr_run)
    gamma = scale_vector(state)
    assert [bit_accuracy(gamma, Watermark(keys[c], 32)) for c in (1, 2)] == [1.0, 1.0]


def test_the_initial_model_carries_no_watermark(fedipr_run):
    info = chain_info(fedipr_run)
    record = TaskChain.attach(info["contract"]).round_record(1)
    state, _ = ArtifactStore(fedipr_run / "artifacts").get(record.start_model)
    keys = owner_keys(fedipr_run)
    assert all(bit_accuracy(scale_vector(state), Watermark(keys[c], 32)) < 0.9 for c in (1, 2))


def test_verify_recomputes_every_fedipr_round(fedipr_run):
    report = verify_task(fedipr_run, TaskChain.attach(chain_info(fedipr_run)["contract"]))
    assert report.ok, [p for v in report.rounds for p in v.problems] + report.setup_problems
    assert [v.aggregated for v in report.rounds] == [3, 3]


def test_a_resumed_run_reads_its_keys_back_instead_of_drawing_new_ones(fedipr_run):
    info = chain_info(fedipr_run)
    task = TaskChain.attach(info["contract"])
    cfg = config.build(fedipr_run / "config.yaml")
    task.attach_clients(client_keys(cfg.seed, cfg.train.clients))
    txs = task.stats.txs
    again = negotiate_owner_keys(task, [1, 2], 32, 12, registry_address=info["algorithm"]["watermark_registry"])
    assert again.keys == {c: k for c, k in owner_keys(fedipr_run).items() if k is not None}
    assert task.stats.txs == txs


def test_a_registry_configured_otherwise_is_refused(fedipr_run):
    info = chain_info(fedipr_run)
    task = TaskChain.attach(info["contract"])
    with pytest.raises(UserError, match="holds task .* with 32 bits, distance 12; the config asks for 16 bits"):
        negotiate_owner_keys(task, [1], 16, 4, registry_address=info["algorithm"]["watermark_registry"])


def test_same_seed_on_the_same_chain_state_gives_the_same_keys_and_models(tmp_path):
    from brownie import chain

    chain.snapshot()
    first = run_experiment(fedipr_config(tmp_path / "a", **{"train.rounds": 1})).path
    chain.revert()
    second = run_experiment(fedipr_config(tmp_path / "b", **{"train.rounds": 1})).path
    summaries = [json.loads((r / "summary.json").read_text()) for r in (first, second)]
    assert chain_info(first)["algorithm"]["watermark_owners"] == chain_info(second)["algorithm"]["watermark_owners"]
    assert summaries[0]["final_model"] == summaries[1]["final_model"]


@pytest.mark.parametrize("params,message", [
    ({"bits": 0}, "^algorithm 'fedipr': bits must be an integer in 1..256, got 0$"),
    ({"bits": 1.5}, "^algorithm 'fedipr': bits must be an integer in 1..256, got 1.5$"),
    ({"min_distance": 40}, r"^algorithm 'fedipr': min_distance must be an integer in 0..bits \(32\), got 40$"),
    ({"owners": 0}, "^algorithm 'fedipr': owners must be an integer >= 1, got 0$"),
    ({"margin": -1}, "^algorithm 'fedipr': margin must be a non-negative number, got -1$"),
    ({"sign_weight": float("nan")}, "^algorithm 'fedipr': sign_weight must be a non-negative number, got nan$"),
    ({"colour": 1}, "algorithm 'fedipr' has no parameter 'colour'"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(UserError, match=message):
        algorithms.build("fedipr", params)


def test_more_owners_than_clients_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"owners \(4\) exceeds the number of clients \(3\)"):
        run_experiment(fedipr_config(tmp_path, **{"algorithm.params": {"owners": 4}}))


def test_a_model_without_sign_layers_is_refused(tmp_path):
    with pytest.raises(UserError, match="no normalization scale tensors"):
        run_experiment(fedipr_config(tmp_path, **{"model.name": "cnn", "train.rounds": 1}))


def test_keys_of_different_owners_differ_in_bits_and_matrix(fedipr_run):
    keys = [k for k in owner_keys(fedipr_run).values() if k is not None]
    for a, b in itertools.combinations(keys, 2):
        assert not (Watermark(a, 32).matrix(224) == Watermark(b, 32).matrix(224)).all()
