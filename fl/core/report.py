"""A run's folder: config snapshot, per-round metrics, summary, and the accuracy/loss plot."""
from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from fl.core.config import ExperimentConfig, to_yaml


@dataclass
class RoundMetrics:
    round: int
    test_accuracy: float
    test_loss: float
    train_loss: float
    clients: int  # aggregated
    excluded: int  # selected but not aggregated (rejected on chain or invalid)
    seconds: float
    train_seconds: float
    chain_seconds: float
    gas: int
    txs: int
    global_model: str
    backdoor_success: float = float("nan")  # the backdoor attack's success rate on the triggered test set
    personal_accuracy: float = float("nan")  # mean over the clients of their model's accuracy on their own test split
    personal_worst10: float = float("nan")  # the mean of that accuracy over the worst 10 % of the clients


class RunDir:
    """runs/<run-id>/ and the files in it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @staticmethod
    def plan(cfg: ExperimentConfig) -> Path:
        """The folder `create` would make now: output.run_name (default time-algo-dataset-seed), with
        a -2, -3, ... suffix where that is taken."""
        name = cfg.output.run_name or (
            f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.algorithm.name}-{cfg.data.name}-s{cfg.seed}")
        path = Path(cfg.output.runs_dir) / name
        suffix = 1
        while path.exists():
            suffix += 1
            path = Path(cfg.output.runs_dir) / f"{name}-{suffix}"
        return path

    @classmethod
    def create(cls, cfg: ExperimentConfig) -> "RunDir":
        path = cls.plan(cfg)
        path.mkdir(parents=True)
        run = cls(path)
        (path / "config.yaml").write_text(to_yaml(cfg))
        return run

    @property
    def artifacts(self) -> Path:
        return self.path / "artifacts"

    @property
    def personal(self) -> Path:
        """The clients' own artifacts (personalized algorithms): what they keep, whose hashes they commit."""
        return self.path / "personal"

    @property
    def metrics_csv(self) -> Path:
        return self.path / "metrics.csv"

    def write_json(self, name: str, data) -> Path:
        target = self.path / name
        target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return target

    def read_json(self, name: str):
        return json.loads((self.path / name).read_text())

    def append_metrics(self, row: RoundMetrics) -> None:
        new = not self.metrics_csv.exists()
        with self.metrics_csv.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(RoundMetrics)])
            if new:
                writer.writeheader()
            writer.writerow(asdict(row))

    def read_metrics(self) -> list[RoundMetrics]:
        if not self.metrics_csv.exists():
            return []
        with self.metrics_csv.open() as fh:
            return [parse_row(row) for row in csv.DictReader(fh)]

    def rewrite_metrics(self, rows: list[RoundMetrics]) -> None:
        self.metrics_csv.unlink(missing_ok=True)
        for row in rows:
            self.append_metrics(row)


def parse_row(row: dict[str, str]) -> RoundMetrics:
    casts = {"int": int, "float": float, "str": str}
    return RoundMetrics(**{f.name: casts[f.type](row[f.name]) for f in fields(RoundMetrics) if f.name in row})


def plot_run(run: RunDir) -> Path:
    """accuracy.png: test accuracy and test/train loss per round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = run.read_metrics()
    rounds = [r.round for r in rows]
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_acc.plot(rounds, [100 * r.test_accuracy for r in rows], marker="o")
    ax_acc.set(xlabel="round", ylabel="test accuracy (%)", title="Test accuracy")
    ax_loss.plot(rounds, [r.test_loss for r in rows], marker="o", label="test")
    ax_loss.plot(rounds, [r.train_loss for r in rows], marker="s", label="train (clients' mean)")
    ax_loss.set(xlabel="round", ylabel="cross-entropy", title="Loss")
    ax_loss.legend()
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
    fig.suptitle(run.path.name)
    fig.tight_layout()
    target = run.path / "accuracy.png"
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target
