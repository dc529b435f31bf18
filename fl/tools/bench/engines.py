"""`python -m fl.tools.bench engines` (part of `make bench`): OnChainFL's two engines against a plain
Flower simulation of the same FedAvg without any chain (fl/tools/bench/plain_flower.py), side by
side in one run, at each client count: round seconds (median of warm rounds), their ratio to one
centralized epoch, start-up and the peak memory of the whole process tree (the run, its chain
node, Ray's processes; proportional set size, so that shared libraries count once).

Every run is its own process, sampled from outside by the same sampler."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from fl.core.errors import UserError
from fl.core.paths import ROOT
from fl.tools.bench.memory import TreeMemory
from fl.tools.bench.runs import Measured

#: OnChainFL's fastest engine, chain included, against plain Flower without one (≤ 1.0), and at
#: 1,000 clients against one centralized epoch (≤ 1.5)
TARGET_VS_FLOWER, TARGET_VS_FLOOR_1000 = 1.0, 1.5


def sampled(args: list[str], name: str, log_dir: Path) -> tuple[int, TreeMemory]:
    """Run `args` from the checkout with its process tree's memory sampled; (exit code, sampler)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        with TreeMemory(root=process.pid, pss_every=5) as memory:
            code = process.wait()
    if code != 0:
        raise UserError(f"benchmark run {name} failed (exit {code}); see {log}")
    return code, memory


def onchainfl(name: str, out_dir: Path, clients: int, rounds: int, engine: str, network: str) -> dict:
    runs = out_dir / "runs"
    shutil.rmtree(runs / name, ignore_errors=True)
    args = [sys.executable, "-m", "fl", "run", "--config", "configs/fedavg.yaml", "--clients", str(clients),
            "--rounds", str(rounds), "--runs-dir", str(runs), "--name", name, "--no-progress", "--network", network,
            "--engine", engine]
    print(f"bench: {name} ...", flush=True)
    _, memory = sampled(args, name, out_dir / "logs")
    measured = Measured(name, json.loads((runs / name / "summary.json").read_text()))
    summary = measured.summary
    return {"engine": engine, "chain": network, "clients": clients, "round_s": measured.warm("seconds"),
            "startup_s": summary["startup"].get("startup_s"), "peak_pss_mb": memory.peak_pss_sum / 2**20,
            "peak_rss_mb": memory.peak_sum / 2**20, "accuracy": summary["final_accuracy"],
            "final_model": summary["final_model"]}


def plain_flower(name: str, out_dir: Path, clients: int, rounds: int) -> dict:
    print(f"bench: {name} ...", flush=True)
    result = out_dir / f"{name}.json"
    args = [sys.executable, "-c", "import sys, json; from fl.tools.bench import plain_flower; "
            "json.dump(plain_flower.run(int(sys.argv[1]), int(sys.argv[2])), open(sys.argv[3], 'w'))",
            str(clients), str(rounds), str(result)]
    _, memory = sampled(args, name, out_dir / "logs")
    measured = json.loads(result.read_text())
    return {"engine": "plain Flower", "chain": "none", "clients": clients,
            "round_s": measured["warm_round_with_eval_s"],
            "startup_s": measured["startup_s"], "peak_pss_mb": memory.peak_pss_sum / 2**20,
            "peak_rss_mb": memory.peak_sum / 2**20, "accuracy": measured["accuracy"], "final_model": None}


def run_engines(sizes: list[int], rounds: int, networks: list[str], out_dir: Path) -> dict:
    from fl.tools.bench.floor import centralized_epochs
    from fl.tools.bench.suite import machine

    floor_s = centralized_epochs()[-1]
    rows = []
    for clients in sizes:
        for network in networks:
            for engine in ("inprocess", "flower"):
                rows.append(onchainfl(f"{engine}-{network}-{clients}", out_dir, clients, rounds, engine, network))
        rows.append(plain_flower(f"plain-flower-{clients}", out_dir, clients, rounds))
    for row in rows:
        row["ratio"] = row["round_s"] / floor_s
    return {"machine": machine(), "floor_s": floor_s, "rounds": rounds, "rows": rows}


def table(results: dict) -> str:
    lines = [f"Measured on {results['machine']}; floor: one centralized epoch of the same CNN over the 60,000 "
             f"FashionMNIST images, batch 32: **{results['floor_s']:.2f} s**. FedAvg, all clients, 1 local epoch, "
             f"batch 32, {results['rounds']} rounds, median of the warm rounds; the Flower engine and plain Flower "
             "on Flower's simulation engine with 2 Ray actors of 1 CPU and 1 torch thread each.", "",
             "| clients | engine | chain | round s | ÷ floor | ÷ plain Flower | start-up s | peak memory MB (PSS) |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    peers = {r["clients"]: r for r in results["rows"] if r["engine"] == "plain Flower"}
    for r in results["rows"]:
        peer = peers.get(r["clients"])
        versus = f"{r['round_s'] / peer['round_s']:.2f}" if peer and r is not peer else "–"
        startup = f"{r['startup_s']:.1f}" if r["startup_s"] is not None else "–"
        lines.append(f"| {r['clients']:,} | {r['engine']} | {r['chain']} | {r['round_s']:.2f} | {r['ratio']:.2f} | "
                     f"{versus} | {startup} | {r['peak_pss_mb']:,.0f} |")
    return "\n".join(lines)


def verdicts(results: dict) -> list[str]:
    out = []
    peers = {r["clients"]: r for r in results["rows"] if r["engine"] == "plain Flower"}
    for clients, peer in sorted(peers.items()):
        ours = [r for r in results["rows"] if r["clients"] == clients and r is not peer]
        best = min(ours, key=lambda r: r["round_s"])
        ratio = best["round_s"] / peer["round_s"]
        out.append(f"{'met' if ratio <= TARGET_VS_FLOWER else 'MISSED'}: fastest OnChainFL engine ({best['engine']} on "
                   f"{best['chain']}) {best['round_s']:.2f} s = {ratio:.2f} × plain Flower's {peer['round_s']:.2f} s "
                   f"at {clients:,} clients (target ≤ {TARGET_VS_FLOWER})")
        if clients == 1000:
            out.append(f"{'met' if best['ratio'] <= TARGET_VS_FLOOR_1000 else 'MISSED'}: {best['ratio']:.2f} × one "
                       f"centralized epoch at 1,000 clients (target ≤ {TARGET_VS_FLOOR_1000})")
    models = {}
    for r in results["rows"]:
        if r["final_model"]:
            models.setdefault((r["clients"], r["chain"]), set()).add(r["final_model"])
    for (clients, chain), found in sorted(models.items()):
        if len(found) > 1:
            out.append(f"NOTE: the engines ended on different models at {clients:,} clients on {chain} (their torch "
                       "thread counts differ: bit-identical results need the same count per client)")
    return out
