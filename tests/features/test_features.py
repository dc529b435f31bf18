"""The feature registry: every on-chain mechanism either runs in a way of running (and shows in
the run's summary and chain.json) or is refused there with a one-line error; none is dropped."""
import json

import pytest
from brownie import web3

from fl.audit.verify import verify_task
from fl.chain import TaskChain
from fl.core import config
from fl.core.errors import UserError
from fl.features import registry
from fl.features.base import PROCESSES, SIMULATION
from fl.run.experiment import run_experiment
from fl.run.roles.aggregator import run_aggregator
from fl.run.roles.demo import run_processes

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


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """An aggregator and three client processes with every feature the processes support."""
    folder = tmp_path_factory.mktemp("shared") / "run"
    supported = [f for f in registry.FEATURES if PROCESSES in f.modes]
    args = [item for key, value in settings(supported).items() for item in ("--set", f"{key}={json.dumps(value)}")]
    run_processes(web3.provider.endpoint_uri, folder, clients=3, rounds=2, dataset="synthetic-images",
                  aggregator_args=tuple(args))
    return folder


def ran(run_path, feature) -> bool:
    summary_key, (section, key) = EXPECTED[feature.name]
    summary = json.loads((run_path / "summary.json").read_text())
    info = json.loads((run_path / "chain.json").read_text())
    return summary_key in summary and key in info.get(section, {})


@pytest.mark.parametrize("feature", registry.FEATURES, ids=lambda f: f.name)
def test_every_feature_runs_in_the_simulation(simulated, feature):
    assert SIMULATION in feature.modes
    assert ran(simulated, feature)


@pytest.mark.parametrize("feature", [f for f in registry.FEATURES if PROCESSES in f.modes], ids=lambda f: f.name)
def test_a_feature_the_processes_support_runs_there(processes, feature):
    assert ran(processes, feature)


@pytest.mark.parametrize("feature", [f for f in registry.FEATURES if PROCESSES not in f.modes], ids=lambda f: f.name)
def test_a_feature_the_processes_cannot_run_is_refused_before_anything_is_written(feature, tmp_path):
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, **SWITCH[feature.name]})
    folder = tmp_path / "shared"
    with pytest.raises(UserError, match=f"on-chain mechanism '{feature.name}' cannot run with client and "
                                        "aggregator processes: .+; run it with `python -m fl run`") as info:
        run_aggregator(cfg, "http://127.0.0.1:1", folder)
    assert "\n" not in str(info.value)
    assert not folder.exists()


def test_an_attack_is_refused_by_the_processes(tmp_path):
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 4, "attack.name": "sign-flip",
                              "attack.fraction": 0.25})
    with pytest.raises(UserError, match="attack 'sign-flip' cannot run with client and aggregator processes"):
        run_aggregator(cfg, "http://127.0.0.1:1", tmp_path / "shared")


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


def test_the_processes_with_their_features_verify_and_equal_the_simulation(processes, tmp_path):
    report = verify(processes)
    assert report.ok, (report.setup_problems, report.feature_problems, [v.line() for v in report.rounds])
    supported = [f for f in registry.FEATURES if PROCESSES in f.modes]
    cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                              "output.runs_dir": str(tmp_path), "output.progress": False, **settings(supported)})
    simulated = json.loads((run_experiment(cfg).path / "summary.json").read_text())
    summary = json.loads((processes / "summary.json").read_text())
    assert summary["final_model"] == simulated["final_model"]
    assert summary["rewards"]["balances"] == simulated["rewards"]["balances"]
    assert summary["attendance"]["rounds"] == simulated["attendance"]["rounds"] == {"1": 2, "2": 2, "3": 2}
