"""Flower's `ServerApp` of an OnChainFL deployment (`fl.run.flower.server_app:app`), started by
the SuperLink for a run that `flwr run` submits. Its run config says where the experiment's
config file is, which chain to use and how long to wait:

    config          path of the experiment's YAML config (its output.runs_dir/run_name: the run folder)
    rpc             the chain's JSON-RPC URL (a development node: its first unlocked account aggregates)
    round-timeout   seconds to wait for a round's replies (clients that miss it do not commit)
    nodes-timeout   seconds to wait for the SuperNodes to connect and register
    threads         torch threads of each client

Each SuperNode holds its own key (node config `key-file`) and partition (`partition-id`). A
failure ends the run with one line in the run folder's `error.txt` (besides Flower's log).
"""
from __future__ import annotations

import os
from pathlib import Path

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from fl.core import config
from fl.core.errors import UserError
from fl.core.paths import ROOT
from fl.features.base import FLOWER
from fl.run.assembly import Assembly
from fl.run.experiment import start_run
from fl.run.flower.protocol import NODE

app = ServerApp()

ERROR_FILE = "error.txt"


def run_folder(cfg: config.ExperimentConfig) -> Path:
    """Where the deployment's run goes: the config must name it (output.run_name)."""
    if not cfg.output.run_name:
        raise UserError("a deployment's config must name its run folder: set output.run_name")
    return Path(cfg.output.runs_dir) / cfg.output.run_name


def serve(grid: Grid, run_config) -> Path:
    from fl.chain.network import ChainSession
    from fl.chain.rpc import rpc_connected
    from fl.run.flower.server import FlowerServer

    os.chdir(ROOT)  # the Brownie project (contracts, their OpenZeppelin imports) resolves from the checkout
    cfg = config.build(str(run_config["config"]))
    folder = run_folder(cfg)
    if folder.exists():
        raise UserError(f"the run folder {folder} exists already; name another (output.run_name) or remove it")
    if cfg.chain.network is not None:
        raise UserError(f"a deployment's chain is its run config's rpc; chain.network {cfg.chain.network!r} would not "
                        "be used: leave it unset")
    assembly = Assembly(cfg, FLOWER)
    prepared = assembly.prepare()
    run = start_run(assembly, prepared)
    rpc = str(run_config["rpc"])
    with rpc_connected(rpc):
        server = FlowerServer(assembly, prepared, run, NODE, int(run_config.get("threads", 1)),
                              float(run_config.get("round-timeout", 300)), float(run_config.get("nodes-timeout", 120)),
                              ChainSession(f"rpc {rpc}", launched=False), lambda line: print(line, flush=True),
                              chain_extra={"rpc": rpc})
        server.serve(grid, {"flower": {"deployment": True}})
    return run.path


@app.main()
def main(grid: Grid, context: Context) -> None:
    try:
        serve(grid, context.run_config)
    except Exception as exc:
        line = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        try:
            folder = run_folder(config.build(str(context.run_config["config"])))
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ERROR_FILE).write_text(line.splitlines()[0] + "\n")
        except Exception:  # the config itself is broken: Flower's log has the error
            pass
        raise
