"""A run killed mid-round (the Python process or its chain, kill -9) resumes from its own chain
state to the same final hashes as an uninterrupted run, and `verify` passes on it.

These tests drive `python -m fl` as separate processes, each launching its own Ganache with
its database in the run folder, the way a user runs it.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
RUN_ARGS = ["--dataset", "synthetic-images", "--clients", "3", "--rounds", "3", "--no-progress"]


def fl(*args, env=None):
    import os

    environ = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "fl", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=environ)


def final_hashes(run: Path) -> list[str]:
    return [row["global_model"] for row in json.loads((run / "summary.json").read_text())["per_round"]]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    result = fl("run", *RUN_ARGS, "--runs-dir", str(runs), "--name", "reference")
    assert result.returncode == 0, result.stderr
    return runs / "reference"


def assert_each_round_logged_once(run: Path, uri: str, stdout: str) -> None:
    """RUN/tensorboard/ (all its event files) and the run's one MLflow run hold metrics.csv's test
    accuracy once per round, and the resumed run said where to look."""
    import csv

    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with (run / "metrics.csv").open() as fh:
        expected = [(int(r["round"]), pytest.approx(float(r["test_accuracy"]), rel=1e-6)) for r in csv.DictReader(fh)]
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    assert sorted((e.step, e.value) for e in events.Scalars("test_accuracy")) == expected
    client = MlflowClient(uri)
    [only] = client.search_runs([client.get_experiment_by_name("onchainfl").experiment_id])
    assert only.info.run_id == json.loads((run / "mlflow.json").read_text())["run_id"]
    assert only.info.status == "FINISHED"
    assert sorted((m.step, m.value) for m in client.get_metric_history(only.info.run_id, "test_accuracy")) == expected
    assert f"tensorboard --logdir {run / 'tensorboard'}" in stdout and f"mlflow ui --backend-store-uri {uri}" in stdout


@pytest.mark.parametrize("fault,exit_code,message,tracked", [
    ("kill:2:trained", -9, None, False),
    # also logged to TensorBoard and MLflow: the resumed run goes on in the same folder and MLflow run
    ("kill:2:committed", -9, None, True),
    ("kill-chain:2:trained", 2, "error: lost the chain during the run", False),
])
def test_killed_run_resumes_to_the_same_hashes_and_verifies(fault, exit_code, message, tracked, uninterrupted, tmp_path):
    store = {"MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri()}
    logs = ["--log", "tensorboard", "--log", "mlflow"] if tracked else []
    crashed = fl("run", *RUN_ARGS, *logs, "--runs-dir", str(tmp_path), "--name", "crashed",
                 env={"FL_FAULT": fault, **store})
    assert crashed.returncode == exit_code, crashed.stderr
    if message:
        assert message in crashed.stderr and "Traceback" not in crashed.stderr
    run = tmp_path / "crashed"
    assert len((run / "metrics.csv").read_text().strip().splitlines()) == 2  # header + round 1

    resumed = fl("run", "--resume", str(run), env=store)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 round(s) finalized, round 2 open: redoing it" in resumed.stdout
    if tracked:
        assert_each_round_logged_once(run, store["MLFLOW_TRACKING_URI"], resumed.stdout)
    assert final_hashes(run) == final_hashes(uninterrupted)
    assert json.loads((run / "summary.json").read_text())["final_accuracy"] == \
        json.loads((uninterrupted / "summary.json").read_text())["final_accuracy"]

    verified = fl("verify", str(run))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert [line.split(":")[1].split()[0] for line in verified.stdout.splitlines() if line.startswith("round ")] == \
        ["OK", "OK", "OK"]


def test_verify_command_fails_on_a_tampered_run_with_exit_1(uninterrupted, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(uninterrupted, run)
    final = final_hashes(run)[-1]
    (run / "artifacts" / f"{final}.safetensors").write_bytes(b"not the model")
    result = fl("verify", str(run))
    assert result.returncode == 1
    assert "round 3: FAIL global model artifact tampered: expected hash " + final in result.stdout
    assert result.stdout.strip().endswith(f"verify: FAILED: 3 round(s) of {run}")


def test_resume_of_a_folder_that_is_not_a_run_is_one_clear_line(tmp_path):
    result = fl("run", "--resume", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path} is not a run folder with chain records (no chain.json)"


def test_resume_refuses_other_settings(uninterrupted):
    result = fl("run", "--resume", str(uninterrupted), "--rounds", "5")
    assert result.returncode == 2
    assert "error: --resume continues a run with its own config.yaml; drop --rounds" in result.stderr


@pytest.mark.parametrize("edit", ["config.yaml", "task.json"])
def test_resume_refuses_an_edited_config_and_changes_nothing(edit, uninterrupted, tmp_path):
    import hashlib
    import shutil

    import yaml

    run = tmp_path / "edited"
    shutil.copytree(uninterrupted, run)
    if edit == "config.yaml":
        data = yaml.safe_load((run / "config.yaml").read_text())
        data["train"]["lr"] = 0.5
        (run / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    else:
        task = json.loads((run / "task.json").read_text())
        task["config"]["train"]["lr"] = 0.5
        (run / "task.json").write_text(json.dumps(task))

    def snapshot():
        return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.rglob("*"))
                if p.is_file()}

    before = snapshot()
    recorded = json.loads((run / "chain.json").read_text())["config_hash"]
    if edit == "config.yaml":  # as a user meets it: one line, exit 2
        result = fl("run", "--resume", str(run))
        assert result.returncode == 2
        line = result.stderr.strip()
        assert "\n" not in line
    else:  # in this process: the same refusal, without a second interpreter's start-up
        from fl.core.errors import UserError
        from fl.run.experiment import resume_experiment

        with pytest.raises(UserError) as refused:
            resume_experiment(run)
        line = f"error: {refused.value}"
    assert line.startswith(f"error: cannot resume {run}: {edit}: its ")
    assert f"the run recorded {recorded}" in line
    if edit == "config.yaml":
        assert "(differs from task.json in train.lr: 0.5 here, 0.01 recorded)" in line
    assert snapshot() == before
