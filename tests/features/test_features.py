"""The feature registry: every on-chain mechanism either runs in a way of running (and shows in
the run's summary and chain.json) or is refused there with a one-line error; none is dropped."""
import json

import pytest

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.core import config
from fl.core.errors import UserError
from fl.core.report import RunDir
from fl.features import registry
from fl.features.base import FLOWER, SIMULATION
from fl.run.experiment import run_experiment
from fl.run.flower.simulation import run_flower_experiment

pytestmark = [pytest.mark.end_to_end, pytest.mark.xdist_group("flower")]  # Ray: one at a time

#: what each feature leaves in summary.json and chain.json when it ran; a feature added to the
#: registry without an entry here fails test_every_feature_is_expected
EXPECTED = {
    "committee": ("committee", ("hooks", "committee")),
    "rewards": ("rewards", ("hooks", "reward_token")),
    "watermark keys": ("watermark_keys", ("algorithm", "watermark_registry")),
    "attendance": ("attendance", ("hooks", "attendance")),
}
#: config settings that switch each feature on
SWITCH = {
    "committee": {"committee.size": 2},
    "rewards": {"rewards.budget": 5},
    "watermark keys": {"algorithm.name": "fedipr", "model.name": "signalexnet-small",
                       "algorithm.params": {"owners": 1, "bits": 8, "min_distance": 0}},
    "attendance": {"attendance.enabled": True},
}


def settings(features) -> dict:
    out = {}
    for feature in features:
        out.update(SWITCH[feature.name])
    return out


def test_every_feature_is_expected():
    assert sorted(f.name for f in registry.FEATURES) == sorted(EXPECTED) == sorted(SWITCH)
    assert len({f.name for f in registry.FEATURES}) == len(registry.FEATURES)


def test_every_feature_is_switched_on_by_its_own_section():
    for feature in registry.FEATURES:
        cfg = config.build(None, SWITCH[feature.name])
        assert [f.name for f in registry.enabled(cfg)] == [feature.name]
        assert feature.section.split(".")[0] in cfg.to_dict()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """One in-process run with every feature on."""
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 5, "train.rounds": 2,
                              "output.runs_dir": str(tmp_path_factory.mktemp("runs")), "output.progress": False,
                              **settings(registry.FEATURES)})
    return run_experiment(cfg).path


#: the Flower engine's run, with every feature the Flower engine supports: FedIPR's owners draw
#: their keys and the committee's members score on their own nodes, each signing its own transactions
FLOWER_RUN = {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2, "train.threads": 1,
              "output.progress": False}


@pytest.fixture(scope="module")
def flower(tmp_path_factory):
    """The clients as Flower ClientApps on Flower's simulation engine (Ray), with every feature
    the Flower engine supports."""
    from fl.chain import transactions

    supported = [f for f in registry.FEATURES if FLOWER in f.modes]
    cfg = config.build(None, {**FLOWER_RUN, "output.runs_dir": str(tmp_path_factory.mktemp("runs")),
                              **settings(supported)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transactions, "KEYRING", {})  # what the server could sign with
        path = run_flower_experiment(cfg).path
        SERVER_KEYRING.update(transactions.KEYRING)
    return path


SERVER_KEYRING: dict[str, str] = {}


def ran(run_path, feature) -> bool:
    summary_key, (section, key) = EXPECTED[feature.name]
    summary = json.loads((run_path / "summary.json").read_text())
    info = json.loads((run_path / "chain.json").read_text())
    return summary_key in summary and key in info.get(section, {})


@pytest.mark.parametrize("feature", registry.FEATURES, ids=lambda f: f.name)
def test_every_feature_runs_in_the_simulation(simulated, feature):
    assert SIMULATION in feature.modes
    assert ran(simulated, feature)


@pytest.mark.parametrize("feature", [f for f in registry.FEATURES if FLOWER in f.modes], ids=lambda f: f.name)
def test_a_feature_the_flower_engine_supports_runs_there(flower, feature):
    assert ran(flower, feature)


@pytest.mark.parametrize("feature", [f for f in registry.FEATURES if FLOWER not in f.modes], ids=lambda f: f.name)
def test_a_feature_the_flower_engine_cannot_run_is_refused_before_anything_is_written(feature, tmp_path):
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "output.runs_dir": str(tmp_path),
                              **SWITCH[feature.name]})
    with pytest.raises(UserError, match=f"on-chain mechanism '{feature.name}' cannot run with the Flower engine: "
                                        ".+; run it with `python -m fl run --engine inprocess`") as info:
        run_flower_experiment(cfg)
    assert "\n" not in str(info.value)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("feature", registry.FEATURES, ids=lambda f: f.name)
