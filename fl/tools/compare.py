"""Several runs side by side: their test-accuracy curves in one PNG and a table of their results."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from fl.core.errors import UserError
from fl.core.report import RunDir


@dataclass
class RunResult:
    path: Path
    algorithm: str
    dataset: str
    split: str
    model: str
    accuracy: list[float]  # per round, in [0, 1]
    final_accuracy: float
    best_accuracy: float
    wall_seconds: float  # data load + chain start-up + all rounds

    @property
    def rounds(self) -> int:
        return len(self.accuracy)


def split_name(partition: dict) -> str:
    method = partition.get("method", "iid")
    if method == "dirichlet":
        return f"dirichlet({partition.get('alpha'):g})"
    if method == "shards":
        return f"shards({partition.get('classes_per_client')})"
    return method


def load_run(path: str | Path) -> RunResult:
    """The results of a finished run folder; UserError if it is not one."""
    run = RunDir(path)
    if not (run.path / "summary.json").is_file() or not (run.path / "config.yaml").is_file():
        raise UserError(f"{run.path} is not a finished run folder (no summary.json or config.yaml); "
                        "pass folders made by `python -m fl run`")
    summary = run.read_json("summary.json")
    cfg = yaml.safe_load((run.path / "config.yaml").read_text())
    startup = summary.get("startup", {})
    return RunResult(
        path=run.path, algorithm=cfg["algorithm"]["name"], dataset=cfg["data"]["name"],
        split=split_name(cfg["partition"]), model=cfg["model"]["name"],
        accuracy=[float(r["test_accuracy"]) for r in summary["per_round"]],
        final_accuracy=float(summary["final_accuracy"]), best_accuracy=float(summary["best_accuracy"]),
        wall_seconds=float(summary["total_seconds"]) + float(startup.get("startup_s", 0.0))
        + float(startup.get("data_load_s", 0.0)))


def table(results: list[RunResult]) -> str:
    """A plain-text table, one row per run."""
    header = ("run", "algorithm", "data", "split", "model", "rounds", "final acc", "best acc", "wall s")
    rows = [(r.path.name, r.algorithm, r.dataset, r.split, r.model, str(r.rounds), f"{100 * r.final_accuracy:.2f}%",
             f"{100 * r.best_accuracy:.2f}%", f"{r.wall_seconds:.1f}") for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 5 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in [header, *rows]]
    return "\n".join(lines) + "\n"


def plot(results: list[RunResult], target: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in results:
        ax.plot(range(1, r.rounds + 1), [100 * a for a in r.accuracy], marker="o", markersize=3,
                label=f"{r.path.name} ({r.algorithm}, {r.split})")
    ax.set(xlabel="round", ylabel="test accuracy (%)", title="Test accuracy per round")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target


def compare(paths: list[str | Path], out: str | Path) -> tuple[str, Path]:
    """(the table, the PNG written to `out`) for the run folders `paths`."""
    if not paths:
        raise UserError("compare needs at least one run folder, e.g. `make compare RUNS=\"runs/a runs/b\"`")
    results = [load_run(p) for p in paths]
    return table(results), plot(results, Path(out))
