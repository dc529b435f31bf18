"""`verify` passes on an honest run and fails, with the right message, on each kind of tampering."""
import json
import shutil

import pytest
import torch

from fl import algorithms
from fl.algorithms.api import Update
from fl.algorithms.fedavg import FedAvg
from fl.chain import TaskChain
from fl.experiment import run_experiment
from fl.verify import verify_task


@pytest.fixture(scope="module")
def honest_run(tmp_path_factory, FLTask):
    """One tiny honest run (3 clients, 2 rounds) shared by the tamper tests, which each tamper a copy."""
    from fl import config

    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                              "output.runs_dir": str(tmp_path_factory.mktemp("runs")), "output.progress": False})
    return run_experiment(cfg).path


@pytest.fixture
def run_copy(honest_run, tmp_path):
    target = tmp_path / honest_run.name
    shutil.copytree(honest_run, target)
    return target


def verify(run_path):
    info = json.loads((run_path / "chain.json").read_text())
    return verify_task(run_path, TaskChain.attach(info["contract"]))


def committed(run_path, round_, client_id):
    info = json.loads((run_path / "chain.json").read_text())
    return TaskChain.attach(info["contract"]).round_record(round_).commitments[client_id]


def only_failures(report):
    return [(v.round, p) for v in report.rounds for p in v.problems] + [(0, p) for p in report.setup_problems]


def test_untampered_run_verifies(run_copy):
    report = verify(run_copy)
    assert report.ok
    assert [(v.round, v.aggregated) for v in report.rounds] == [(1, 3), (2, 3)]


def test_altered_update_file_fails_with_both_hashes(run_copy):
    digest = committed(run_copy, 2, 2)
    path = run_copy / "artifacts" / f"{digest}.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    failures = only_failures(verify(run_copy))
    assert len(failures) == 1
    round_, message = failures[0]
    assert round_ == 2
    assert message.startswith(f"client 2: update artifact tampered: expected hash {digest}, found 0x")


def test_replaced_global_model_fails(run_copy):
    info = TaskChain.attach(json.loads((run_copy / "chain.json").read_text())["contract"])
    final = info.round_record(1).final_model
    initial = info.round_record(1).start_model
    shutil.copy(run_copy / "artifacts" / f"{initial}.safetensors", run_copy / "artifacts" / f"{final}.safetensors")
    failures = only_failures(verify(run_copy))
    assert (1, f"global model artifact tampered: expected hash {final}, found {initial}") in failures
    assert (2, f"start model artifact tampered: expected hash {final}, found {initial}") in failures


def test_missing_update_artifact_fails(run_copy):
    digest = committed(run_copy, 1, 1)
    (run_copy / "artifacts" / f"{digest}.safetensors").unlink()
    assert only_failures(verify(run_copy)) == [(1, f"client 1: update artifact {digest} is missing")]


class DropsLastUpdate(FedAvg):
    """A dishonest aggregator: claims all participants but averages all but the last."""

    def aggregate(self, previous, updates):
        return super().aggregate(previous, updates[:-1])


class MixesInAnExtraUpdate(FedAvg):
    """A dishonest aggregator: averages one uncommitted update in with the committed ones."""

    def aggregate(self, previous, updates):
        extra = {k: v + 0.5 if v.is_floating_point() else v for k, v in updates[0].tensors.items()}
        return super().aggregate(previous, updates + [Update(99, 100, extra)])