def test_a_feature_with_the_chain_off_is_refused(feature, tmp_path):
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "chain.enabled": False,
                              "output.runs_dir": str(tmp_path), **SWITCH[feature.name]})
    with pytest.raises(UserError, match=f"the on-chain mechanism '{feature.name}' needs chain.enabled true"):
        run_experiment(cfg)
    assert not any(tmp_path.iterdir())


def verify(run_path):
    info = json.loads((run_path / "chain.json").read_text())
    return verify_task(run_path, TaskChain.attach(info["contract"]), metrics=False)


def test_the_simulation_with_every_feature_verifies(simulated):
    report = verify(simulated)
    assert report.ok, (report.setup_problems, report.feature_problems, [v.line() for v in report.rounds])


def test_the_flower_engine_with_its_features_verifies_and_equals_the_in_process_engine_bit_for_bit(flower, tmp_path):
    report = verify(flower)
    assert report.ok, (report.setup_problems, report.feature_problems, [v.line() for v in report.rounds])
    supported = [f for f in registry.FEATURES if FLOWER in f.modes]
    cfg = config.build(None, {**FLOWER_RUN, "output.runs_dir": str(tmp_path), **settings(supported)})
    in_process = run_experiment(cfg).path
    rows = {name: [(r.global_model, r.train_loss, r.test_accuracy) for r in RunDir(path).read_metrics()]
            for name, path in (("flower", flower), ("in-process", in_process))}
    assert rows["flower"] == rows["in-process"]
    simulated = json.loads((in_process / "summary.json").read_text())
    summary = json.loads((flower / "summary.json").read_text())
    assert summary["engine"] == "flower" and "engine" not in simulated
    assert summary["rewards"]["balances"] == simulated["rewards"]["balances"]
    assert summary["attendance"]["rounds"] == simulated["attendance"]["rounds"]
    assert summary["committee"]["members"] == simulated["committee"]["members"]


def test_the_flower_server_never_holds_a_client_key_and_relays_what_the_clients_signed(flower):
    from brownie import web3

    info = json.loads((flower / "chain.json").read_text())
    assert not set(SERVER_KEYRING) & set(info["clients"].values())
    task = TaskChain.attach(info["contract"])
    events = task.events_since("UpdateCommitted", 0)
    assert {(int(e.args.round), int(e.args.clientId)) for e in events} == {(r, c) for r in (1, 2) for c in (1, 2, 3)}
    for event in events:  # in batches the server sent; verify checks each client's signature in them
        assert web3.eth.get_transaction(event.transactionHash)["from"] == info["aggregator"]


def test_on_the_flower_engine_each_committee_member_sends_its_own_scores(flower):
    from brownie import web3

    from fl.chain import load_project
    from fl.chain.transactions import Sender

    info = json.loads((flower / "chain.json").read_text())
    committee = Sender(info["hooks"]["committee"], load_project().Committee.abi).contract
    scores = committee.events.ScoresSubmitted.get_logs(from_block=0)
    assert {int(e.args.round) for e in scores} == {1, 2}
    for event in scores:  # a transaction from the member's own account, signed on its node
        assert web3.eth.get_transaction(event.transactionHash)["from"] == info["clients"][str(event.args.memberId)]


def test_on_the_flower_engine_each_watermark_owner_draws_its_key_from_its_own_account(flower):
    from brownie import web3

    from fl.chain import load_project
    from fl.chain.transactions import Sender

    info = json.loads((flower / "chain.json").read_text())
    registry = Sender(info["algorithm"]["watermark_registry"], load_project().WatermarkRegistry.abi).contract
    assigned = registry.events.WatermarkKeyAssigned.get_logs(from_block=0)
    owners = {info["clients"][cid] for cid in info["algorithm"]["watermark_owners"]}
    assert {e.args.owner for e in assigned} == owners
    for event in assigned:
        assert web3.eth.get_transaction(event.transactionHash)["from"] == event.args.owner
