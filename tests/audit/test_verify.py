"""`verify` passes on an honest run and fails, with the right message, on each kind of tampering."""
import json
import shutil

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.ml import algorithms
from fl.ml.algorithms.api import Update
from fl.ml.algorithms.fedavg import FedAvg
from fl.run.experiment import run_experiment


def verify(run_path):
    info = json.loads((run_path / "chain.json").read_text())
    return verify_task(run_path, TaskChain.attach(info["contract"]))


def committed(run_path, round_, client_id):
    info = json.loads((run_path / "chain.json").read_text())
    return TaskChain.attach(info["contract"]).round_record(round_).commitments[client_id]


def only_failures(report):
    return ([(v.round, p) for v in report.rounds for p in v.problems] + [(0, p) for p in report.setup_problems]
            + [(0, p) for p in report.output_problems])


def test_untampered_run_verifies(run_copy):
    report = verify(run_copy)
    assert report.ok
    assert [(v.round, v.aggregated) for v in report.rounds] == [(1, 3), (2, 3)]
    assert report.notes == []  # the start model and the metrics were checked, not skipped


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


def test_nan_update_is_excluded_and_the_run_still_verifies(nan_run):
    run = nan_run(lambda ctx: ctx.client_id == 2, rounds=1)
    rows = run.read_metrics()
    assert (rows[0].clients, rows[0].excluded) == (2, 1)
    report = verify(run.path)
    assert report.ok
    assert report.rounds[0].aggregated == 2
    assert report.rounds[0].notes == [
        "client 2 committed but was not aggregated (its update is invalid: tensor 'classifier.bias' holds NaN or Inf)"]


def test_commitment_with_a_bad_signature_is_rejected_and_the_run_continues(badly_signed_run):
    run = badly_signed_run
    assert [(r.clients, r.excluded) for r in run.read_metrics()] == [(2, 1), (2, 1)]
    report = verify(run.path)
    assert report.ok
    assert [v.aggregated for v in report.rounds] == [2, 2]


# --- what the run folder reports beside the chain: config.yaml, the start model, the metrics ----------
def edit_metrics(run_path, round_, field, change):
    """Change `field` of round `round_` in metrics.csv and, consistently, in summary.json."""
    import csv

    path = run_path / "metrics.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if int(row["round"]) == round_:
            row[field] = repr(change(float(row[field])))
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = json.loads((run_path / "summary.json").read_text())
    for entry in summary["per_round"]:
        if entry["round"] == round_:
            entry[field] = change(entry[field])
    if round_ == summary["rounds"]:
        final = {"test_accuracy": "final_accuracy", "test_loss": "final_loss"}[field]
        summary[final] = change(summary[final])
    if field == "test_accuracy":
        summary["best_accuracy"] = max(e["test_accuracy"] for e in summary["per_round"])
    (run_path / "summary.json").write_text(json.dumps(summary))
    return summary


def test_accuracy_edited_in_metrics_and_summary_fails(run_copy):
    summary = edit_metrics(run_copy, 2, "test_accuracy", lambda a: a + 0.1 if a < 0.9 else a - 0.1)
    failures = only_failures(verify(run_copy))
    assert {r for r, _ in failures} == {2, 0}  # round 2, and the summary's final figures
    messages = [m for r, m in failures if r == 2]
    assert any(m.startswith("metrics.csv: test_accuracy ") and "allowed difference 2 samples" in m for m in messages)
    assert any(m.startswith("summary.json: per_round test_accuracy ") for m in messages)
    finals = [m for r, m in failures if r == 0]
    assert any(m.startswith(f"summary.json: final_accuracy {summary['final_accuracy']!r} (") for m in finals)


def test_accuracy_tolerance_is_two_samples_of_a_400_sample_test_set(run_copy):
    edit_metrics(run_copy, 1, "test_accuracy", lambda a: a + 2 / 400)
    assert verify(run_copy).ok
    edit_metrics(run_copy, 1, "test_accuracy", lambda a: a + 1 / 400)
    failures = only_failures(verify(run_copy))
    assert {r for r, _ in failures} == {1}
    assert any(m.startswith("metrics.csv: test_accuracy ") and "allowed difference 2 samples" in m for _, m in failures)


def test_loss_edited_fails(run_copy):
    edit_metrics(run_copy, 1, "test_loss", lambda loss: loss * 1.01)
    failures = only_failures(verify(run_copy))
    assert {r for r, _ in failures} == {1}
    assert any(m.startswith("metrics.csv: test_loss ") and "(relative difference 1.0e-02, allowed 1e-04)" in m
               for _, m in failures)
    assert any(m.startswith("summary.json: per_round test_loss ") for _, m in failures)


def test_loss_within_rounding_passes(run_copy):
    edit_metrics(run_copy, 1, "test_loss", lambda loss: loss * (1 + 1e-6))
    assert verify(run_copy).ok


