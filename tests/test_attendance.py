"""Attendance (contracts/Attendance.sol), the worked example of an on-chain feature: a round hook
that counts, per client, the finalized rounds it was aggregated in; only the task can count."""
import json
import shutil

import brownie
import pytest

from conftest import CONFIG_HASH, MODEL_0, MODEL_1, RULE, SALT, ZERO_ADDRESS, update_hash
from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.chain.bitmap import to_words


@pytest.fixture
def counted(FLTask, Attendance, aggregator, clients):
    """A task with 4 clients and an attendance counter as its round hook; round 1 open for all,
    ids 1..3 committed. Returns (task, counter)."""
    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    for client in clients:
        task.register({"from": client})
    counter = Attendance.deploy(task, {"from": aggregator})
    task.addRoundHook(counter, {"from": aggregator})
    task.openRound(1, MODEL_0, [0b11110], {"from": aggregator})
    for client_id, client in enumerate(clients[:3], start=1):
        task.commitUpdate(1, update_hash(client_id), {"from": client})
    return task, counter


def test_a_finalized_round_counts_each_aggregated_client_once(counted, aggregator):
    task, counter = counted
    tx = task.finalizeRound(1, MODEL_1, to_words([1, 3]), [5, 7], RULE, {"from": aggregator})
    assert [counter.attendanceOf(i) for i in range(1, 5)] == [1, 0, 1, 0]
    assert counter.roundsCounted() == 1
    assert [dict(e) for e in tx.events["Attended"]] == [{"round": 1, "clientId": 1, "rounds": 1},
                                                       {"round": 1, "clientId": 3, "rounds": 1}]


def test_counts_add_up_over_rounds(counted, aggregator, clients):
    task, counter = counted
    task.finalizeRound(1, MODEL_1, to_words([1, 2]), [5, 5], RULE, {"from": aggregator})
    task.openRound(2, MODEL_1, [0b110], {"from": aggregator})
    task.commitUpdate(2, update_hash(1), {"from": clients[0]})
    tx = task.finalizeRound(2, MODEL_0, to_words([1]), [5], RULE, {"from": aggregator})
    assert [counter.attendanceOf(i) for i in range(1, 5)] == [2, 1, 0, 0]
    assert tx.events["Attended"][0]["rounds"] == 2


def test_an_empty_round_is_counted_but_credits_nobody(counted, aggregator):
    task, counter = counted
    tx = task.finalizeRound(1, MODEL_0, [], [], RULE, {"from": aggregator})
    assert counter.roundsCounted() == 1
    assert "Attended" not in tx.events
    assert [counter.attendanceOf(i) for i in range(1, 5)] == [0, 0, 0, 0]


def test_only_the_task_reports_rounds(counted, aggregator):
    _, counter = counted
    with brownie.reverts(f"NotTask: {aggregator.address.lower()}"):
        counter.onRoundFinalized(1, [0b10], [5], {"from": aggregator})


def test_a_counter_needs_a_task(Attendance, aggregator):
    with brownie.reverts("ZeroTask: "):
        Attendance.deploy(ZERO_ADDRESS, {"from": aggregator})


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
