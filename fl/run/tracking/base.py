"""What a tracker is to a run: made (its destination checked) before the run folder is written,
started with the run folder, told each round's figures, finished with the run folder's files.
A tracker that fails mid-run says so once and the run goes on."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from fl.core.errors import UserError
from fl.core.report import RoundMetrics

#: the per-round figures of metrics.csv a tracker logs (scalars; the model hash is not one)
SCALARS = ("test_accuracy", "test_loss", "train_loss", "clients", "excluded", "seconds", "train_seconds",
           "chain_seconds", "gas", "txs", "backdoor_success")
#: what a row re-evaluated after a crash (fl.run.experiment._repair_metrics) knows
REEVALUATED = ("test_accuracy", "test_loss", "clients", "excluded")
#: the run folder's files a tracker keeps at the end (not the artifact store nor the chain database)
RUN_FILES = ("config.yaml", "task.json", "chain.json", "metrics.csv", "summary.json", "accuracy.png",
             "partition.txt", "partition.png", "ownership.json", "explorer.html")


def scalars_of(values: dict[str, float]) -> dict[str, float]:
    """The figures as floats, leaving out NaN (not measured: e.g. a round re-evaluated after a crash)."""
    return {name: float(value) for name, value in values.items() if float(value) == float(value)}


def scalars(row: RoundMetrics, extra: dict[str, float]) -> dict[str, float]:
    """The round's figures by name: metrics.csv's, then the algorithm's. A row re-evaluated after a
    crash (no timings) holds only its evaluation and clients: its gas and transactions are unknown."""
    kept = SCALARS if row.seconds == row.seconds else REEVALUATED
    return scalars_of({**{name: value for name, value in asdict(row).items() if name in kept}, **extra})


def library(module: str, name: str, package: str):
    """The module `module` of tracker `name`'s library, or a one-line UserError naming `package`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"--log {name} needs {package}; run `make setup`") from None


def one_line(exc: Exception) -> str:
    """An exception as `Type: its first line` (at most 200 characters of it)."""
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"


def warn(what: str, exc: Exception) -> None:
    print(f"warning: {what} ({one_line(exc)}); the run goes on", flush=True)


class Tracker:
    """One destination. `__init__` checks it can be written (a one-line UserError if not) and
    writes nothing into the run folder; `start` does, once the folder exists."""

    name = ""

    def __init__(self, cfg, resume: Path | None = None) -> None:
        """`resume`: the folder of the run being resumed, whose logging goes on."""
        self.cfg = cfg

    def start(self, run: Path) -> None:
        raise NotImplementedError

    def round(self, round_: int, values: dict[str, float]) -> None:
        raise NotImplementedError

    def finish(self, run: Path) -> None:
        """The run is over: its files are written."""

    def where(self) -> str:
        """Where it logs and how to look, for the run's first and last lines."""
        return ""


class Trackers:
    """The run's trackers; a failing one is reported once and dropped, the run goes on."""

    def __init__(self, trackers: list[Tracker]):
        self.trackers = trackers

    def __bool__(self) -> bool:
        return bool(self.trackers)

    def start(self, run: Path) -> None:
        """Start each on the run folder (failures here are UserErrors: the chain has not started)."""
        for tracker in self.trackers:
            tracker.start(Path(run))

    def describe(self) -> str:
        """A line per tracker: where it logs and how to look (for the run's first and last lines)."""
        return "".join(f"\n  {tracker.name}: {tracker.where()}" for tracker in self.trackers)

    def _each(self, action: str, call) -> None:
        for tracker in list(self.trackers):
            try:
                call(tracker)
            except Exception as exc:  # a tracker's storage going away must not cost the run
                warn(f"{tracker.name} stopped logging ({action})", exc)
                self.trackers.remove(tracker)

    def round(self, row: RoundMetrics, extra: dict[str, float],
              figures: Callable[[], dict[str, float]] | None = None) -> None:
        """Log the round's row, the algorithm's `extra` figures and what `figures()` reads (the
        features' figures; if reading them fails, the round is logged without them)."""
        values = scalars(row, extra)
        if figures is not None:
            try:
                values.update(scalars_of(figures()))
            except Exception as exc:
                warn(f"round {row.round}'s feature figures were not logged", exc)
        self._each(f"round {row.round}", lambda t: t.round(row.round, values))

    def finish(self, run: Path) -> None:
        self._each("finish", lambda t: t.finish(Path(run)))
        if self.trackers:
            print(self.describe().lstrip("\n"), flush=True)
