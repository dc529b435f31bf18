"""The attendance feature in a run: every client's count recorded and verified, and a counter that
is not the task's hook failing `verify`."""
import json
import shutil

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain


@pytest.fixture(scope="module")
def attended_run(tmp_path_factory):
    from fl.core import config
    from fl.run.experiment import run_experiment

    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                              "attendance.enabled": True, "output.progress": False,
                              "output.runs_dir": str(tmp_path_factory.mktemp("runs"))})
    return run_experiment(cfg).path


def verify(run_path):
    info = json.loads((run_path / "chain.json").read_text())
    return verify_task(run_path, TaskChain.attach(info["contract"]), metrics=False)


def test_a_run_records_every_clients_attendance_and_verifies(attended_run):
    summary = json.loads((attended_run / "summary.json").read_text())
    assert summary["attendance"]["rounds"] == {"1": 2, "2": 2, "3": 2}
    report = verify(attended_run)
    assert report.ok, (report.setup_problems, report.feature_problems)


def test_verify_fails_a_counter_that_is_not_the_tasks_hook(attended_run, tmp_path, Attendance, aggregator):
    copy = tmp_path / attended_run.name
    shutil.copytree(attended_run, copy)
    info = json.loads((copy / "chain.json").read_text())
    impostor = Attendance.deploy(info["contract"], {"from": aggregator})  # the task's, but never hooked
    info["hooks"]["attendance"] = impostor.address
    (copy / "chain.json").write_text(json.dumps(info))
    report = verify(copy)
    assert not report.ok
    assert report.setup_problems == [f"the attendance counter at {impostor.address} is not a round hook of the "
                                     f"task at {info['contract']}"]


def test_the_config_hash_of_a_run_without_attendance_is_unchanged():
    """attendance entered the config after runs existed: off, it is not part of the hashed task config."""
    from fl.core import config

    cfg = config.build(None, {})
    assert "attendance" not in cfg.task_dict()
    assert config.build(None, {"attendance.enabled": True}).task_dict()["attendance"] == {"enabled": True}
