"""The Flower engine (`python -m fl run --engine flower`): the clients as Flower ClientApps on
Flower's simulation engine (Ray), the chain as in the in-process engine. Its runs give the
in-process engine's hashes bit for bit and verify; what goes wrong in transit or on a node is
rejected or recorded, never aggregated."""
import json
from pathlib import Path

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.core.errors import UserError
from fl.run.experiment import run_experiment
from fl.run.flower.simulation import backend_config, run_flower_experiment

pytestmark = [pytest.mark.end_to_end, pytest.mark.xdist_group("flower")]  # Ray: one at a time


def metrics(run_path):
    from fl.core.report import RunDir

    return RunDir(run_path).read_metrics()


@pytest.fixture(scope="module")
def flower_lines():
    return []


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory, flower_lines):
    """3 clients, 2 rounds on Flower's simulation: client 2's round-1 reply altered in transit,
    client 3 crashed in round 2; logged to TensorBoard and an MLflow file store."""
    import faulty_flower_client
    from fl.core import config

    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                              "train.threads": 1, "output.runs_dir": str(tmp_path_factory.mktemp("runs")),
                              "output.progress": False, "output.log": ["tensorboard", "mlflow"]})
    with pytest.MonkeyPatch.context() as patch:  # Ray's workers import the faulty ClientApp
        patch.setenv("PYTHONPATH", str(Path(faulty_flower_client.__file__).parent))
        patch.setenv("MLFLOW_TRACKING_URI", tmp_path_factory.mktemp("mlruns").as_uri())
        return run_flower_experiment(cfg, client_app=faulty_flower_client.app, log=flower_lines.append).path


def test_a_reply_altered_in_transit_is_rejected_and_never_committed(faulty_run, flower_lines):
    assert any("round 1: client 2's update hashes to" in line and "altered in transit" in line for line in flower_lines)
    info = json.loads((faulty_run / "chain.json").read_text())
    task = TaskChain.attach(info["contract"])
    assert sorted(task.commitments(1)) == [1, 3]
    assert task.round_record(1).participants == [1, 3]
    assert [(row.clients, row.excluded) for row in metrics(faulty_run)] == [(2, 1), (2, 1)]


def test_a_crashed_client_leaves_the_round_to_the_others_and_the_chain_shows_it_did_not_commit(faulty_run,
                                                                                            flower_lines):
    assert any("round 2: client 3 failed" in line and "client 3 crashed" in line for line in flower_lines)
    info = json.loads((faulty_run / "chain.json").read_text())
    task = TaskChain.attach(info["contract"])
    record = task.round_record(2)
    assert record.selected == [1, 2, 3]
    assert sorted(task.commitments(2)) == record.participants == [1, 2]


def test_a_run_with_faults_verifies(faulty_run):
    info = json.loads((faulty_run / "chain.json").read_text())
    report = verify_task(faulty_run, TaskChain.attach(info["contract"]))
    assert report.ok, [v.line() for v in report.rounds]
    assert [v.aggregated for v in report.rounds] == [2, 2]


def test_the_server_logs_each_round_to_tensorboard_and_mlflow(faulty_run):
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = metrics(faulty_run)
    events = EventAccumulator(str(faulty_run / "tensorboard")).Reload()
    recorded = json.loads((faulty_run / "mlflow.json").read_text())
    client = MlflowClient(recorded["tracking_uri"])
    for name in ("test_accuracy", "gas", "clients"):
        expected = [(r.round, pytest.approx(float(getattr(r, name)), rel=1e-6)) for r in rows]
        assert [(e.step, e.value) for e in events.Scalars(name)] == expected
        assert sorted((m.step, m.value) for m in client.get_metric_history(recorded["run_id"], name)) == expected
    assert client.get_run(recorded["run_id"]).data.params["train.clients"] == "3"
    assert "summary.json" in {a.path for a in client.list_artifacts(recorded["run_id"])}


def test_the_client_resources_are_checked():
    with pytest.raises(UserError, match=r"--client-cpus 3 must be in \(0, 2\]"):
        backend_config(3, 0, total_cpus=2)
    with pytest.raises(UserError, match="--client-gpus -1 must be 0 or more"):
        backend_config(1, -1, total_cpus=2)
    assert backend_config(0.5, 0, total_cpus=2)["client_resources"] == {"num_cpus": 0.5, "num_gpus": 0}


def test_the_chain_off_is_refused_on_the_flower_engine(tiny_config):
    with pytest.raises(UserError, match="the Flower engine commits every round on chain"):
        run_flower_experiment(tiny_config(**{"chain.enabled": False}))


def test_direct_commits_are_refused_on_the_flower_engine(tiny_config):
    with pytest.raises(UserError, match="chain.commit_mode 'direct' cannot run on the Flower engine"):
        run_flower_experiment(tiny_config(**{"chain.commit_mode": "direct"}))


def test_a_flower_run_is_not_resumed_in_process(faulty_run):
    from fl.run.experiment import resume_experiment

    with pytest.raises(UserError, match="ran on the Flower engine, whose clients keep their own state"):
        resume_experiment(faulty_run)


def test_scaffold_on_flower_keeps_each_clients_state_on_its_node_and_gives_the_in_process_hashes(tiny_config):
    settings = {"algorithm.name": "scaffold", "train.threads": 1}
    flower = run_flower_experiment(tiny_config(**settings)).path
    in_process = run_experiment(tiny_config(**settings)).path
    assert [r.global_model for r in metrics(flower)] == [r.global_model for r in metrics(in_process)]
