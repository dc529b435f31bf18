"""`make niid-bench` (`python -m fl niid-bench`): NIID-Bench's FashionMNIST rows, reproduced on the
chain, and the README table of ours beside the published figures.

The paper: Li, Diao, Chen, He, "Federated Learning on Non-IID Data Silos: An Experimental Study",
ICDE 2022 (FashionMNIST, 10 clients, label skew p_k ~ Dir(0.5), and the homogeneous split), as
Flower's `baselines/niid_bench` reruns it. Each row runs from its preset
(configs/niid-bench-<row>.yaml: every setting of the paper); FedAvg with three seeds (mean ± std),
the others with the first. Runs go to runs/niid-bench/<row>-s<seed>/.

A run of the paper's 50 rounds takes an hour or more on a CPU, so each finished one leaves a record,
results/niid-bench/<row>-s<seed>.json (its config hash, accuracy per round, final global-model
hash, time, machine and date), kept with the repository. The table shows every row that has
records of today's presets, so rows measured in different sittings (`--rows scaffold`, ...) add
up; `--reuse` takes a finished run folder or a record of the same config instead of rerunning it.
`--rounds` shortens every run (the table then says so: a shortened row is not comparable with the
published figure, and leaves no record). `--jobs N` runs N of them at a time, each in a process
of its own on its own chain, its output in runs/niid-bench/<row>-s<seed>.log.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from fl.core.config import PRESETS_DIR, ExperimentConfig, build
from fl.core.errors import UserError, choices_error
from fl.core.paths import ROOT
from fl.tools.compare import load_run
from fl.tools.readme import replace_section
from fl.tools.results_table import finished_with, machine, run_or_reuse

SECTION = "niid-bench-table"  # README.md: between <!-- niid-bench-table:begin --> and <!-- niid-bench-table:end -->
PAPER_ROUNDS = 50
RECORDS = ROOT / "results" / "niid-bench"


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


@dataclass(frozen=True)
class Record:
    """What one finished run of a row measured, as results/niid-bench/<row>-s<seed>.json keeps it."""
    row: str
    seed: int
    config_hash: str
    accuracy: list[float]  # test accuracy of the global model per round, in [0, 1]
    final_model: str  # the last round's global-model hash, as committed on the run's chain
    wall_seconds: float
    machine: str
    date: str

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1]

    @property
    def rounds(self) -> int:
        return len(self.accuracy)

    @classmethod
    def of_run(cls, row: BenchRow, seed: int, folder: Path) -> Record:
        result = load_run(folder)
        summary_file = folder / "summary.json"
        summary = json.loads(summary_file.read_text())
        task = json.loads((folder / "task.json").read_text())
        return cls(row.name, seed, task["config_hash"], result.accuracy, summary["final_model"], result.wall_seconds,
                   machine(summary.get("torch_threads")),
                   time.strftime("%Y-%m-%d", time.localtime(summary_file.stat().st_mtime)))

    @staticmethod
    def path(records: Path, row: BenchRow, seed: int) -> Path:
        return records / f"{row.name}-s{seed}.json"

    def save(self, records: Path) -> None:
        records.mkdir(parents=True, exist_ok=True)
        self.path(records, BY_NAME[self.row], self.seed).write_text(json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, records: Path, row: BenchRow, seed: int) -> Record | None:
        path = cls.path(records, row, seed)
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as err:
            raise UserError(f"{path} is not a niid-bench record ({err}); delete it to measure that run again") from err


def cell_config(row: BenchRow, seed: int, rounds: int, runs_dir: Path, network: str | None) -> ExperimentConfig:
    return build(row.preset, {"seed": seed, "train.rounds": rounds, "output.runs_dir": str(runs_dir),
                              "output.run_name": f"{row.name}-s{seed}", "output.progress": False,
                              "chain.network": network})


def run_cell(row: BenchRow, seed: int, rounds: int, runs_dir: Path, network: str | None, reuse: bool,
             records: Path = RECORDS) -> Record:
    """One run of `row`: taken from a finished run folder or (the paper's rounds) a record of the
    same config under `reuse`, else run; a run of the paper's rounds leaves its record."""
    cfg = cell_config(row, seed, rounds, runs_dir, network)
    folder = runs_dir / cfg.output.run_name
    recorded = Record.load(records, row, seed) if reuse and rounds == PAPER_ROUNDS else None
    if reuse and not finished_with(folder, cfg) and recorded and recorded.config_hash == cfg.config_hash():
        print(f"   reusing the record {Record.path(records, row, seed)} ({recorded.date})", flush=True)
        return recorded
    record = Record.of_run(row, seed, run_or_reuse(cfg, reuse).path)
    if rounds == PAPER_ROUNDS:
        record.save(records)
    return record


def recorded_runs(row: BenchRow, records: Path = RECORDS) -> list[Record]:
    """The records of `row` that match its preset today (the paper's rounds), by seed."""
    prefix = f"{row.name}-s"
    seeds = sorted(int(seed) for seed in (path.stem.removeprefix(prefix) for path in records.glob(f"{prefix}*.json"))
                   if seed.isdigit())
    found = [Record.load(records, row, seed) for seed in seeds]
    return [record for record in found
            if record.config_hash == cell_config(row, record.seed, PAPER_ROUNDS, Path("runs"), None).config_hash()]


def ours(results: list[Record]) -> tuple[float, float | None]:
    """Mean and (over several seeds) sample standard deviation of the final accuracy, in %."""
    values = [100 * r.final_accuracy for r in results]
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def markdown(rows: list[BenchRow], results: dict[str, list[Record]], rounds: int, command: str) -> str:
    """The table: a line per row, ours (mean ± std over seeds) beside the published figure; a row
    without results says so."""
    lines = ["| split | algorithm | published | ours | difference | seeds | rounds | time per run | measured |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    machines = []
    for row in rows:
        published = f"{row.published:.2f} %" + (f" ± {row.published_std:.2f}" if row.published_std else "")
        measured = results.get(row.name, [])
        if not measured:
            lines.append(f"| {row.split} | {row.label} | {published} | not measured yet | | 0 | | | |")
            continue
        mean, std = ours(measured)
        mine = f"{mean:.2f} %" + (f" ± {std:.2f}" if std is not None else "")
        seconds = statistics.fmean(r.wall_seconds for r in measured)
        dates = sorted({r.date for r in measured})
        machines += sorted({r.machine for r in measured} - set(machines))
        lines.append(f"| {row.split} | {row.label} | {published} | {mine} | {mean - row.published:+.2f} | "
                     f"{len(measured)} | {measured[0].rounds} | {seconds / 60:.0f} min | {', '.join(dates)} |")
    short = (f" **Shortened to {rounds} of the paper's {PAPER_ROUNDS} rounds: not comparable with the published "
             f"figures.**" if rounds != PAPER_ROUNDS else "")
    where = f" on {'; '.join(machines)}" if machines else ""
    return (f"FashionMNIST, 10 clients, test accuracy of the final global model on the whole test set, every run "
            f"on the chain; measured{where}, the table last written by `{command}`; each run's record "
            f"(accuracy per round, final global-model hash) is in results/niid-bench/.{short}\n\n"
            + "\n".join(lines) + "\n")


Cell = Callable[[BenchRow, int, int, Path, str | None, bool, Path], Record]  # run_cell's signature


def _logged(cell: Cell, log: Path, *args) -> Record:
    """`cell(*args)` with what it prints going to `log` (in a process of its own)."""
    with log.open("w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        return cell(*args)


def _say_done(name: str, future) -> None:
    if future.cancelled():
        return
    failed = future.exception()
    print(f"== niid-bench: {name}: " + (f"failed ({failed})" if failed else
                                         f"{100 * future.result().final_accuracy:.2f} % after the last round"), flush=True)


def run_cells(cells: list[tuple[BenchRow, int]], rounds: int, runs_dir: Path, network: str | None, reuse: bool,
              records: Path, jobs: int = 1, cell: Cell = run_cell) -> list[Record]:
    """`cell` for each (row, seed), in that order; `jobs` > 1 runs that many at a time, each in a
    process of its own (spawned: a chain and a torch of its own) writing to <runs_dir>/<row>-s<seed>.log.
    A failed cell stops the ones not yet started; those running finish, and their records stay."""
    if jobs < 1:
        raise UserError(f"--jobs must be a positive integer, got {jobs}")
    if jobs > 1 and network:
        raise UserError(f"--jobs {jobs} runs each run on a chain of its own; it cannot share --network {network} "
                        f"(use --jobs 1, NIID_JOBS=1 with make, or leave out --network)")
    if jobs == 1 or len(cells) == 1:
        done = []
        for row, seed in cells:
            print(f"== niid-bench: {row.name}, seed {seed}, {rounds} rounds", flush=True)
            done.append(cell(row, seed, rounds, runs_dir, network, reuse, records))
        return done
    runs_dir.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(min(jobs, len(cells)), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = []
        for row, seed in cells:
            log = runs_dir / f"{row.name}-s{seed}.log"
            print(f"== niid-bench: {row.name}, seed {seed}, {rounds} rounds, queued, {jobs} at a time (output: {log})",
                  flush=True)
            futures.append(pool.submit(_logged, cell, log, row, seed, rounds, runs_dir, network, reuse, records))
            futures[-1].add_done_callback(lambda f, name=f"{row.name}, seed {seed}": _say_done(name, f))
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() for f in finished):
            for future in futures:
                future.cancel()
    failed = next((f.exception() for f in futures if not f.cancelled() and f.exception() is not None), None)
    if failed is not None:
        raise failed
    return [future.result() for future in futures]


def make_table(rows: list[BenchRow], rounds: int, runs_dir: Path, readme: Path, network: str | None, command: str,
               reuse: bool = False, records: Path = RECORDS, jobs: int = 1, cell: Cell = run_cell) -> str:
    """Run (or reuse) `rows`, `jobs` runs at a time; the README table holds them and, at the
    paper's rounds, every other row's records."""
    if rounds < 1:
        raise UserError(f"--rounds must be a positive integer, got {rounds}")
    cells = [(row, seed) for row in rows for seed in range(row.seeds)]
    results: dict[str, list[Record]] = {}
    for (row, _), record in zip(cells, run_cells(cells, rounds, runs_dir, network, reuse, records, jobs, cell)):
        results.setdefault(row.name, []).append(record)
    shown = ROWS if rounds == PAPER_ROUNDS else rows
    for row in shown:
        if row.name not in results:
            results[row.name] = recorded_runs(row, records)
    text = markdown(shown, results, rounds, command)
    replace_section(SECTION, text, readme)
    return text
