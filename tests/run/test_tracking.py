"""Tracking: a real run's rounds in TensorBoard's event files and in an MLflow file store, read
back with the libraries' own readers and compared with metrics.csv and the chain; a tracker that
cannot log. (A killed run resumed into the same TensorBoard folder and MLflow run: test_resume.py;
the Flower engine's server: test_flower_engine.py.)"""
import csv
import json
from pathlib import Path

import pytest

from fl.core.errors import UserError
from fl.run.experiment import run_experiment

#: metrics.csv's columns a tracker logs each round, as TensorBoard and MLflow must hold them
LOGGED = ("test_accuracy", "test_loss", "train_loss", "gas", "txs", "chain_seconds", "seconds", "clients")


def metrics(run: Path) -> list[dict]:
    with (run / "metrics.csv").open() as fh:
        return list(csv.DictReader(fh))


def per_round(rows: list[dict], name: str) -> list[tuple[int, float]]:
    return [(int(r["round"]), pytest.approx(float(r[name]), rel=1e-6)) for r in rows]


def scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of RUN/tensorboard/ (all its event files), by name: (step, value) in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tensorboard")).Reload()
    return {tag: sorted((e.step, e.value) for e in events.Scalars(tag)) for tag in events.Tags()["scalars"]}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """tiny_config's run (3 clients, 2 rounds on the generated images) with rewards.budget 5,
    logged to TensorBoard and to an MLflow file store."""
    from fl.core import config

    store = tmp_path_factory.mktemp("mlruns")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", store.as_uri())
        cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                                  "rewards.budget": 5, "output.log": ["tensorboard", "mlflow"],
                                  "output.runs_dir": str(tmp_path_factory.mktemp("runs")), "output.progress": False})
        run = run_experiment(cfg).path
    return run, store.as_uri(), metrics(run)


def test_tensorboard_holds_each_rounds_metrics(tracked):
    run, _, rows = tracked
    logged = scalars(run)
    assert len(rows) == 2
    for name in LOGGED:
        assert logged[name] == per_round(rows, name), name


def test_the_rewards_paid_each_round_are_the_tokens_the_chain_minted(tracked):
    """rewards.budget 5: each round mints 5 tokens; the running total is the token's supply,
    which summary.json read from the chain at the end."""
    run, _, _ = tracked
    logged = scalars(run)
    supply = json.loads((run / "summary.json").read_text())["rewards"]["total_supply"]
    assert logged["rewards_paid"] == [(1, 5.0), (2, 5.0)]
    assert logged["rewards_total"] == [(1, 5.0), (2, 10.0)] and supply == 10.0


def test_mlflow_holds_the_config_the_metrics_and_the_run_files(tracked):
    from mlflow.tracking import MlflowClient

    run, uri, rows = tracked
    client = MlflowClient(uri)
    recorded = json.loads((run / "mlflow.json").read_text())
    assert recorded["tracking_uri"] == uri
    logged = client.get_run(recorded["run_id"])
    params = logged.data.params
    assert params["train.clients"] == "3" and params["train.rounds"] == "2"
    assert params["data.name"] == "synthetic-images" and params["rewards.budget"] == "5"
    assert params["train.lr"] == "0.01" and params["output.log"] == "['tensorboard', 'mlflow']"
    assert logged.data.tags["config_hash"] == json.loads((run / "task.json").read_text())["config_hash"]
    assert logged.info.run_name == run.name and logged.info.status == "FINISHED"
    for name in LOGGED:
        history = client.get_metric_history(recorded["run_id"], name)
        assert sorted((m.step, m.value) for m in history) == per_round(rows, name), name
    paid = client.get_metric_history(recorded["run_id"], "rewards_paid")
    assert sorted((m.step, m.value) for m in paid) == [(1, 5.0), (2, 5.0)]
    files = {a.path for a in client.list_artifacts(recorded["run_id"])}
    assert {"config.yaml", "task.json", "chain.json", "metrics.csv", "summary.json", "accuracy.png",
            "partition.txt", "partition.png", "mlflow.json"} <= files
    assert not files & {"artifacts", "chain", "tensorboard"}


def test_a_tracker_that_fails_mid_run_warns_once_and_the_run_goes_on(tiny_config, monkeypatch, capsys):
    from fl.run.tracking.tensorboard import TensorBoardTracker

    def full_disk(self, round_, values):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(TensorBoardTracker, "round", full_disk)
    run = run_experiment(tiny_config(**{"output.log": ["tensorboard"], "chain.enabled": False})).path
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: tensorboard stopped logging (round 1) (OSError: [Errno 28] No space left on "
                        "device); the run goes on"]
    assert len(metrics(run)) == 2 and (run / "summary.json").is_file()


def test_an_unknown_tracker_is_refused_with_the_choices():
    from fl.core import config

    with pytest.raises(UserError, match="unknown tracker 'wandb' in output.log / --log; choose from: tensorboard, mlflow"):
        config.build(None, {"output.log": ["wandb"]})


def test_the_config_and_the_tracking_package_know_the_same_trackers():
    from fl.core.config import TRACKERS
    from fl.run import tracking

    assert set(TRACKERS) == set(tracking.TRACKERS)


def test_a_tracker_named_twice_logs_once_and_a_row_re_evaluated_after_a_crash_claims_no_gas():
    from fl.core import config
    from fl.core.report import RoundMetrics
    from fl.run import tracking
    from fl.run.tracking.base import scalars

    trackers = tracking.from_names(config.build(None, {"output.log": ["tensorboard", "tensorboard"]}))
    assert [t.name for t in trackers.trackers] == ["tensorboard"]
    nan = float("nan")
    repaired = RoundMetrics(2, 0.5, 1.25, nan, 3, 0, nan, nan, nan, 0, 0, "0x" + "ab" * 32)
    assert scalars(repaired, {}) == {"test_accuracy": 0.5, "test_loss": 1.25, "clients": 3.0, "excluded": 0.0}


@pytest.mark.parametrize("store", ["a file's subfolder", "a closed loopback port"])
def test_an_unreachable_mlflow_store_is_refused_at_once_before_the_run_folder_is_written(store, tiny_config,
                                                                                         tmp_path, monkeypatch):
    import time

    from fl.core.ports import free_port

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    uri = (blocker / "mlruns").as_uri() if store == "a file's subfolder" else f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    began = time.monotonic()
    with pytest.raises(UserError) as refused:
        run_experiment(tiny_config(**{"output.log": ["tensorboard", "mlflow"]}))
    assert str(refused.value).startswith(f"cannot log to MLflow at {uri} (")
    assert str(refused.value).endswith("); set MLFLOW_TRACKING_URI to a tracking server or a writable file: URI")
    assert "\n" not in str(refused.value) and time.monotonic() - began < 30  # MLflow alone retries for minutes
    assert not (tmp_path / "runs").exists()
