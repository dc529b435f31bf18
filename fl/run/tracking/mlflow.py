"""MLflow: the config as params (dotted keys), each round's figures as metrics (step = round), and
the run folder's files as artifacts at the end; into MLFLOW_TRACKING_URI, or a file store in
./mlruns (`file:<cwd>/mlruns`). A resumed run logs into the same MLflow run, in the same store: its
id and store are kept in RUN/mlflow.json."""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

from fl.core.errors import UserError
from fl.run.tracking.base import RUN_FILES, Tracker, library, one_line

EXPERIMENT = "onchainfl"
RUN_ID_FILE = "mlflow.json"
#: MLflow takes at most this many characters in a param value, and this many params in one batch
MAX_PARAM, MAX_PARAMS_PER_BATCH = 500, 100
#: how long a tracking server may keep the run waiting, where the MLFLOW_HTTP_REQUEST_* variables
#: do not say (MLflow's own defaults retry for minutes): the check before the chain starts, and
#: each later call (a server gone mid-run: a warning after well under a minute, and the run goes on)
CHECK_PATIENCE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
RUN_PATIENCE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


def flat(value, prefix: str = "") -> dict[str, str]:
    """A nested config as dotted keys (`train.lr`), values as text."""
    if isinstance(value, dict) and value:
        out = {}
        for key, item in value.items():
            out.update(flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: str(value)[:MAX_PARAM]}


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, or the file store ./mlruns as an explicit file: URI."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (Path.cwd() / "mlruns").resolve().as_uri()


@contextmanager
def patience(settings: dict[str, str]):
    """MLflow's HTTP retries and timeout as `settings` for the block, where the environment sets none."""
    added = {name: value for name, value in settings.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def reaching(uri: str):
    """Any failure to reach the store at `uri` as one line (raised before the chain starts)."""
    try:
        with patience(CHECK_PATIENCE):
            yield
    except Exception as exc:  # an unreachable server, an unwritable folder, a deleted run
        raise UserError(f"cannot log to MLflow at {uri} ({one_line(exc)}); set MLFLOW_TRACKING_URI "
                        "to a tracking server or a writable file: URI") from None


class MlflowTracker(Tracker):
    name = "mlflow"

    def __init__(self, cfg, resume: Path | None = None) -> None:
        super().__init__(cfg, resume)
        client_class = library("mlflow.tracking", self.name, "MLflow (the mlflow-skinny package)").MlflowClient
        recorded = resume / RUN_ID_FILE if resume is not None else None
        self.run_id = None
        self.uri = tracking_uri()
        if recorded is not None and recorded.is_file():
            kept = json.loads(recorded.read_text())
            self.run_id, self.uri = kept["run_id"], kept["tracking_uri"]
        with reaching(self.uri):
            self.client = client_class(self.uri)
            if self.run_id is not None:
                self.client.get_run(self.run_id)
            else:
                experiment = self.client.get_experiment_by_name(EXPERIMENT)
                self.experiment_id = (experiment.experiment_id if experiment
                                      else self.client.create_experiment(EXPERIMENT))

    def start(self, run: Path) -> None:
        from mlflow.entities import Param

        with reaching(self.uri):
            if self.run_id is not None:
                self.client.update_run(self.run_id, status="RUNNING")
                return
            self.run_id = self.client.create_run(self.experiment_id, run_name=run.name).info.run_id
            params = [Param(key, value) for key, value in flat(self.cfg.to_dict()).items()]
            for first in range(0, len(params), MAX_PARAMS_PER_BATCH):
                self.client.log_batch(self.run_id, params=params[first:first + MAX_PARAMS_PER_BATCH])
            self.client.set_tag(self.run_id, "config_hash", self.cfg.config_hash())
            (run / RUN_ID_FILE).write_text(json.dumps({"run_id": self.run_id, "tracking_uri": self.uri}) + "\n")

    def round(self, round_: int, values: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        with patience(RUN_PATIENCE):
            self.client.log_batch(self.run_id,
                                  metrics=[Metric(name, value, now, round_) for name, value in values.items()])

    def finish(self, run: Path) -> None:
        with patience(RUN_PATIENCE):
            for name in (*RUN_FILES, RUN_ID_FILE):
                if (run / name).is_file():
                    self.client.log_artifact(self.run_id, str(run / name))
            self.client.set_terminated(self.run_id)

    def where(self) -> str:
        if self.uri.startswith("file:"):
            return (f"run {self.run_id} in {self.uri}; view with `mlflow ui --backend-store-uri {self.uri}` "
                    "(the full mlflow package)")
        return f"run {self.run_id} in {self.uri}; view it in that server's UI"

