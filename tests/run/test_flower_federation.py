"""A real Flower deployment on loopback, every round on chain: a SuperLink and three SuperNodes as
their own processes, TLS and SuperNode authentication on, each party with its own Ethereum key
and data shard; `flwr run` submits the run. One party's SuperNode is killed while round 2 is
open: the round finishes with the others, the chain shows who did not commit, and the run
verifies."""
import json

import pytest
from brownie import web3

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.core.report import RunDir
from fl.run.flower.federation import run_federation

pytestmark = pytest.mark.end_to_end


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    lines = []
    folder = tmp_path_factory.mktemp("federation")
    run = run_federation(folder, web3.provider.endpoint_uri, clients=3, rounds=2, dataset="synthetic-images",
                         kill=(2, 2), round_timeout=60, sets={"train.threads": 1}, log=lines.append)
    return folder, run, lines


def task_of(run):
    return TaskChain.attach(json.loads((run / "chain.json").read_text())["contract"])


def test_the_deployment_runs_with_tls_and_supernode_authentication(federation):
    folder, _, lines = federation
    assert any("(TLS, SuperNode authentication), 3 SuperNodes accepted" in line for line in lines)
    for i in range(3):  # each SuperNode was accepted under its own registered key
        assert "SuperNode ID:" in (folder / "logs" / f"node-{i}.log").read_text()


def test_each_party_signs_with_its_own_key_and_the_server_never_holds_one(federation):
    from eth_account import Account

    folder, run, _ = federation
    own = {Account.from_key((folder / "nodes" / f"node-{i}" / "ethereum.key").read_text().strip()).address
           for i in range(3)}
    info = json.loads((run / "chain.json").read_text())
    assert set(info["clients"].values()) == own
    assert info["engine"] == "flower"


def test_a_supernode_killed_mid_round_leaves_the_round_to_the_others(federation):
    _, run, _ = federation
    task = task_of(run)
    assert task.round_record(1).participants == [1, 2, 3]
    record = task.round_record(2)
    assert record.selected == [1, 2, 3]
    assert sorted(task.commitments(2)) == record.participants == [1, 2]
    assert [(row.clients, row.excluded) for row in RunDir(run).read_metrics()] == [(3, 0), (2, 1)]


def test_the_federations_run_verifies(federation):
    _, run, _ = federation
    report = verify_task(run, task_of(run))
    assert report.ok, [v.line() for v in report.rounds]
    assert [v.aggregated for v in report.rounds] == [3, 2]


def test_the_federations_first_round_is_the_in_process_engines_bit_for_bit(federation, tiny_config):
    from fl.run.experiment import run_experiment

    _, run, _ = federation
    in_process = run_experiment(tiny_config(**{"train.threads": 1})).path
    assert RunDir(run).read_metrics()[0].global_model == RunDir(in_process).read_metrics()[0].global_model
