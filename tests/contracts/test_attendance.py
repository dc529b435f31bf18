"""Attendance (contracts/Attendance.sol), the worked example of an on-chain feature: a round hook
that counts, per client, the finalized rounds it was aggregated in; only the task can count."""
import brownie
import pytest

from fixtures.committee import update_hash
from fixtures.task import CONFIG_HASH, MODEL_0, MODEL_1, RULE, SALT, ZERO_ADDRESS
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
