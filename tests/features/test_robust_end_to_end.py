"""Attacks, robust rules, the committee and the rewards in real rounds on the real chain, and
what `verify` says about them."""
import json

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.chain.committee import CommitteeChain
from fl.chain.rewards import RewardChain, to_units
from fl.features.committee.protocol import CommitteeRounds
from fl.run.experiment import run_experiment

# seed 6 with 8 clients: clients 3 and 6 are malicious, the first committee is 2, 5, 8
COMMITTEE_RUN = {"seed": 6, "train.clients": 8, "committee.size": 3, "attack.name": "sign-flip",
                 "attack.fraction": 0.25, "rewards.budget": 100, "rewards.committee_share": 0.2}
MALICIOUS = [3, 6]


def attached(run):
    info = json.loads((run.path / "chain.json").read_text())
    task = TaskChain.attach(info["contract"])
    return task, info


def failures(report):
    return [(v.round, p) for v in report.rounds for p in v.problems] + [(0, p) for p in report.setup_problems]


@pytest.fixture(scope="module")
def committee_run(tmp_path_factory):
    from fl.core import config

    cfg = config.build(None, {"data.name": "synthetic-images", "train.rounds": 2, "output.progress": False,
                              "output.runs_dir": str(tmp_path_factory.mktemp("runs")), **COMMITTEE_RUN})
    return run_experiment(cfg)


def test_malicious_clients_commit_on_chain_like_everyone_else(committee_run):
    task, _ = attached(committee_run)
    summary = json.loads((committee_run.path / "summary.json").read_text())
    assert summary["attack"]["malicious_clients"] == MALICIOUS
    for round_ in (1, 2):
        assert sorted(task.round_record(round_).commitments) == list(range(1, 9))


def test_the_task_aggregated_exactly_the_committees_selection(committee_run):
    task, info = attached(committee_run)
    committee = CommitteeChain.attach(info["hooks"]["committee"], task)
    assert committee.members(1) == [2, 5, 8]
    for round_ in (1, 2):
        record = task.round_record(round_)
        assert record.participants == committee.selected(round_)
        assert record.participants and not set(record.participants) & set(MALICIOUS + committee.members(round_))


def test_a_committee_run_verifies(committee_run):
    task, _ = attached(committee_run)
    report = verify_task(committee_run.path, task)
    assert report.ok, failures(report)
    assert all(not any("scores" in note for note in v.notes) for v in report.rounds)  # every member scored honestly


def test_each_round_pays_its_budget_to_its_participants_and_scorers_only(committee_run):
    from brownie import web3

    task, info = attached(committee_run)
    committee = CommitteeChain.attach(info["hooks"]["committee"], task)
    token = RewardChain.attach(info["hooks"]["reward_token"])
    contract = web3.eth.contract(address=token.address, abi=token.contract.abi)
    rounds = {log.transactionHash: log.args.round for log in contract.events.RoundRewarded.get_logs(from_block=0)}
    paid: dict[int, dict[str, int]] = {1: {}, 2: {}}
    for log in contract.events.Transfer.get_logs(from_block=0):
        paid[rounds[log.transactionHash]][log.args.to] = log.args.value
    for round_ in (1, 2):
        payees = {task.client_address(c) for c in task.round_record(round_).participants + committee.scorers(round_)}
        assert set(paid[round_]) == payees
        assert sum(paid[round_].values()) == to_units(100)
    summary = json.loads((committee_run.path / "summary.json").read_text())
    assert [summary["rewards"]["balances"][str(c)] for c in MALICIOUS] == [0, 0]
    assert summary["rewards"]["total_supply"] == 200


def test_verify_catches_an_aggregator_that_ignores_the_selection(tiny_config, monkeypatch):
    """Even a committee contract that lets any participant set through cannot fool verify."""
    real_deploy, real_select = CommitteeChain.deploy.__func__, CommitteeRounds.select

    def every_update(self, round_, updates, committed, kept, global_state):
        real_select(self, round_, updates, committed, kept, global_state)  # the committee still scores and tallies
        return kept

    with monkeypatch.context() as patch:
        patch.setattr(CommitteeChain, "deploy", classmethod(
            lambda cls, *a, **k: real_deploy(cls, *a, contract_name="CommitteeWithoutSelectionCheck", **k)))
        patch.setattr(CommitteeRounds, "select", every_update)
        run = run_experiment(tiny_config(**{"train.clients": 6, "train.rounds": 1, "committee.size": 2}))
    task, info = attached(run)
    selected = CommitteeChain.attach(info["hooks"]["committee"], task).selected(1)
    assert failures(verify_task(run.path, task)) == [
        (1, f"aggregated clients {task.round_record(1).participants}, but the committee selected {selected}")]


def test_a_robust_rule_run_under_attack_verifies(tiny_config):
    from fl.ml import algorithms

    cfg = tiny_config(**{"train.clients": 5, "aggregation.rule": "median", "attack.name": "gaussian",
                         "attack.fraction": 0.2})
    run = run_experiment(cfg)
    task, _ = attached(run)
    assert task.round_record(2).rule_hash == algorithms.from_config(cfg).rule_hash() != \
        algorithms.build("fedavg").rule_hash()
    report = verify_task(run.path, task)
    assert report.ok, failures(report)
    assert [v.aggregated for v in report.rounds] == [5, 5]


def test_backdoor_success_is_reported_per_round_and_in_the_summary(tiny_config):
    run = run_experiment(tiny_config(**{"attack.name": "backdoor", "attack.fraction": 0.34}))
    rows = run.read_metrics()
    assert all(0.0 <= r.backdoor_success <= 1.0 for r in rows)
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["final_backdoor_success"] == rows[-1].backdoor_success
    assert summary["attack"]["malicious_clients"] and len(summary["attack"]["malicious_clients"]) == 1


def test_the_rewards_report_reads_the_balances_from_the_chain(committee_run):
    from brownie import network

    from fl.features.rewards.report import reward_report

    lines = []
    balances = reward_report(committee_run.path, network=network.show_active(), print_line=lines.append)
    summary = json.loads((committee_run.path / "summary.json").read_text())
    assert {str(c): b for c, b in balances.items()} == summary["rewards"]["balances"]
    assert sum(balances.values()) == pytest.approx(200)
    assert lines[0].startswith(f"rewards of {committee_run.path}: OFLR at {summary['rewards']['token']}, "
                               "100 per round, 200 minted over 2 round(s)")
    assert len(lines) == 2 + 8
