"""Tokenized models on the chain: mint a run's model, check model files for its owners' watermarks
(owned / not owned), trade the token, and every kind of bad input as one clear error."""
import json

import pytest

from fl.chain import TaskChain
from fl.chain.ownership import Ownership, finalized_weights
from fl.chain.watermark import RegistryChain
from fl.core import config
from fl.core.errors import UserError
from fl.features.ownership.owners import tokenize, verify_ownership
from fl.features.ownership.trade import to_wei, trade
from fl.chain.keys import client_keys
from fl.run.experiment import run_experiment

from fixtures.task import MODEL_0, RULE, SALT, UPDATE

SQUAT_CONFIG_HASH = "0x" + "5a" * 32


def tiny(runs_dir, algorithm, **extra):
    params = {"owners": 2} if algorithm == "fedipr" else {}
    return config.build(None, {"algorithm.name": algorithm, "algorithm.params": params,
                               "model.name": "signalexnet-small", "data.name": "synthetic-images",
                               "train.clients": 3, "train.rounds": 2, "output.runs_dir": str(runs_dir),
                               "output.progress": False, **extra})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A FedIPR run (clients 1 and 2 watermark) with its final model minted, and a FedAvg run of the same model."""
    folder = tmp_path_factory.mktemp("runs")
    fedipr = run_experiment(tiny(folder, "fedipr")).path
    tokenize(fedipr, print_line=lambda _: None)
    fedavg = run_experiment(tiny(folder, "fedavg")).path
    return fedipr, fedavg


def final_model(run):
    summary = json.loads((run / "summary.json").read_text())
    return run / "artifacts" / f"{summary['final_model']}.safetensors"


def check(model, run, **options):
    lines = []
    report = verify_ownership(model, 1, run, print_line=lines.append, **options)
    return report, lines


def deployed(run):
    return json.loads((run / "ownership.json").read_text())


def deploy_task(FLTask, deployer):
    """A second FLTask, deployed by `deployer` (its aggregator)."""
    return FLTask.deploy(SQUAT_CONFIG_HASH, SALT, {"from": deployer})


@pytest.fixture
def squatted(runs, FLTask, accounts):
    """Someone else's task (accounts[7] its aggregator and only client) finalizes the run's final model
    hash and mints it in the run's ModelToken: token 2. Reverted after the test."""
    fedipr, _ = runs
    squatter = accounts[7]
    squat = deploy_task(FLTask, squatter)
    squat.register({"from": squatter})
    squat.openRound(1, MODEL_0, [0b10], {"from": squatter})
    squat.commitUpdate(1, UPDATE, {"from": squatter})
    squat.finalizeRound(1, deployed(fedipr)["model_hash"], [0b10], [1], RULE, {"from": squatter})
    token = Ownership.attach(deployed(fedipr)["token"], deployed(fedipr)["market"]).token
    token.mint(squat, 1, [[1]], 0, {"from": squatter})
    return squat


def test_the_token_records_the_final_model_its_contributors_and_its_watermark_owners(runs):
    fedipr, _ = runs
    info = json.loads((fedipr / "chain.json").read_text())
    record = Ownership.attach(deployed(fedipr)["token"], deployed(fedipr)["market"]).record(1)
    summary = json.loads((fedipr / "summary.json").read_text())
    assert (record.task, record.round, record.model_hash) == (info["contract"], 2, summary["final_model"])
    assert [c.account for c in record.contributors] == [info["clients"][c] for c in ("1", "2", "3")]
    assert [c.weight for c in record.contributors] == [800, 800, 800]  # 400 samples each, 2 rounds
    assert [c.watermark for c in record.contributors[:2]] == [info["algorithm"]["watermark_owners"][c]
                                                              for c in ("1", "2")]
    assert not record.contributors[2].watermarked


