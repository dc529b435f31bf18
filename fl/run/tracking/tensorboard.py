"""TensorBoard: each round's figures as scalars in RUN/tensorboard/ (`tensorboard --logdir runs`
shows every run side by side), written through torch.utils.tensorboard (the `tensorboard` package).
A resumed run writes a new event file into the same folder."""
from __future__ import annotations

from pathlib import Path

from fl.run.tracking.base import Tracker, library

FOLDER = "tensorboard"


class TensorBoardTracker(Tracker):
    name = "tensorboard"

    def __init__(self, cfg, resume: Path | None = None) -> None:
        super().__init__(cfg, resume)
        self.writer_class = library("torch.utils.tensorboard", self.name, "the tensorboard package").SummaryWriter
        self.writer, self.folder = None, None

    def start(self, run: Path) -> None:
        self.folder = run / FOLDER
        self.writer = self.writer_class(log_dir=str(self.folder))

    def round(self, round_: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, global_step=round_)
        self.writer.flush()

    def finish(self, run: Path) -> None:
        self.writer.close()

    def where(self) -> str:
        return f"view with `tensorboard --logdir {self.folder}`"
