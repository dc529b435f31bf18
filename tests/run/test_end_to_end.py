"""Real rounds on the real Ganache chain: what the chain records is exactly what the store holds."""
import json

from eth_utils import keccak

from fl.chain import TaskChain
from fl.chain.task import RoundState
from fl.core.store import ArtifactStore
from fl.run.experiment import run_experiment


def file_hash(path):
    return "0x" + keccak(path.read_bytes()).hex()


def chain_of(run, FLTask):
    info = json.loads((run.path / "chain.json").read_text())
    return TaskChain(FLTask.at(info["contract"]), None), info


def test_commitments_and_finalized_hashes_match_the_stored_artifacts(tiny_config, FLTask):
    run = run_experiment(tiny_config())
    task, info = chain_of(run, FLTask)
    store = ArtifactStore(run.artifacts)
    assert task.current_round() == 2
    previous = None
    for r in (1, 2):
        record = task.round_record(r)
        assert record.state == RoundState.FINALIZED
        assert record.selected == record.participants == [1, 2, 3]
        assert sorted(record.commitments) == [1, 2, 3]
        for client_id, commitment in record.commitments.items():
            path = store.path(commitment)
            assert file_hash(path) == commitment
            _, metadata = store.get(commitment)
            assert (metadata["kind"], metadata["round"], metadata["client"]) == ("update", str(r), str(client_id))
        assert file_hash(store.path(record.final_model)) == record.final_model
        if previous is not None:
            assert record.start_model == previous
        previous = record.final_model
    assert previous == json.loads((run.path / "summary.json").read_text())["final_model"]


def test_direct_mode_commitments_are_sent_from_each_clients_account(tiny_config, FLTask):
    from brownie import web3

    run = run_experiment(tiny_config(**{"train.rounds": 1, "chain.commit_mode": "direct"}))
    task, info = chain_of(run, FLTask)
    logs = task.contract.events.get_sequence(from_block=0, event_type="UpdateCommitted")
    assert len(logs) == 3
    for log in logs:
        sender = web3.eth.get_transaction(log.transactionHash)["from"]
        assert sender == log.args.client == info["clients"][str(log.args.clientId)]
    assert [(r.txs, r.clients) for r in run.read_metrics()] == [(5, 3)]  # open + 3 commits + finalize


def test_batch_mode_relays_all_signed_commitments_in_one_transaction(tiny_config, FLTask):
    from brownie import web3

    run = run_experiment(tiny_config(**{"train.rounds": 1}))
    task, info = chain_of(run, FLTask)
    logs = task.contract.events.get_sequence(from_block=0, event_type="UpdateCommitted")
    assert {log.transactionHash for log in logs} == {logs[0].transactionHash}
    assert web3.eth.get_transaction(logs[0].transactionHash)["from"] == info["aggregator"]
    assert sorted(log.args.client for log in logs) == sorted(info["clients"].values())


def test_same_seed_gives_the_same_hashes_and_accuracy(tiny_config, FLTask):
    runs = [run_experiment(tiny_config()) for _ in range(2)]
    summaries = [json.loads((r.path / "summary.json").read_text()) for r in runs]
    assert summaries[0]["final_model"] == summaries[1]["final_model"]
    assert summaries[0]["final_accuracy"] == summaries[1]["final_accuracy"]
    assert summaries[0]["config_hash"] == summaries[1]["config_hash"]
    records = [chain_of(r, FLTask)[0].round_record(2).commitments for r in runs]
    assert records[0] == records[1]
    other = json.loads((run_experiment(tiny_config(**{"seed": 1})).path / "summary.json").read_text())
    assert other["final_model"] != summaries[0]["final_model"]


def test_run_folder_holds_config_metrics_summary_and_plot(tiny_config):
    run = run_experiment(tiny_config())
    for name in ("config.yaml", "task.json", "chain.json", "metrics.csv", "summary.json", "accuracy.png"):
        assert (run.path / name).is_file(), name
    rows = run.read_metrics()
    assert [r.round for r in rows] == [1, 2]
    assert all(r.gas > 0 and r.txs == 3 for r in rows)  # open, one commitBatch, finalize
    assert (run.path / "accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_scaffold_commits_its_control_variates_and_its_rounds_recompute_from_the_chain(tiny_config, FLTask):
    """SCAFFOLD on the chain: each committed update hash covers the model and Δc_i, the global
    artifact carries c, and every finalized hash is recomputed from the committed artifacts."""
    from fl.core.codec import encode, keccak as artifact_hash
    from fl.ml.algorithms import build
    from fl.ml.algorithms.api import Update
    from fl.ml.algorithms.scaffold import DELTA_C, SERVER_C

    run = run_experiment(tiny_config(**{"algorithm.name": "scaffold", "train.momentum": 0.0}))
    task, _ = chain_of(run, FLTask)
    store = ArtifactStore(run.artifacts)
    for r in (1, 2):
        record = task.round_record(r)
        previous, _ = store.get(record.start_model)
        updates = []
        for client_id in sorted(record.commitments):
            tensors, metadata = store.get(record.commitments[client_id])
            parameters = [name for name in tensors if not name.startswith("scaffold.")]
            assert sorted(DELTA_C + name for name in parameters) == sorted(n for n in tensors if n.startswith(DELTA_C))
            assert any(float(tensors[DELTA_C + name].abs().sum()) > 0 for name in parameters)
            updates.append(Update.from_artifact(tensors, metadata))
        recomputed = build("scaffold").aggregate(previous, updates)
        digest = "0x" + artifact_hash(encode(recomputed, {"kind": "global", "round": str(r)})).hex()
        assert digest == record.final_model
        assert any(float(v.abs().sum()) > 0 for k, v in recomputed.items() if k.startswith(SERVER_C))


def test_each_run_draws_its_own_salt_and_records_it_with_the_experiment_id(tiny_config, FLTask):
    from fl.chain import signing

    infos = [chain_of(run_experiment(tiny_config(**{"train.rounds": 1})), FLTask) for _ in range(2)]
    for task, info in infos:
        assert info["salt"] == task.salt and int(info["salt"], 16) != 0
        assert info["experiment_id"] == task.experiment_id == signing.experiment_id(info["config_hash"], info["salt"])
    assert infos[0][1]["salt"] != infos[1][1]["salt"]
    assert infos[0][1]["experiment_id"] != infos[1][1]["experiment_id"]
