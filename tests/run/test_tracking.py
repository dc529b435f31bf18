"""Tracking: a real run's rounds in TensorBoard's event files and in an MLflow file store, read
back with the libraries' own readers and compared with metrics.csv."""
import csv

import pytest

from fl.core.errors import UserError
from fl.run.experiment import run_experiment


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """3 clients, 2 rounds with rewards, logged to TensorBoard and to an MLflow file store."""
    from fl.core import config

    store = tmp_path_factory.mktemp("mlruns")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", store.as_uri())
        cfg = config.build(None, {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                                  "rewards.budget": 5, "output.log": ["tensorboard", "mlflow"],
                                  "output.runs_dir": str(tmp_path_factory.mktemp("runs")), "output.progress": False})
        run = run_experiment(cfg).path
    with (run / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return run, store, rows


def test_tensorboard_holds_each_rounds_metrics(tracked):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _, rows = tracked
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    for name in ("test_accuracy", "test_loss", "gas", "chain_seconds"):
        logged = [(e.step, e.value) for e in events.Scalars(name)]
        assert logged == [(int(r["round"]), pytest.approx(float(r[name]), rel=1e-6)) for r in rows]


def test_tensorboard_holds_the_rewards_minted_by_each_round(tracked):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _, _ = tracked
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    assert [(e.step, e.value) for e in events.Scalars("rewards_minted")] == [(1, 5.0), (2, 10.0)]


def test_mlflow_holds_the_config_the_metrics_and_the_run_files(tracked):
    import json

    from mlflow.tracking import MlflowClient

    run, store, rows = tracked
    client = MlflowClient(store.as_uri())
    run_id = json.loads((run / "mlflow.json").read_text())["run_id"]
    logged = client.get_run(run_id)
    assert logged.data.params["train.clients"] == "3" and logged.data.params["data.name"] == "synthetic-images"
    assert logged.data.tags["config_hash"] == json.loads((run / "task.json").read_text())["config_hash"]
    history = client.get_metric_history(run_id, "test_accuracy")
    assert sorted((m.step, m.value) for m in history) == [(int(r["round"]), float(r["test_accuracy"])) for r in rows]
    files = {a.path for a in client.list_artifacts(run_id)}
    assert {"metrics.csv", "summary.json", "config.yaml", "chain.json"} <= files and "artifacts" not in files
    assert logged.info.status == "FINISHED"


def test_an_unknown_tracker_is_refused_with_the_choices():
    from fl.core import config

    with pytest.raises(UserError, match="unknown tracker 'wandb' in output.log / --log; choose from: tensorboard, mlflow"):
        config.build(None, {"output.log": ["wandb"]})


def test_an_unwritable_mlflow_store_is_refused_before_the_chain_starts(tiny_config, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (blocker / "mlruns").as_uri())
    with pytest.raises(UserError, match="cannot log to MLflow at file:"):
        run_experiment(tiny_config(**{"output.log": ["mlflow"]}))
    assert not list((tmp_path / "runs").glob("*/chain.json"))
