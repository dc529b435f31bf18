"""Trackers researchers already use: a run's per-round figures also go to TensorBoard or MLflow
(`--log tensorboard`, `--log mlflow`, config `output.log`). One module per tracker; `TRACKERS`
maps the names of fl.core.config.TRACKERS to them."""
from __future__ import annotations

from fl.run.tracking.base import Tracker, Trackers
from fl.run.tracking.mlflow import MlflowTracker
from fl.run.tracking.tensorboard import TensorBoardTracker

TRACKERS: dict[str, type[Tracker]] = {"tensorboard": TensorBoardTracker, "mlflow": MlflowTracker}


def open_trackers(cfg, run, resumed: bool = False) -> Trackers:
    """The trackers `cfg.output.log` names, each checked and started for the run folder `run`
    (a one-line UserError for a destination that cannot be written, before the chain starts)."""
    return Trackers([TRACKERS[name](cfg, run, resumed) for name in cfg.output.log])


__all__ = ["TRACKERS", "Tracker", "Trackers", "open_trackers"]