def test_the_token_is_the_token_of_the_task_round_it_was_minted_for(runs):
    fedipr, _ = runs
    task = json.loads((fedipr / "chain.json").read_text())["contract"]
    ownership = Ownership.attach(deployed(fedipr)["token"], deployed(fedipr)["market"])
    assert deployed(fedipr)["round"] == 2 and ownership.token_of(task, 2) == 1
    assert ownership.tokens_of_model(deployed(fedipr)["model_hash"]) == [(1, task, 2)]


def test_verify_ownership_names_the_other_tokens_of_the_same_model(runs, squatted):
    fedipr, _ = runs
    report, lines = check(final_model(fedipr), fedipr)
    assert report.owned
    assert lines[2].startswith(f"note: other tokens name the same model hash: token 2 (round 1 of task "
                               f"{squatted.address}); a token proves only that its own task finalized the model")


def test_a_squatters_token_of_the_same_model_names_no_owner_of_it(runs, squatted):
    fedipr, _ = runs
    info = json.loads((fedipr / "chain.json").read_text())
    lines = []
    report = verify_ownership(final_model(fedipr), 2, fedipr, print_line=lines.append)
    assert not report.owned and report.checks == []
    assert f"note: token 2 names task {squatted.address}, not this run's task {info['contract']}" in lines
    assert "the token has no watermark owners: nothing to check" in lines


def test_the_weights_minted_are_those_recorded_at_finalize(runs):
    fedipr, _ = runs
    task = TaskChain.attach(json.loads((fedipr / "chain.json").read_text())["contract"])
    assert finalized_weights(task) == [[400, 400, 400], [400, 400, 400]]


def test_the_tokenized_model_is_owned_by_each_watermark_owner(runs):
    fedipr, _ = runs
    report, lines = check(final_model(fedipr), fedipr)
    assert report.owned and report.file_hash == report.model_hash
    assert [(c.matched, c.bits, c.owned) for c in report.checks] == [(32, 32, True), (32, 32, True)]
    assert lines[-1] == "verdict: OWNED (2 of 2 key(s) detected at threshold 90%)"


def test_a_model_trained_without_the_watermark_is_not_owned(runs):
    fedipr, fedavg = runs
    report, lines = check(final_model(fedavg), fedipr)
    assert not report.owned
    assert all(c.accuracy < 0.9 for c in report.checks) and len(report.checks) == 2
    assert "not the tokenized model byte for byte" in lines[1]
    assert lines[-1].startswith("verdict: NOT OWNED (0 of 2")


def test_a_key_that_was_never_embedded_is_not_owned(runs):
    """Client 3 negotiates a key for the same task after training: registered, but never in the model."""
    fedipr, _ = runs
    info = json.loads((fedipr / "chain.json").read_text())
    task = TaskChain.attach(info["contract"])
    cfg = config.build(fedipr / "config.yaml")
    [client3] = task.attach_clients(client_keys(cfg.seed, cfg.train.clients)[2:])
    registry = RegistryChain.attach(info["algorithm"]["watermark_registry"])
    key, _ = registry.negotiate(task.address, task.clients[client3])
    report, lines = check(final_model(fedipr), fedipr, key="0x" + key.hex())
    assert [c.owner for c in report.checks] == [info["clients"]["3"]]
    assert not report.owned and report.checks[0].accuracy < 0.9
    assert any("belongs to none of the token's owners" in line for line in lines)


def test_a_lower_threshold_is_honoured(runs):
    fedipr, fedavg = runs
    report, _ = check(final_model(fedavg), fedipr, threshold=0.51)
    assert [c.owned for c in report.checks] == [c.accuracy >= 0.51 for c in report.checks]