def test_missing_and_extra_metrics_rows_fail(run_copy):
    lines = (run_copy / "metrics.csv").read_text().splitlines()
    header, row1, row2 = lines
    (run_copy / "metrics.csv").write_text("\n".join([header, row2, row2.replace("2,", "3,", 1)]) + "\n")
    failures = only_failures(verify(run_copy))
    assert (1, "metrics.csv has no row for this round") in failures
    assert (0, "metrics.csv: rows for rounds [3], which the chain has not finalized") in failures


def test_edited_config_yaml_fails_naming_the_file_and_key(run_copy):
    import yaml

    path = run_copy / "config.yaml"
    data = yaml.safe_load(path.read_text())
    data["train"]["lr"] = 0.5
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    failures = only_failures(verify(run_copy))
    assert len(failures) == 1
    round_, message = failures[0]
    assert round_ == 0
    assert message.startswith("config.yaml: its task config hashes to 0x")
    assert message.endswith("(differs from task.json in train.lr: 0.5 here, 0.01 recorded)")


def test_config_yaml_with_other_output_settings_passes(run_copy):
    import yaml

    path = run_copy / "config.yaml"
    data = yaml.safe_load(path.read_text())
    data["output"]["runs_dir"] = "elsewhere"  # not part of the task config
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert verify(run_copy).ok


def test_start_model_of_another_seed_fails(tiny_config, monkeypatch):
    """Everything consistent (chain, artifacts, metrics) except that round 1 started from weights
    seed 1 draws while the config says seed 0."""
    from fl.ml import models

    real_build = models.build
    with monkeypatch.context() as patch:
        patch.setattr(models, "build", lambda name, shape, classes, seed: real_build(name, shape, classes, seed + 1))
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    start = json.loads((run.path / "chain.json").read_text())
    record = TaskChain.attach(start["contract"]).round_record(1)
    failures = only_failures(verify(run.path))
    assert len(failures) == 1
    round_, message = failures[0]
    assert round_ == 1
    assert message.startswith(f"start model {record.start_model} is not the initial model of seed 0, "
                              "model 'cnn' and algorithm 'fedavg': those give 0x")


def test_unavailable_data_set_skips_the_metrics_with_a_note(run_copy, monkeypatch):
    from fl.audit import outputs
    from fl.core.errors import UserError

    def not_here(*args, **kwargs):
        raise UserError("synthetic-images files not found in data")

    edit_metrics(run_copy, 2, "test_loss", lambda loss: loss * 2)
    monkeypatch.setattr(outputs.data, "load", not_here)
    report = verify(run_copy)
    assert report.ok
    assert report.notes == [
        "round 1's start model not checked: synthetic-images files not found in data",
        "metrics.csv and summary.json not checked: the data set is not on this machine (synthetic-images files "
        "not found in data); pass --no-metrics to skip this check knowingly"]


def test_no_metrics_skips_them_and_says_so(run_copy):
    edit_metrics(run_copy, 2, "test_loss", lambda loss: loss * 2)
    info = json.loads((run_copy / "chain.json").read_text())
    report = verify_task(run_copy, TaskChain.attach(info["contract"]), metrics=False)
    assert report.ok
    assert report.notes == ["metrics.csv and summary.json not checked (--no-metrics)"]


MODEL_FOR = {"moon": "cnn-proj", "fedipr": "signalexnet-small", "fedbn": "niid-cnn-bn"}


@pytest.mark.parametrize("name", sorted(algorithms.ALGORITHMS))
def test_start_model_recipe_is_the_runs_for_every_algorithm(name, tiny_config, tmp_path):
    """verify's rebuilt round-0 artifact is byte for byte the one the engine stores, server state included."""
    from fl.audit.outputs import initial_artifact
    from fl.chain.ledger import OffChainLedger
    from fl.core.store import ArtifactStore
    from fl.run.engine import Engine
    from fl.run.assembly import prepare

    cfg = tiny_config(**{"algorithm.name": name, "model.name": MODEL_FOR.get(name, "cnn"), "seed": 3})
    prepared = prepare(cfg)
    engine = Engine(cfg, prepared.dataset, prepared.parts, prepared.model, prepared.algorithm,
                    ArtifactStore(tmp_path / "artifacts"), OffChainLedger(), [1, 2, 3])
    shape = (prepared.dataset.input_shape, prepared.dataset.num_classes)
    state, digest = initial_artifact(cfg, *shape)
    assert digest == engine.global_hash
    assert sorted(state) == sorted(engine.global_state)
    assert initial_artifact(tiny_config(**{"algorithm.name": name, "model.name": MODEL_FOR.get(name, "cnn"),
                                           "seed": 4}), *shape)[1] != digest


# --- a round in which no update can be used ----------------------------------------------------------

def test_a_round_without_usable_updates_keeps_its_start_model_and_verifies(nan_run):
    """Every client's round-1 update is NaN: the round has nothing to aggregate."""
    run = nan_run(lambda ctx: ctx.round == 1, rounds=2)
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

    from fl.run.engine import Engine

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
    from fl.core.store import ArtifactStore

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
    reward, and the run still verifies. This is the trust assumption documented in fl/audit/verify.py."""
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
