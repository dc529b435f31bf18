"""The deployment shape: an aggregator and three client processes, each with its own key, meet
only on the chain (loopback RPC) and in a shared folder; the result verifies and equals the
simulation's bit for bit."""
import json

from brownie import web3

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.run.experiment import run_experiment
from fl.run.roles.demo import run_processes


def test_aggregator_and_client_processes_run_verifiable_rounds_equal_to_the_simulation(tiny_config, tmp_path):
    folder = tmp_path / "shared"
    run_processes(web3.provider.endpoint_uri, folder, clients=3, rounds=2, dataset="synthetic-images")

    info = json.loads((folder / "chain.json").read_text())
    report = verify_task(folder, TaskChain.attach(info["contract"]))
    assert report.ok, [v.line() for v in report.rounds]
    assert [v.aggregated for v in report.rounds] == [3, 3]

    task = TaskChain.attach(info["contract"])
    for client_id in (1, 2, 3):  # each commitment was sent from that client's own account
        commits = [e for e in task.events_since("UpdateCommitted", 0) if e.args.clientId == client_id]
        assert len(commits) == 2
        assert {web3.eth.get_transaction(e.transactionHash)["from"] for e in commits} == {info["clients"][str(client_id)]}

    simulated = run_experiment(tiny_config())
    assert json.loads((folder / "summary.json").read_text())["final_model"] == \
        json.loads((simulated.path / "summary.json").read_text())["final_model"]