def test_trading_lists_buys_and_pays_out_every_contributor(runs):
    from brownie import accounts

    fedipr, _ = runs
    ownership = Ownership.attach(deployed(fedipr)["token"], deployed(fedipr)["market"])
    result = trade(fedipr, to_wei(10), to_wei(0.3), print_line=lambda _: None)
    clients = json.loads((fedipr / "chain.json").read_text())["clients"]
    third = 10 * 10**18 // 3
    assert [result["first_sale"][clients[c]] for c in ("1", "2", "3")] == [third, third, third + 1]
    assert sum(result["resale"].values()) == to_wei(0.3)
    assert result["withdrawn_wei"] == to_wei(10) + to_wei(0.3)
    assert ownership.holder(1) not in (accounts[0].address, *clients.values())
    assert all(ownership.owed(a) == 0 for a in clients.values())


# --- bad input: one line naming the bad value ------------------------------------------------------

def test_an_unknown_token_id_is_refused(runs):
    fedipr, _ = runs
    with pytest.raises(UserError, match=r"unknown token id 7: the ModelToken at 0x[0-9a-fA-F]+ has tokens 1\.\.1"):
        verify_ownership(final_model(fedipr), 7, fedipr, print_line=lambda _: None)


def test_a_key_that_does_not_exist_is_refused(runs):
    fedipr, _ = runs
    with pytest.raises(UserError, match="watermark key 0x" + "42" * 32 + " does not exist in the WatermarkRegistry"):
        check(final_model(fedipr), fedipr, key="0x" + "42" * 32)


@pytest.mark.parametrize("damage,message", [
    (lambda data: data + b"\0" * 8, "is tampered or truncated: .* bytes, its header describes"),
    (lambda data: data[:-4], "is not a model in safetensors format|is tampered or truncated"),
    (lambda data: b"\xff" * 8 + data[8:], "is not a model in safetensors format"),
])
def test_a_tampered_model_file_is_refused(runs, tmp_path, damage, message):
    fedipr, _ = runs
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(damage(final_model(fedipr).read_bytes()))
    with pytest.raises(UserError, match=f"model file '{bad}' ({message})"):
        check(bad, fedipr)


def test_a_model_without_sign_layers_is_refused(runs, tmp_path):
    fedipr, _ = runs
    from fl.core import codec

    other = tmp_path / "cnn.safetensors"
    other.write_bytes(codec.encode({"classifier.weight": __import__("torch").zeros(2, 2)}))
    with pytest.raises(UserError, match="no normalization scale tensors"):
        check(other, fedipr)


def test_a_run_without_a_token_is_refused(runs):
    _, fedavg = runs
    with pytest.raises(UserError, match="has no tokenized model"):
        check(final_model(fedavg), fedavg)


def test_a_run_is_tokenized_once(runs):
    fedipr, _ = runs
    with pytest.raises(UserError, match="is already tokenized"):
        tokenize(fedipr, print_line=lambda _: None)


def test_a_royalty_above_half_is_refused(runs):
    _, fedavg = runs
    with pytest.raises(UserError, match="royalty must be 0 to 5000 basis points, got 5001"):
        tokenize(fedavg, 5001, print_line=lambda _: None)


# --- which round is tokenized --------------------------------------------------------------------------

class _Rounds:
    """A stand-in task: rounds as (state, start model, final model)."""

    def __init__(self, *rounds):
        self.rounds = rounds

    def current_round(self):
        return len(self.rounds)

    def round_record(self, round_):
        from types import SimpleNamespace

        state, start, final = self.rounds[round_ - 1]
        return SimpleNamespace(state=state, start_model=start, final_model=final)


@pytest.mark.parametrize("rounds,expected", [
    ([(2, "a", "b"), (2, "b", "c")], 2),
    ([(2, "a", "b"), (2, "b", "c"), (1, "c", "0")], 2),  # the last round is still open
    ([(2, "a", "b"), (2, "b", "b"), (2, "b", "b")], 1),  # rounds that kept their start model have no token
    ([(2, "a", "a")], 0),
    ([], 0),
])
def test_the_round_tokenized_is_the_one_that_produced_the_latest_model(rounds, expected):
    from fl.features.ownership.owners import model_round

    assert model_round(_Rounds(*rounds)) == expected
