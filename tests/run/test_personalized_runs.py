"""Personalized algorithms on the real chain: 2 rounds on generated images, each verified; every
update commits the hash of the client's personal artifact, which the client's store holds."""
import csv
import json
import math

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.core.store import ArtifactStore
from fl.ml.algorithms.api import PERSONAL_DIGEST, personal_metadata
from fl.run.experiment import run_experiment

MODELS = {"fedper": "niid-cnn", "fedrep": "niid-cnn", "fedbn": "niid-cnn-bn", "ditto": "niid-cnn"}
PARAMS = {"fedrep": {"head_epochs": 1}}


@pytest.fixture(scope="module", params=sorted(MODELS))
def personalized_run(request, tmp_path_factory):
    from fl.core import config

    name = request.param
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                              "algorithm.name": name, "algorithm.params": PARAMS.get(name, {}),
                              "model.name": MODELS[name], "partition.method": "dirichlet", "partition.alpha": 0.5,
                              "output.runs_dir": str(tmp_path_factory.mktemp("runs")), "output.progress": False})
    return name, run_experiment(cfg).path


def task_of(run):
    return TaskChain.attach(json.loads((run / "chain.json").read_text())["contract"])


def test_the_run_verifies(personalized_run):
    _, run = personalized_run
    report = verify_task(run, task_of(run))
    assert report.ok, [p for v in report.rounds for p in v.problems] + report.setup_problems + report.output_problems
    assert [(v.round, v.aggregated) for v in report.rounds] == [(1, 3), (2, 3)]


def test_each_commitment_holds_the_hash_of_the_clients_stored_personal_artifact(personalized_run):
    name, run = personalized_run
    task, updates, personal = task_of(run), ArtifactStore(run / "artifacts"), ArtifactStore(run / "personal")
    for round_ in (1, 2):
        for client_id, commitment in task.round_record(round_).commitments.items():
            tensors, _ = updates.get(commitment)
            digest = "0x" + bytes(tensors[PERSONAL_DIGEST].tolist()).hex()
            kept, metadata = personal.get(digest)  # get() checks the file hashes to the digest
            assert metadata == personal_metadata(round_, client_id)
            sent = set(tensors) - {PERSONAL_DIGEST}
            if name == "ditto":  # a whole personal model beside the global model's update
                assert set(kept) == sent
            else:  # the kept tensors are never sent
                assert kept and not set(kept) & sent


def test_metrics_hold_the_personalized_accuracy_of_each_round(personalized_run):
    _, run = personalized_run
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len(rows) == 2
    for row in rows:
        mean, worst = float(row["personal_accuracy"]), float(row["personal_worst10"])
        assert not math.isnan(mean) and 0 <= worst <= mean <= 1


def test_an_altered_personal_artifact_fails_verify(personalized_run, tmp_path):
    import shutil

    _, run = personalized_run
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    target = sorted((copy / "personal").iterdir())[0]
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    report = verify_task(copy, task_of(copy), metrics=False)
    problems = [p for v in report.rounds for p in v.problems]
    assert any("personal artifact tampered" in p for p in problems), problems


def test_without_the_clients_stores_verify_says_their_artifacts_were_not_checked(personalized_run, tmp_path):
    import shutil

    _, run = personalized_run
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "personal")
    report = verify_task(copy, task_of(copy), metrics=False)
    assert report.ok
    assert any("personal artifacts not checked" in note for note in report.notes), report.notes


def test_the_explorer_shows_the_personal_digest_each_update_commits_to(personalized_run):
    from fl.features.panel import Detail
    from fl.tools.explore.run_panels import panels
    from fl.tools.explore.view import read_run

    _, run = personalized_run
    task, updates = task_of(run), ArtifactStore(run / "artifacts")
    rounds_panel = next(p for p in panels(read_run(run, metrics=False)) if p.id == "rounds")
    for round_ in (1, 2):
        detail = next(b for b in rounds_panel.blocks if isinstance(b, Detail) and b.id == f"round-{round_}-detail")
        table = next(b for b in detail.blocks if getattr(b, "id", None) == f"round-{round_}-commitments")
        column = table.columns.index("personal digest")
        shown = {row[0]: row[column].title for row in table.rows}
        committed = {client_id: "0x" + bytes(updates.get(update)[0][PERSONAL_DIGEST].tolist()).hex()
                     for client_id, update in task.round_record(round_).commitments.items()}
        assert shown == committed
