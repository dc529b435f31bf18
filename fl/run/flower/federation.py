"""`make flower-federation`: a real Flower deployment on loopback, every round on chain.

A SuperLink and N SuperNodes as separate processes, TLS on (a CA and a server certificate made
here with `cryptography`), SuperNode authentication on (each SuperNode's EC key registered with
the SuperLink); each SuperNode holds its own Ethereum key and its own data shard, in its own
folder. `flwr run` submits the run (fl/run/flower/app); the ServerApp deploys the task on the
chain (a Ganache the launcher starts, or any development node given with --rpc), registers the
clients the SuperNodes sign for and runs the rounds; then `verify` audits the run folder against
the chain.

Folder layout (default runs/flower-federation/):

    certs/       ca.crt, server.pem, server.key (the SuperLink's TLS)
    nodes/node-i/ auth key pair (SuperNode authentication), ethereum.key, shard.pt, node config
    run/         the run folder (what `make verify` audits)
    logs/        one log per process; homes/: each process's FLWR_HOME
"""
from __future__ import annotations

import json
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import click
import torch

from fl.core import config
from fl.core.errors import UserError, guarded
from fl.core.paths import ROOT
from fl.run.flower import certificates
from fl.run.flower.processes import Deployment
from fl.run.flower.server_app import ERROR_FILE

APP = Path(__file__).resolve().parent / "app"


def ethereum_key() -> str:
    """A fresh secp256k1 private key (0x-hex), as a party would make its own."""
    from eth_account import Account

    return "0x" + bytes(Account.create().key).hex()


@dataclass
class Party:
    """One SuperNode's own files: its authentication keys, Ethereum key and data shard."""
    name: str
    keys: certificates.NodeKeys
    key_file: Path
    shard_file: Path
    partition: int

    def node_config(self) -> dict:
        return {"partition-id": self.partition, "key-file": str(self.key_file), "data-file": str(self.shard_file)}


def make_parties(folder: Path, cfg: config.ExperimentConfig) -> list[Party]:
    """Each party's folder: a SuperNode key pair, an Ethereum key and its shard of the training
    data (the run's seeded partition, as every party would hold its own)."""
    from fl.run.assembly import prepare

    prepared = prepare(cfg)
    parties = []
    for i, indices in enumerate(prepared.parts):
        home = folder / "nodes" / f"node-{i}"
        home.mkdir(parents=True)
        keys = certificates.make_node_keys(home, f"node-{i}")
        key_file = home / "ethereum.key"
        key_file.write_text(ethereum_key() + "\n")
        key_file.chmod(0o600)
        shard = home / "shard.pt"
        torch.save({"x": prepared.dataset.train_x[indices].cpu(), "y": prepared.dataset.train_y[indices].cpu(),
                    "input_shape": list(prepared.dataset.input_shape),
                    "num_classes": prepared.dataset.num_classes}, shard)
        parties.append(Party(f"node-{i}", keys, key_file, shard, i))
    return parties


def federation_config(folder: Path, clients: int, rounds: int, dataset: str, seed: int,
                      sets: dict | None = None) -> Path:
    cfg = config.build(None, {"data.name": dataset, "train.clients": clients, "train.rounds": rounds, "seed": seed,
                              "output.runs_dir": str(folder.absolute()), "output.run_name": "run",
                              "output.progress": False, **(sets or {})})
    path = folder / "config.yaml"
    path.write_text(config.to_yaml(cfg))
    return path


def kill_when_round_opens(deployment: Deployment, node, run_folder: Path, round_: int, stop: threading.Event) -> None:
    """Watch the chain; SIGTERM `node`'s process group as soon as round `round_` is open (while
    its ClientApp trains). Needs a Brownie connection to the run's chain."""
    from fl.chain import TaskChain

    task = None
    while not stop.is_set():
        chain_json = run_folder / "chain.json"
        if task is None and chain_json.exists():
            task = TaskChain.attach(json.loads(chain_json.read_text())["contract"])
        if task is not None and task.current_round() >= round_:
            deployment.kill_supernode(node, signal.SIGTERM)
            return
        time.sleep(0.05)


