"""`make personalized-table` (`python -m fl personalized-table`): the personalized algorithms on
FashionMNIST with 20 clients under Dirichlet(0.1) label skew, on the chain, beside FedAvg and
FedAvg with local fine-tuning; the README table of each client's accuracy on its own test split.

Every row runs from its preset (configs/<algorithm>.yaml) with the data set, clients, rounds,
split and seed set here, on the NIID-Bench CNN (`niid-cnn`; FedBN on the same CNN with batch
norm, `niid-cnn-bn`), one local epoch of SGD per round as the other presets. FedAvg's rows
evaluate the global model on each client's test split, and after one epoch of fine-tuning on
the client's shard. Figures are those of the last round (metrics.csv's `personal_accuracy`,
`personal_worst10`, `test_accuracy`). Runs go to runs/personalized/<row>-dirichlet0.1/.
"""
from __future__ import annotations

import time
from pathlib import Path

from fl.core.report import RunDir
from fl.tools.compare import RunResult
from fl.tools.readme import replace_section
from fl.tools.results_table import Row, machine, run_row

SECTION = "personalized-table"
SPLIT = "dirichlet0.1"
LABELS = {"fedavg-ft": "fedavg + local fine-tuning (1 epoch)"}
EVALUATE = {"model.name": "niid-cnn", "personalization.evaluate": True}
ROWS = [
    Row("fedavg", "fedavg", EVALUATE),
    Row("fedavg-ft", "fedavg", {**EVALUATE, "personalization.fine_tune_epochs": 1}),
    Row("fedper", "fedper"),
    Row("fedrep", "fedrep"),
    Row("fedbn", "fedbn"),
    Row("ditto", "ditto"),
]


def markdown(results: dict[str, RunResult], rounds: int, clients: int, seed: int, command: str) -> str:
    lines = ["| algorithm | model | personalized accuracy (mean) | worst 10 % of clients | global model | wall |",
             "|---|---|---:|---:|---:|---:|"]
    for row in ROWS:
        result = results[row.name]
        last = RunDir(result.path).read_metrics()[-1]
        lines.append(f"| {LABELS.get(row.name, row.name)} | {result.model} | {100 * last.personal_accuracy:.2f} % | "
                     f"{100 * last.personal_worst10:.2f} % | {100 * last.test_accuracy:.2f} % | "
                     f"{result.wall_seconds / 60:.1f} min |")
    return (f"FashionMNIST, {clients} clients, Dirichlet(0.1), all sampled every round, {rounds} rounds, seed {seed}; "
            f"each client's accuracy on its own test split (the test set cut with its label mix) after the last round; "
            f"measured on {machine()} by `{command}` ({time.strftime('%Y-%m-%d')}), every run on the chain. The "
            f"global model of FedPer, FedRep and FedBN keeps the initial head or batch-norm layers, so its "
            f"accuracy is not theirs to report.\n\n" + "\n".join(lines) + "\n")


def make_table(rounds: int, clients: int, seed: int, runs_dir: Path, readme: Path, network: str | None, command: str,
               reuse: bool = False) -> str:
    results = {}
    for row in ROWS:
        print(f"== personalized table: {row.name}", flush=True)
        results[row.name] = run_row(row, SPLIT, rounds, clients, seed, runs_dir, network, reuse)
    text = markdown(results, rounds, clients, seed, command)
    replace_section(SECTION, text, readme)
    return text