@pytest.mark.parametrize("dishonest", [DropsLastUpdate, MixesInAnExtraUpdate])
def test_aggregate_not_of_the_committed_updates_fails(dishonest, tiny_config, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setitem(algorithms.ALGORITHMS, "fedavg", dishonest)
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    failures = only_failures(verify(run.path))
    assert len(failures) == 1
    round_, message = failures[0]
    assert round_ == 1
    assert message.startswith("aggregate recomputed from the committed updates of clients [1, 2, 3] hashes to 0x")
    assert message.endswith(f"the chain finalized {json.loads((run.path / 'summary.json').read_text())['final_model']}")


def test_commitment_signed_by_another_account_fails(tiny_config, monkeypatch):
    """Even a task contract that skips the signature check cannot fool verify."""
    real_deploy = TaskChain.deploy.__func__
    real_sign = TaskChain.sign_commit

    def sign_with_client_3s_key(self, client_id, round_, update_hash):
        return real_sign(self, 3 if client_id == 2 else client_id, round_, update_hash)

    with monkeypatch.context() as patch:
        patch.setattr(TaskChain, "deploy",
                      classmethod(lambda cls, h, **o: real_deploy(cls, h, contract_name="FLTaskWithoutSignatureCheck", **o)))
        patch.setattr(TaskChain, "sign_commit", sign_with_client_3s_key)
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    clients = json.loads((run.path / "chain.json").read_text())["clients"]
    report = verify(run.path)
    assert only_failures(report) == [(1, f"client 2: commitment signed by {clients['3']}, "
                                         f"registered account is {clients['2']}")]


def test_weights_that_lie_fail(tiny_config, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(FedAvg, "weights", lambda self, updates: [1 for _ in updates])
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    messages = [m for _, m in only_failures(verify(run.path))]
    assert any(m.startswith("weights on chain [1, 1, 1] differ from the updates' [") for m in messages)


def test_edited_task_config_fails(run_copy):
    task = json.loads((run_copy / "task.json").read_text())
    task["config"]["train"]["lr"] = 0.5
    (run_copy / "task.json").write_text(json.dumps(task))
    messages = [m for _, m in only_failures(verify(run_copy))]
    assert any(m.startswith("task.json: its config hashes to 0x") for m in messages)
    assert any(m.startswith("config: the chain recorded 0x") for m in messages)


class NaNForClient2(FedAvg):
    """A client whose update is NaN: it commits, the aggregator must exclude it."""

    def client_update(self, ctx):
        update = super().client_update(ctx)
        if ctx.client_id == 2:
            update.tensors = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                              for k, v in update.tensors.items()}
        return update


def test_nan_update_is_excluded_and_the_run_still_verifies(tiny_config, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setitem(algorithms.ALGORITHMS, "fedavg", NaNForClient2)
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    rows = run.read_metrics()
    assert (rows[0].clients, rows[0].excluded) == (2, 1)
    report = verify(run.path)
    assert report.ok
    assert report.rounds[0].aggregated == 2
    assert report.rounds[0].notes == [
        "client 2 committed but was not aggregated (its update is invalid: tensor 'classifier.bias' holds NaN or Inf)"]


def test_commitment_with_a_bad_signature_is_rejected_and_the_run_continues(tiny_config, monkeypatch):
    real_sign = TaskChain.sign_commit

    def client_1_signs_another_round(self, client_id, round_, update_hash):
        return real_sign(self, client_id, round_ + 7 if client_id == 1 else round_, update_hash)

    with monkeypatch.context() as patch:
        patch.setattr(TaskChain, "sign_commit", client_1_signs_another_round)
        run = run_experiment(tiny_config(**{"train.rounds": 2}))
    assert [(r.clients, r.excluded) for r in run.read_metrics()] == [(2, 1), (2, 1)]
    report = verify(run.path)
    assert report.ok
    assert [v.aggregated for v in report.rounds] == [2, 2]


# --- a round in which no update can be used ----------------------------------------------------------

class NaNForEveryoneInRound1(FedAvg):
    """Every client's round-1 update is NaN: the round has nothing to aggregate."""

    def client_update(self, ctx):
        update = super().client_update(ctx)
        if ctx.round == 1:
            update.tensors = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                              for k, v in update.tensors.items()}
        return update


def test_a_round_without_usable_updates_keeps_its_start_model_and_verifies(tiny_config, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setitem(algorithms.ALGORITHMS, "fedavg", NaNForEveryoneInRound1)
        run = run_experiment(tiny_config(**{"train.rounds": 2}))
    task = TaskChain.attach(json.loads((run.path / "chain.json").read_text())["contract"])
    empty, next_round = task.round_record(1), task.round_record(2)
    assert (empty.participants, empty.final_model) == ([], empty.start_model)
    assert next_round.start_model == empty.start_model and next_round.participants == [1, 2, 3]
    assert [(r.clients, r.excluded) for r in run.read_metrics()] == [(0, 3), (3, 0)]
    report = verify(run.path)
    assert report.ok, only_failures(report)
    assert [v.aggregated for v in report.rounds] == [0, 3]


# --- weights: what verify catches and what it cannot ---------------------------------------------------

def test_an_aggregator_that_weighs_by_other_counts_than_the_signed_ones_fails(tiny_config, monkeypatch):
    """The aggregator inflates client 1's sample count after the client signed its update (and
    aggregates consistently with the lie): verify recomputes the weights from the signed artifacts."""
    import dataclasses

    from fl.engine import Engine

    real_participants = Engine.participants

    def inflate_client_1(self, round_, updates, outcome):
        return [dataclasses.replace(u, num_samples=u.num_samples * 10) if u.client_id == 1 else u
                for u in real_participants(self, round_, updates, outcome)]

    with monkeypatch.context() as patch:
        patch.setattr(Engine, "participants", inflate_client_1)
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    task = TaskChain.attach(json.loads((run.path / "chain.json").read_text())["contract"])
    counts = [int(Update.from_artifact(*_load(run.path, h)).num_samples)
              for _, h in sorted(task.round_record(1).commitments.items())]
    lie = [counts[0] * 10] + counts[1:]
    messages = [m for _, m in only_failures(verify(run.path))]
    assert f"weights on chain {lie} differ from the updates' {counts}" in messages


def _load(run_path, digest):
    from fl.store import ArtifactStore

    return ArtifactStore(run_path / "artifacts").get(digest)


class Client3ClaimsAMillionSamples(FedAvg):
    """A sybil client (one the aggregator registered, or a client lying about its own data) signs
    an update whose metadata claims 10**6 samples."""

    def client_update(self, ctx):
        update = super().client_update(ctx)
        if ctx.client_id == 3:
            update.num_samples = 10**6
        return update


def test_a_client_that_signs_a_huge_sample_count_gets_its_weight_and_verify_passes(tiny_config, monkeypatch):
    """What verify cannot catch, by design: a client's weight is the sample count it signed, and no
    one on chain can see its data. A sybil client the aggregator registers (or any client lying
    about its own count) therefore dominates the aggregate and takes nearly all of the round's
    reward, and the run still verifies. This is the trust assumption documented in fl/verify.py."""
    with monkeypatch.context() as patch:
        patch.setitem(algorithms.ALGORITHMS, "fedavg", Client3ClaimsAMillionSamples)
        run = run_experiment(tiny_config(**{"train.rounds": 1, "rewards.budget": 100}))
    info = json.loads((run.path / "chain.json").read_text())
    task = TaskChain.attach(info["contract"])
    report = verify(run.path)
    assert report.ok, only_failures(report)
    finalized = task.sender.contract.events.RoundFinalized.get_logs(from_block=0)
    weights = list(finalized[0].args.weights)
    assert weights[2] == 10**6 and max(weights[:2]) < 1000
    balances = json.loads((run.path / "summary.json").read_text())["rewards"]["balances"]
    assert balances["3"] > 99 * (balances["1"] + balances["2"])