def run_federation(folder: Path, rpc: str, clients: int = 3, rounds: int = 2, dataset: str = "fashionmnist",
                   seed: int = 0, kill: tuple[int, int] | None = None, sets: dict | None = None,
                   round_timeout: float = 300.0, log=print) -> Path:
    """Lay out the parties, start the deployment, run; returns the run folder. `kill`: (partition,
    round): that party's SuperNode is killed while the round is open (a crash mid-round). Needs a
    Brownie connection to `rpc` only when `kill` is given."""
    folder = Path(folder).absolute()
    cfg_path = federation_config(folder, clients, rounds, dataset, seed, sets)
    cfg = config.build(cfg_path)
    t0 = time.perf_counter()
    tls = certificates.make_tls(folder / "certs")
    parties = make_parties(folder, cfg)
    log(f"federation: {clients} parties laid out in {folder / 'nodes'} ({time.perf_counter() - t0:.1f} s)")
    run_folder = folder / "run"
    with Deployment(folder, tls, pythonpath=[ROOT]) as deployment:
        link = deployment.start_superlink()
        nodes = deployment.start_supernodes([(p.keys, p.node_config()) for p in parties])
        log(f"federation: SuperLink at {link.address} (TLS, SuperNode authentication), "
            f"{len(nodes)} SuperNodes accepted ({time.perf_counter() - t0:.1f} s)")
        stop = threading.Event()
        watcher = None
        if kill is not None:
            watcher = threading.Thread(target=kill_when_round_opens,
                                       args=(deployment, nodes[kill[0]], run_folder, kill[1], stop), daemon=True)
            watcher.start()
        try:
            result = deployment.run(APP, {"config": str(cfg_path), "rpc": rpc, "round-timeout": round_timeout,
                                          "threads": cfg.train.threads or 1}, check=False)
        finally:
            stop.set()
            if watcher is not None:
                watcher.join()
        error = run_folder / ERROR_FILE
        if error.exists():
            raise UserError(f"the federation's run failed: {error.read_text().strip()} (log: {result.log})")
        if not result.ok:
            raise UserError(f"Flower run {result.run_id} ended {result.status}: {' '.join(result.details.split())}; "
                            f"see {result.log}")
    log(f"federation: Flower run {result.run_id} finished in {result.seconds:.1f} s; run folder {run_folder}")
    return run_folder


@click.command()
@click.option("--clients", default=3, show_default=True, help="SuperNodes (parties), each with its own shard and key.")
@click.option("--rounds", default=2, show_default=True)
@click.option("--dataset", default="fashionmnist", show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--folder", default="runs/flower-federation", show_default=True, type=click.Path(file_okay=False))
@click.option("--rpc", help="A development node's JSON-RPC URL (default: start a Ganache for the federation).")
def main(clients: int, rounds: int, dataset: str, seed: int, folder: str, rpc: str | None) -> None:
    """A SuperLink and SuperNodes on loopback with TLS and SuperNode authentication, every round on chain, verified."""
    def go():
        from fl.audit.verify import verify_task
        from fl.chain import TaskChain, connected
        from fl.chain.network import rpc_endpoint
        from fl.chain.rpc import rpc_connected

        target = Path(folder)
        if clients < 1 or rounds < 1:
            raise UserError(f"--clients {clients} and --rounds {rounds} must be at least 1")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        chain = rpc_connected(rpc) if rpc else connected(db_path=target / "chain")
        with chain:
            endpoint = rpc or rpc_endpoint()
            print(f"federation: chain at {endpoint}")
            run_folder = run_federation(target, endpoint, clients, rounds, dataset, seed)
            info = json.loads((run_folder / "chain.json").read_text())
            report = verify_task(run_folder, TaskChain.attach(info["contract"]))
        for verdict in report.rounds:
            print(verdict.line())
        print(f"verify: {'OK' if report.ok else 'FAILED'}")
        if not report.ok:
            sys.exit(1)

    guarded(go)


if __name__ == "__main__":
    main()
