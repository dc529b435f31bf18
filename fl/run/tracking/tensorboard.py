"""TensorBoard: each round's figures as scalars in RUN/tensorboard/ (`tensorboard --logdir runs`
shows every run side by side), written through torch.utils.tensorboard (the `tensorboard` package)."""
from __future__ import annotations

from fl.core.errors import UserError
from fl.run.tracking.base import Tracker

FOLDER = "tensorboard"


class TensorBoardTracker(Tracker):
    name = "tensorboard"

    def __init__(self, cfg, run, resumed: bool = False) -> None:
        super().__init__(cfg, run, resumed)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError("--log tensorboard needs the tensorboard package; run `make setup`") from None
        self.writer = SummaryWriter(log_dir=str(self.run / FOLDER))

    def round(self, round_: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, global_step=round_)
        self.writer.flush()

    def finish(self) -> None:
        self.writer.close()

    def where(self) -> str:
        return f"tensorboard --logdir {self.run / FOLDER}"
