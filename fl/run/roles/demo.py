"""`make demo-processes`: an aggregator and three client processes against one Ganache, then verify.

Launches the project's Ganache (its database in the run folder), starts `python -m fl
aggregator` and three `python -m fl client` processes pointed at it over loopback, waits for
them, and audits the result with `verify` on the same chain.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import click

from fl.chain.keys import client_private_key
from fl.core.errors import UserError, guarded
from fl.core.paths import ROOT


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fl", *args], cwd=ROOT)


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise UserError(f"timed out waiting for {what}")
        time.sleep(0.1)


def run_processes(rpc: str, folder: Path, clients: int, rounds: int, dataset: str, seed: int = 0,
                  timeout: float = 600.0, aggregator_args: tuple[str, ...] = ()) -> None:
    """Start the aggregator, then the clients one by one (each once the previous has registered, so
    that client i gets id i + 1 as in the simulation), with the simulation's keys; wait for all of
    them and raise if any fails. `aggregator_args` are further options of `python -m fl aggregator`.
    Needs a Brownie connection to the same chain."""
    from fl.chain import TaskChain

    aggregator = spawn("aggregator", "--rpc", rpc, "--store", str(folder), "--clients", str(clients),
                       "--rounds", str(rounds), "--dataset", dataset, "--set", f"seed={seed}", "--set",
                       "output.progress=false", *aggregator_args)
    processes = [aggregator]
    try:
        _wait_until(lambda: (folder / "chain.json").exists() or aggregator.poll() is not None, timeout,
                    "the aggregator to deploy the task")
        task = TaskChain.attach(json.loads((folder / "chain.json").read_text())["contract"])
        for i in range(clients):
            processes.append(spawn("client", "--rpc", rpc, "--store", str(folder), "--index", str(i),
                                   "--key", client_private_key(seed, i)))
            _wait_until(lambda: task.client_count() > i or processes[-1].poll() is not None, timeout,
                        f"client {i} to register")
        codes = [p.wait(timeout) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    if any(codes):
        raise UserError(f"process exit codes (aggregator, clients): {codes}")


@click.command()
@click.option("--clients", default=3, show_default=True)
@click.option("--rounds", default=2, show_default=True)
@click.option("--dataset", default="synthetic-images", show_default=True)
@click.option("--folder", default="runs/demo-processes", show_default=True, type=click.Path(file_okay=False))
def main(clients: int, rounds: int, dataset: str, folder: str) -> None:
    def go():
        import shutil

        from fl.audit.verify import verify_task
        from fl.chain import TaskChain, connected
        from fl.chain.network import rpc_endpoint

        target = Path(folder)
        chain_db = target.with_name(target.name + "-chain")
        for old in (target, chain_db):
            shutil.rmtree(old, ignore_errors=True)
        with connected(db_path=chain_db):
            rpc = rpc_endpoint()
            print(f"demo: chain at {rpc}; starting 1 aggregator and {clients} client processes")
            run_processes(rpc, target, clients, rounds, dataset)
            address = json.loads((target / "chain.json").read_text())["contract"]
            report = verify_task(target, TaskChain.attach(address))
        for verdict in report.rounds:
            print(verdict.line())
        print(f"verify: {'OK' if report.ok else 'FAILED'}")
        if not report.ok:
            sys.exit(1)

    guarded(go)


if __name__ == "__main__":
    main()
