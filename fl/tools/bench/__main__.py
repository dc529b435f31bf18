"""`python -m fl.tools.bench suite|chain`."""
from __future__ import annotations

from pathlib import Path

import click
import torch

from fl.core.errors import UserError, guarded
from fl.tools.bench import suite as bench_suite
from fl.tools.bench.runs import measure


@click.group()
def cli() -> None:
    """OnChainFL benchmarks (scripts, not tests)."""


@cli.command()
@click.option("--clients", "sizes", default="10,100,1000", show_default=True, help="Client counts, comma-separated.")
@click.option("--rounds", default=3, show_default=True, help="Rounds per run; the first is a warm-up.")
@click.option("--networks", default="ganache-local,anvil-local", show_default=True,
              help="Chains, comma-separated; 'none' for the chain-off runs only.")
@click.option("--device", default="cpu", show_default=True, help="Torch device of the floor and the runs (cpu, cuda).")
@click.option("--out", "out_dir", default="bench", show_default=True, type=click.Path(file_okay=False))
@click.option("--readme/--no-readme", default=False,
              help="Also write the table into README.md (section bench; bench-gpu for a cuda device).")
def suite(sizes: str, rounds: int, networks: str, device: str, out_dir: str, readme: bool) -> None:
    """The full benchmark suite.

    The centralized floor, FedAvg rounds at each client count on each chain and off, peak memory,
    start-up, and whether every variant gave the same global model."""
    def go():
        chains = [] if networks == "none" else networks.split(",")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise UserError(f"--device {device}: torch sees no CUDA GPU here; choices: cpu")
        results = bench_suite.run_suite([int(n) for n in sizes.split(",")], rounds, chains, Path(out_dir), device)
        bench_suite.write(results, Path(out_dir))
        text = bench_suite.table(results)
        print("\n" + text + "\n")
        for line in bench_suite.verdicts(results):
            print(line)
        if readme:
            from fl.tools.readme import replace_section

            replace_section("bench-gpu" if device.startswith("cuda") else "bench", text)
        print(f"written: {out_dir}/results.json, {out_dir}/results.png")

    guarded(go)


@cli.command()
@click.option("--clients", "sizes", default="10,100,500", show_default=True, help="Clients per round, comma-separated.")
@click.option("--rounds", default=3, show_default=True, help="Rounds per run; the first is a warm-up.")
@click.option("--network", default="ganache-local", show_default=True)
@click.option("--out", default="bench/chain.json", show_default=True)
@click.option("--readme/--no-readme", default=False,
              help="Also write the table into README.md (section chain-bench, or chain-bench-<network>).")
def chain(sizes: str, rounds: int, network: str, out: str, readme: bool) -> None:
    """The chain's cost per round.

    Chain seconds, gas and transactions per round, and the round time with and without the chain."""
    import json

    def go():
        runs_dir = Path(out).parent / "runs"
        rows = []
        for clients in [int(x) for x in sizes.split(",")]:
            on = measure(f"chain-{network}-{clients}", runs_dir, clients, rounds, network=network)
            off = measure(f"chain-off-{clients}", runs_dir, clients, rounds, chain=False)
            rows.append({"clients": clients, "chain_s": on.warm("chain_seconds"), "gas": on.warm("gas"),
                         "txs": on.warm("txs"), "round_s_with_chain": on.warm("seconds"),
                         "round_s_without_chain": off.warm("seconds"),
                         "ratio": on.warm("seconds") / off.warm("seconds"),
                         "register_s": on.summary["startup"]["register_s"]})
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({"machine": bench_suite.machine(), "network": network, "rows": rows}, indent=2))
        lines = [f"Measured on {bench_suite.machine()}; chain {network}; FedAvg over all 60,000 FashionMNIST images "
                 "(1 local epoch, batch 32, VeryFL's CNN), median of warm rounds. Chain seconds include the clients' "
                 "signing and the background batches that overlap training.", "",
                 "| clients / round | chain s / round | gas / round | txs | round s with chain | round s without | ratio |",
                 "|---:|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['clients']:,} | {r['chain_s']:.3f} | {r['gas']:,.0f} | {r['txs']:.0f} | "
                  f"{r['round_s_with_chain']:.2f} | {r['round_s_without_chain']:.2f} | {r['ratio']:.3f} |" for r in rows]
        text = "\n".join(lines)
        print("\n" + text)
        if readme:
            from fl.tools.readme import replace_section

            replace_section("chain-bench" if network == "ganache-local" else f"chain-bench-{network}", text)
        print(f"\nwritten: {out}")

    guarded(go)


@cli.command()
@click.option("--clients", "sizes", default="10,100,1000", show_default=True, help="Client counts, comma-separated.")
@click.option("--rounds", default=3, show_default=True, help="Rounds per run; the first is a warm-up.")
@click.option("--networks", default="ganache-local,anvil-local", show_default=True, help="Chains, comma-separated.")
@click.option("--out", "out_dir", default="bench/engines", show_default=True, type=click.Path(file_okay=False))
@click.option("--readme/--no-readme", default=False, help="Also write the table into README.md (section engines).")
def engines(sizes: str, rounds: int, networks: str, out_dir: str, readme: bool) -> None:
    """The in-process engine, the Flower engine and plain Flower (no chain) side by side."""
    import json

    from fl.tools.bench import engines as bench_engines

    def go():
        out = Path(out_dir)
        results = bench_engines.run_engines([int(n) for n in sizes.split(",")], rounds, networks.split(","), out)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        text = bench_engines.table(results)
        print("\n" + text + "\n")
        for line in bench_engines.verdicts(results):
            print(line)
        if readme:
            from fl.tools.readme import replace_section

            replace_section("engines", text)
        print(f"written: {out}/results.json")

    guarded(go)


@cli.command()
@click.option("--models", "names", default="niid-cnn,cnn", show_default=True, help="Models, comma-separated.")
@click.option("--repeats", default=3, show_default=True, help="Alternated measurements per layout.")
def layout(names: str, repeats: int) -> None:
    """Local training in the channels-last layout (what the runs use for a CNN) against the default one."""
    from fl.ml import models
    from fl.tools.bench import layout as bench_layout

    def go():
        for name in names.split(","):
            models.check_name(name)
        print(bench_layout.table(bench_layout.compare(names.split(","), repeats), torch.get_num_threads()))

    guarded(go)


if __name__ == "__main__":
    cli()
