"""What a tracker is to a run: started with the run folder, told each round's figures, finished
with the run folder's files. A tracker that fails mid-run says so once and the run goes on."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from fl.core.report import RoundMetrics

#: the per-round figures of metrics.csv a tracker logs (scalars; the model hash is not one)
SCALARS = ("test_accuracy", "test_loss", "train_loss", "clients", "excluded", "seconds", "train_seconds",
           "chain_seconds", "gas", "txs", "backdoor_success")
#: the run folder's files a tracker keeps at the end (not the artifact store nor the chain database)
RUN_FILES = ("config.yaml", "task.json", "chain.json", "metrics.csv", "summary.json", "accuracy.png",
             "partition.txt", "partition.png", "ownership.json", "explorer.html")


def scalars(row: RoundMetrics, extra: dict[str, float]) -> dict[str, float]:
    """The round's figures by name: metrics.csv's, then the features' and the algorithm's."""
    values = {name: float(value) for name, value in asdict(row).items() if name in SCALARS}
    values.update({name: float(value) for name, value in extra.items()})
    return {name: value for name, value in values.items() if value == value}  # NaN: not measured


class Tracker:
    name = ""

    def __init__(self, cfg, run: Path, resumed: bool = False) -> None:
        self.cfg, self.run, self.resumed = cfg, Path(run), resumed

    def round(self, round_: int, values: dict[str, float]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """The run is over: its files are written."""

    def where(self) -> str:
        """How to look at what it logged, for the run's last lines."""
        return ""


class Trackers:
    """The run's trackers; a failing one is reported once and dropped, the run goes on."""

    def __init__(self, trackers: list[Tracker]):
        self.trackers = trackers

    def _each(self, action: str, call) -> None:
        for tracker in list(self.trackers):
            try:
                call(tracker)
            except Exception as exc:  # a tracker's storage going away must not cost the run
                print(f"warning: {tracker.name} stopped logging ({action}: {type(exc).__name__}: {exc}); the run goes on",
                      flush=True)
                self.trackers.remove(tracker)

    def round(self, row: RoundMetrics, extra: dict[str, float]) -> None:
        values = scalars(row, extra)
        self._each(f"round {row.round}", lambda t: t.round(row.round, values))

    def finish(self) -> None:
        self._each("finish", lambda t: t.finish())
        for tracker in self.trackers:
            print(f"  {tracker.name}: {tracker.where()}", flush=True)
