"""`make niid-bench` (`python -m fl niid-bench`): NIID-Bench's FashionMNIST rows, reproduced on the
chain, and the README table of ours beside the published figures.

The paper: Li, Diao, Chen, He, "Federated Learning on Non-IID Data Silos: An Experimental Study",
ICDE 2022 (FashionMNIST, 10 clients, label skew p_k ~ Dir(0.5), and the homogeneous split), as
Flower's `baselines/niid_bench` reruns it. Each row runs from its preset
(configs/niid-bench-<row>.yaml: every setting of the paper); FedAvg with three seeds (mean ± std),
the others with the first. Runs go to runs/niid-bench/<row>-s<seed>/; `--reuse` keeps the
finished ones of the same config. `--rounds` shortens every run (the table then says so: a
shortened row is not comparable with the published figure).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

from fl.core.config import PRESETS_DIR, build
from fl.core.errors import UserError, choices_error
from fl.tools.compare import RunResult
from fl.tools.readme import replace_section
from fl.tools.results_table import machine, run_or_reuse

SECTION = "niid-bench-table"  # README.md: between <!-- niid-bench-table:begin --> and <!-- niid-bench-table:end -->
PAPER_ROUNDS = 50


@dataclass(frozen=True)
class BenchRow:
    name: str  # configs/niid-bench-<name>.yaml
    label: str
    split: str
    published: float  # test accuracy in %, the paper's table
    published_std: float | None = None
    seeds: int = 1

    @property
    def preset(self) -> Path:
        return PRESETS_DIR / f"niid-bench-{self.name}.yaml"


ROWS = [
    BenchRow("fedavg", "FedAvg", "Dir(0.5)", 88.09, 0.29, seeds=3),
    BenchRow("fedprox", "FedProx (μ = 0.01)", "Dir(0.5)", 88.15),
    BenchRow("scaffold", "SCAFFOLD", "Dir(0.5)", 88.44),
    BenchRow("fednova", "FedNova", "Dir(0.5)", 88.22),
    BenchRow("fedavg-iid", "FedAvg", "IID", 89.23),
]
BY_NAME = {row.name: row for row in ROWS}


def pick(names: list[str] | None, seeds: int | None = None) -> list[BenchRow]:
    """The rows named (all when None), in the table's order; `seeds` replaces each row's number of seeds."""
    for name in names or ():
        if name not in BY_NAME:
            raise choices_error("niid-bench row", name, BY_NAME)
    if seeds is not None and seeds < 1:
        raise UserError(f"--seeds must be a positive integer, got {seeds}")
    rows = [row for row in ROWS if not names or row.name in names]
    return [replace(row, seeds=seeds) if seeds is not None else row for row in rows]


def run_cell(row: BenchRow, seed: int, rounds: int, runs_dir: Path, network: str | None, reuse: bool) -> RunResult:
    cfg = build(row.preset, {"seed": seed, "train.rounds": rounds, "output.runs_dir": str(runs_dir),
                             "output.run_name": f"{row.name}-s{seed}", "output.progress": False,
                             "chain.network": network})
    return run_or_reuse(cfg, reuse)


def ours(results: list[RunResult]) -> tuple[float, float | None]:
    """Mean and (over several seeds) sample standard deviation of the final accuracy, in %."""
    values = [100 * r.final_accuracy for r in results]
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def markdown(rows: list[BenchRow], results: dict[str, list[RunResult]], rounds: int, command: str) -> str:
    lines = ["| split | algorithm | published | ours | difference | seeds | rounds | time per run |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        mean, std = ours(results[row.name])
        published = f"{row.published:.2f} %" + (f" ± {row.published_std:.2f}" if row.published_std else "")
        mine = f"{mean:.2f} %" + (f" ± {std:.2f}" if std is not None else "")
        seconds = statistics.fmean(r.wall_seconds for r in results[row.name])
        lines.append(f"| {row.split} | {row.label} | {published} | {mine} | {mean - row.published:+.2f} | "
                     f"{len(results[row.name])} | {rounds} | {seconds / 60:.0f} min |")
    short = (f" **Shortened to {rounds} of the paper's {PAPER_ROUNDS} rounds: not comparable with the published "
             f"figures.**" if rounds != PAPER_ROUNDS else "")
    return (f"FashionMNIST, 10 clients, test accuracy of the final global model on the whole test set; measured "
            f"on {machine()} by `{command}` ({time.strftime('%Y-%m-%d')}), every run on the chain.{short}\n\n"
            + "\n".join(lines) + "\n")


def make_table(rows: list[BenchRow], rounds: int, runs_dir: Path, readme: Path, network: str | None, command: str,
               reuse: bool = False) -> str:
    if rounds < 1:
        raise UserError(f"--rounds must be a positive integer, got {rounds}")
    results: dict[str, list[RunResult]] = {}
    for row in rows:
        for seed in range(row.seeds):
            print(f"== niid-bench: {row.name}, seed {seed}, {rounds} rounds", flush=True)
            results.setdefault(row.name, []).append(run_cell(row, seed, rounds, runs_dir, network, reuse))
    text = markdown(rows, results, rounds, command)
    replace_section(SECTION, text, readme)
    return text
