"""`make robustness` (`python -m fl.tools.robustness`): every attack against every defence, on the chain.

FashionMNIST, 20 clients (IID), 20 % of them malicious, each attack of fl/ml/robust/attacks with its
default parameters against FedAvg, Krum, Multi-Krum, median, trimmed mean, Bulyan (each told
f = 4 Byzantine clients, trimmed mean beta = 0.2) and the on-chain committee (5 members, robust
selection of half the scored updates). Writes the results to bench/robustness.json and the
table into README.md between the `robustness` marker comments.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from fl.core import config
from fl.core.paths import ROOT
from fl.ml.robust.attacks import ATTACKS, NONE
from fl.tools.readme import replace_section

SECTION = "robustness"  # README.md: between <!-- robustness:begin --> and <!-- robustness:end -->
ATTACK_NAMES = [NONE, *ATTACKS]
DEFENCES: dict[str, dict] = {
    "FedAvg": {},
    "Krum": {"aggregation.rule": "krum", "aggregation.params": {"f": 4}},
    "Multi-Krum": {"aggregation.rule": "multi-krum", "aggregation.params": {"f": 4}},
    "median": {"aggregation.rule": "median"},
    "trimmed mean": {"aggregation.rule": "trimmed-mean", "aggregation.params": {"beta": 0.2}},
    "Bulyan": {"aggregation.rule": "bulyan", "aggregation.params": {"f": 4}},
    "committee": {"committee.size": 5, "committee.strategy": "robust", "committee.select_fraction": 0.5},
}


def cell_config(attack: str, defence: str, rounds: int, train_limit: int | None, runs_dir: str,
                seed: int) -> config.ExperimentConfig:
    overrides = {"seed": seed, "data.name": "fashionmnist", "train.clients": 20, "train.rounds": rounds,
                 "data.train_limit": train_limit, "attack.name": attack, "attack.fraction": 0.2 if attack != NONE else 0.0,
                 "chain.persist": False, "output.progress": False, "output.runs_dir": runs_dir,
                 "output.run_name": f"{attack}-{defence.replace(' ', '-').lower()}", **DEFENCES[defence]}
    return config.build(ROOT / "configs" / "fedavg.yaml", overrides)


def run_cell(cfg: config.ExperimentConfig) -> dict:
    from fl.run.experiment import run_experiment

    start = time.perf_counter()
    run = run_experiment(cfg)
    summary = json.loads((run.path / "summary.json").read_text())
    return {"final_accuracy": summary["final_accuracy"], "best_accuracy": summary["best_accuracy"],
            "final_backdoor_success": summary.get("final_backdoor_success"),
            "committee_gas_per_round": (summary.get("committee") or {}).get("gas_per_round"),
            "gas_per_round": summary["gas_per_round"], "seconds": time.perf_counter() - start, "run": str(run.path)}


def percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def table(results: dict[str, dict[str, dict]], attacks: list[str], defences: list[str]) -> str:
    """Markdown: a row per attack, a column per defence; final accuracy %, and backdoor success % where measured."""
    lines = ["| attack \\ defence | " + " | ".join(defences) + " |", "|---|" + "---:|" * len(defences)]
    for attack in attacks:
        cells = []
        for defence in defences:
            cell = results.get(attack, {}).get(defence)
            if cell is None:
                cells.append("")
                continue
            backdoor = cell.get("final_backdoor_success")
            cells.append(percent(cell["final_accuracy"]) + (f" (bd {percent(backdoor)})" if backdoor is not None else ""))
        lines.append(f"| {attack} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@click.command()
@click.option("--rounds", default=10, show_default=True)
@click.option("--train-limit", default=12000, show_default=True, help="Training images used (of 60,000).")
@click.option("--seed", default=0, show_default=True)
@click.option("--attack", "attacks", multiple=True, help=f"Only these attacks ({', '.join(ATTACK_NAMES)}).")
@click.option("--defence", "defences", multiple=True, help=f"Only these defences ({', '.join(DEFENCES)}).")
@click.option("--runs-dir", default="runs/robustness", show_default=True)
@click.option("--out", default="bench/robustness.json", show_default=True)
@click.option("--readme/--no-readme", default=True, show_default=True, help="Write the table into README.md.")
def main(rounds, train_limit, seed, attacks, defences, runs_dir, out, readme) -> None:
    """Run the attack x defence matrix on one chain; write the JSON and the README table."""
    from fl.chain import connected
    from fl.chain.network import on_free_port
    from fl.core.errors import guarded

    attacks = list(attacks) or ATTACK_NAMES
    defences = list(defences) or list(DEFENCES)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results: dict[str, dict[str, dict]] = {}

    def go():
        start = time.perf_counter()
        with connected(on_free_port()):
            for attack in attacks:
                for defence in defences:
                    cfg = cell_config(attack, defence, rounds, train_limit, f"{runs_dir}/{stamp}", seed)
                    results.setdefault(attack, {})[defence] = run_cell(cfg)
        settings = {"rounds": rounds, "train_limit": train_limit, "seed": seed, "clients": 20, "malicious_fraction": 0.2,
                    "defences": DEFENCES, "seconds": time.perf_counter() - start}
        Path(out).write_text(json.dumps({"settings": settings, "results": results}, indent=2, sort_keys=True) + "\n")
        text = table(results, attacks, defences)
        print(text)
        if readme:
            replace_section(SECTION, text)

    guarded(go)


if __name__ == "__main__":
    main()
