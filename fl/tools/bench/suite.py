"""`make bench`: the floor, full FedAvg rounds at several client counts with the chain on
(Ganache and Anvil) and off, peak memory, start-up, and whether every variant gave the same
global model; a table, bench/results.json and bench/results.png."""
from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from fl.tools.bench.floor import centralized_epochs
from fl.tools.bench.runs import Measured, measure

TARGET_RATIO = {10: 1.15, 100: 1.15, 1000: 1.5}
TARGET_PEAK_MB = 3 * 1024
TARGET_STARTUP_S = 15.0


def machine(device: str = "cpu") -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = f"{torch.cuda.get_device_name(device)} (device {device}), " if device.startswith("cuda") else ""
    threads = torch.get_num_threads()
    return (f"{gpu}{platform.machine()} {cpu}, {threads} torch thread{'' if threads == 1 else 's'}, "
            f"torch {torch.__version__}, Python {platform.python_version()}")


def row(measured: Measured, clients: int, network: str, floor_s: float, reference_model: str) -> dict:
    startup = measured.summary.get("startup", {})
    return {
        "clients": clients, "chain": network,
        "round_s": measured.warm("seconds"), "ratio": measured.warm("seconds") / floor_s,
        "chain_s": measured.warm("chain_seconds"), "gas": measured.warm("gas"), "txs": measured.warm("txs"),
        "peak_rss_mb": measured.summary["peak_rss_mb"],
        "startup_s": startup.get("startup_s"), "startup": startup,
        "final_model": measured.summary["final_model"],
        "same_model_as_off": measured.summary["final_model"] == reference_model,
    }


def table(results: dict) -> str:
    lines = [f"Measured on {results['machine']}; floor: one centralized epoch over 60,000 FashionMNIST images, "
             f"batch 32: **{results['floor_s']:.2f} s**. Rounds: FedAvg, VeryFL's CNN, all clients, 1 local epoch, "
             f"batch 32, median of warm rounds.", "",
             "| clients | chain | round s | ÷ floor (target) | chain s | gas / round | peak RSS MB | start-up s | same model as off |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results["rows"]:
        target = f" (≤ {TARGET_RATIO[r['clients']]})" if r["chain"] != "off" and r["clients"] in TARGET_RATIO else ""
        startup = f"{r['startup_s']:.1f}" if r["startup_s"] is not None else "–"
        lines.append(f"| {r['clients']:,} | {r['chain']} | {r['round_s']:.2f} | {r['ratio']:.3f}{target} | "
                     f"{r['chain_s']:.2f} | {r['gas']:,.0f} | {r['peak_rss_mb']:,.0f} | {startup} | "
                     f"{'yes' if r['same_model_as_off'] else 'NO'} |")
    lines += ["", "Start-up = compile from cache + chain launch + deploy + data load (registering the clients is "
              "counted separately in bench/results.json: `register_s`)."]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({r["clients"] for r in results["rows"]})
    chains = list(dict.fromkeys(r["chain"] for r in results["rows"]))
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(chains)
    for k, chain in enumerate(chains):
        rows = {r["clients"]: r for r in results["rows"] if r["chain"] == chain}
        xs = [i + k * width for i in range(len(sizes))]
        ax_time.bar(xs, [rows[n]["round_s"] for n in sizes], width, label=chain)
        ax_mem.bar(xs, [rows[n]["peak_rss_mb"] for n in sizes], width, label=chain)
    ax_time.axhline(results["floor_s"], color="k", linestyle="--", label="centralized epoch")
    for ax, title, unit in ((ax_time, "FedAvg round", "seconds"), (ax_mem, "Peak memory (Python process)", "MB")):
        ax.set_xticks([i + width * (len(chains) - 1) / 2 for i in range(len(sizes))], [f"{n:,} clients" for n in sizes])
        ax.set(title=title, ylabel=unit)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_suite(sizes: list[int], rounds: int, networks: list[str], out_dir: Path, device: str = "cpu") -> dict:
    """The floor and every (clients, chain) run on `device`; `networks` empty: the chain-off runs only."""
    floor = centralized_epochs(device=device)
    floor_s = floor[-1]
    runs_dir = out_dir / "runs"
    extra = ("--device", device)
    rows = []
    for clients in sizes:
        off = measure(f"off-{clients}", runs_dir, clients, rounds, chain=False, extra=extra)
        rows.append(row(off, clients, "off", floor_s, off.summary["final_model"]))
        for network in networks:
            on = measure(f"{network}-{clients}", runs_dir, clients, rounds, network=network, extra=extra)
            rows.append(row(on, clients, network, floor_s, off.summary["final_model"]))
    return {"machine": machine(device), "device": device, "floor_epochs_s": floor, "floor_s": floor_s,
            "rounds": rounds, "rows": rows}


def verdicts(results: dict) -> list[str]:
    """Each target, met or not, with the number."""
    out = []
    for r in results["rows"]:
        if r["chain"] != "off" and r["clients"] in TARGET_RATIO:
            target = TARGET_RATIO[r["clients"]]
            out.append(f"{'met' if r['ratio'] <= target else 'MISSED'}: round/floor {r['ratio']:.3f} ≤ {target} "
                       f"at {r['clients']} clients on {r['chain']}")
        if r["clients"] == max(TARGET_RATIO):
            out.append(f"{'met' if r['peak_rss_mb'] < TARGET_PEAK_MB else 'MISSED'}: peak memory "
                       f"{r['peak_rss_mb']:,.0f} MB < {TARGET_PEAK_MB:,} MB at {r['clients']} clients ({r['chain']})")
        if r["startup_s"] is not None:
            out.append(f"{'met' if r['startup_s'] <= TARGET_STARTUP_S else 'MISSED'}: start-up {r['startup_s']:.1f} s "
                       f"≤ {TARGET_STARTUP_S:g} s ({r['clients']} clients, {r['chain']})")
        if not r["same_model_as_off"]:
            out.append(f"MISSED: {r['chain']} at {r['clients']} clients ended on another model than the chain-off run")
    return out


def write(results: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, out_dir / "results.png")
