"""Trackers researchers already use: a run's per-round figures also go to TensorBoard or MLflow
(`--log tensorboard`, `--log mlflow`, config `output.log`). One module per tracker; `TRACKERS`
maps the names of fl.core.config.TRACKERS to them. The libraries are imported only when a run
asks for them."""
from __future__ import annotations

from pathlib import Path

from fl.run.tracking.base import Tracker, Trackers
from fl.run.tracking.mlflow import MlflowTracker
from fl.run.tracking.tensorboard import TensorBoardTracker

TRACKERS: dict[str, type[Tracker]] = {"tensorboard": TensorBoardTracker, "mlflow": MlflowTracker}


def from_names(cfg, resume: Path | None = None) -> Trackers:
    """The trackers `cfg.output.log` names, each destination checked (a one-line UserError for one
    that cannot be written), before the run folder is written and the chain starts; `resume`: the
    folder of the run being resumed. `Trackers.start(run)` once the run folder exists."""
    return Trackers([TRACKERS[name](cfg, resume) for name in dict.fromkeys(cfg.output.log)])  # each once


__all__ = ["TRACKERS", "Tracker", "Trackers", "from_names"]
