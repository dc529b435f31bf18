"""`make table` (`python -m fl table`): every algorithm on FashionMNIST with 20 clients, under
Dirichlet(0.1) label skew and IID, for a fixed number of rounds, on the chain; then the results
table (final and best test accuracy, rounds, wall time) between the marker comments of README.md.

Each algorithm runs from its preset (configs/<algorithm>.yaml: its hyperparameters and model),
with only the data set, clients, rounds, split and seed set here, so every row trains the same
way except for what the algorithm changes. Runs go to runs/table/<row>-<split>/ (`make compare`
can draw them); `--reuse` keeps the finished ones of the same config (e.g. after an interruption).
"""
from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fl.core.config import ExperimentConfig, build, preset
from fl.ml import algorithms
from fl.run.experiment import run_experiment
from fl.tools.compare import RunResult, load_run
from fl.tools.readme import replace_section

SECTION = "results-table"  # README.md: between <!-- results-table:begin --> and <!-- results-table:end -->
SPLITS: dict[str, dict[str, Any]] = {
    "dirichlet0.1": {"partition.method": "dirichlet", "partition.alpha": 0.1},
    "iid": {"partition.method": "iid"},
}


@dataclass(frozen=True)
class Row:
    name: str  # run folder prefix and row label
    algorithm: str  # its preset is configs/<algorithm>.yaml
    overrides: dict[str, Any] = field(default_factory=dict)


#: FedIPR is FedAvg plus a watermark; it has its own table (make watermark-table), and so have the
#: personalized algorithms (make personalized-table)
ROWS = [Row(name, name) for name, cls in algorithms.ALGORITHMS.items() if name != "fedipr" and not cls.personalized] + [
    # MOON needs a projection head; FedAvg on the same network tells what the head alone does
    Row("fedavg-cnn-proj", "fedavg", {"model.name": "cnn-proj"}),
]


def finished_with(folder: Path, cfg: ExperimentConfig) -> bool:
    """Whether `folder` holds a finished run of exactly `cfg` (the same task config hash)."""
    if not (folder / "summary.json").is_file() or not (folder / "task.json").is_file():
        return False
    return json.loads((folder / "task.json").read_text())["config_hash"] == cfg.config_hash()


def machine(threads: int | None = None) -> str:
    """What a table was measured on, for its caption (`threads`: the runs' torch threads, if not this process's)."""
    threads = threads or torch.get_num_threads()
    return f"{platform.machine()}, {threads} torch thread{'' if threads == 1 else 's'}, torch {torch.__version__}"


def run_or_reuse(cfg: ExperimentConfig, reuse: bool) -> RunResult:
    """Run `cfg` into output.runs_dir/output.run_name (anything there is replaced); with `reuse`,
    a finished run of the same config there is taken as it is."""
    folder = Path(cfg.output.runs_dir) / cfg.output.run_name
    if reuse and finished_with(folder, cfg):
        print(f"   reusing the finished run {folder}", flush=True)
        return load_run(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return load_run(run_experiment(cfg).path)


def run_row(row: Row, split: str, rounds: int, clients: int, seed: int, runs_dir: Path, network: str | None,
            reuse: bool = False) -> RunResult:
    """Run one cell of the table; with `reuse`, a finished run of the same config is taken as it is."""
    cfg = build(preset(row.algorithm), {
        "data.name": "fashionmnist", "train.clients": clients, "train.rounds": rounds, "seed": seed,
        **SPLITS[split], **row.overrides, "output.runs_dir": str(runs_dir), "output.run_name": f"{row.name}-{split}",
        "output.progress": False, "chain.network": network})
    return run_or_reuse(cfg, reuse)


def settings(row: Row) -> str:
    """The algorithm's parameters as its preset sets them, e.g. `mu=0.01`."""
    cfg = build(preset(row.algorithm), row.overrides)
    params = algorithms.build(cfg.algorithm.name, cfg.algorithm.params).params
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()) or "–"


def markdown(rows: list[Row], results: dict[tuple[str, str], RunResult], rounds: int, clients: int, seed: int,
             command: str) -> str:
    head = ("| algorithm | parameters | model | rounds | Dir(0.1) final | Dir(0.1) best | Dir(0.1) wall "
            "| IID final | IID best | IID wall |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for row in rows:
        cells = []
        for split in SPLITS:
            r = results[(row.name, split)]
            cells += [f"{100 * r.final_accuracy:.2f}%", f"{100 * r.best_accuracy:.2f}%", f"{r.wall_seconds:.0f} s"]
        model = results[(row.name, "iid")].model
        lines.append(f"| {row.name} | {settings(row)} | {model} | {rounds} | " + " | ".join(cells) + " |")
    return (f"FashionMNIST, {clients} clients, all sampled every round, {rounds} rounds, seed {seed}; "
            f"measured on {machine()} by `{command}` ({time.strftime('%Y-%m-%d')}). Wall time: data load, chain "
            f"start-up and all rounds.\n\n" + "\n".join(lines) + "\n")


def make_table(rounds: int, clients: int, seed: int, runs_dir: Path, readme: Path, network: str | None,
               command: str, reuse: bool = False) -> str:
    results = {}
    for row in ROWS:
        for split in SPLITS:
            print(f"== table: {row.name}, {split}", flush=True)
            results[(row.name, split)] = run_row(row, split, rounds, clients, seed, runs_dir, network, reuse)
    text = markdown(ROWS, results, rounds, clients, seed, command)
    replace_section(SECTION, text, readme)
    return text
