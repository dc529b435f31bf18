"""MLflow: the config as params (dotted keys), each round's figures as metrics (step = round), and
the run folder's files as artifacts at the end; into MLFLOW_TRACKING_URI, or a file store in
./mlruns. The client is mlflow-skinny; the UI (`mlflow ui --backend-store-uri ./mlruns`) is in the
full `mlflow` package. A resumed run logs into the same MLflow run
(its id is kept in RUN/mlflow.json)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from fl.core.errors import UserError
from fl.run.tracking.base import RUN_FILES, Tracker

EXPERIMENT = "onchainfl"
RUN_ID_FILE = "mlflow.json"
#: MLflow takes at most this many characters in a param value
MAX_PARAM = 500


def flat(value, prefix: str = "") -> dict[str, str]:
    """A nested config as dotted keys (`train.lr`), values as text."""
    if isinstance(value, dict) and value:
        out = {}
        for key, item in value.items():
            out.update(flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: str(value)[:MAX_PARAM]}


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or (Path.cwd() / "mlruns").resolve().as_uri()


class MlflowTracker(Tracker):
    name = "mlflow"

    def __init__(self, cfg, run, resumed: bool = False) -> None:
        super().__init__(cfg, run, resumed)
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise UserError("--log mlflow needs MLflow (the mlflow-skinny package); run `make setup`") from None
        self.uri = tracking_uri()
        try:
            self.client = MlflowClient(self.uri)
            experiment = self.client.get_experiment_by_name(EXPERIMENT)
            experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(EXPERIMENT)
            recorded = self.run / RUN_ID_FILE
            if resumed and recorded.is_file():
                self.run_id = json.loads(recorded.read_text())["run_id"]
                self.client.update_run(self.run_id, status="RUNNING")
            else:
                self.run_id = self.client.create_run(experiment_id, run_name=self.run.name).info.run_id
                for key, value in flat(cfg.to_dict()).items():
                    self.client.log_param(self.run_id, key, value)
                self.client.set_tag(self.run_id, "config_hash", cfg.config_hash())
                recorded.write_text(json.dumps({"run_id": self.run_id, "tracking_uri": self.uri}) + "\n")
        except Exception as exc:  # an unreachable server, an unwritable folder
            raise UserError(f"cannot log to MLflow at {self.uri} ({type(exc).__name__}: {str(exc).strip()[:200]}); "
                            "set MLFLOW_TRACKING_URI to a tracking server or a writable file: URI") from None

    def round(self, round_: int, values: dict[str, float]) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(name, value, now, round_) for name, value in values.items()])

    def finish(self) -> None:
        for name in (*RUN_FILES, RUN_ID_FILE):
            path = self.run / name
            if path.is_file():
                self.client.log_artifact(self.run_id, str(path))
        self.client.set_terminated(self.run_id)

    def where(self) -> str:
        return (f"run {self.run_id} in {self.uri}; its UI (the full `mlflow` package): "
                f"mlflow ui --backend-store-uri {self.uri}")
