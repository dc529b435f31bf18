"""`python -m fl run --engine flower`: the experiment's clients as Flower ClientApps on Flower's
simulation engine (Ray backend), as many at once as the resources allow, the server side in this
process on the run's chain. The run folder has the in-process engine's format; `verify` audits it
unchanged."""
from __future__ import annotations

import logging
import os
import time

from fl.core.config import ExperimentConfig
from fl.core.errors import UserError
from fl.core.paths import ROOT
from fl.core.report import RunDir
from fl.features.base import FLOWER
from fl.run.assembly import Assembly
from fl.run.experiment import describe, start_run
from fl.run.flower.protocol import SEEDED

#: how long the server waits for a round's replies, and for the nodes to come up (seconds)
ROUND_TIMEOUT, NODES_TIMEOUT = 3600.0, 300.0


def backend_config(client_cpus: float, client_gpus: float, total_cpus: int | None = None) -> dict:
    """Flower's Ray backend: each ClientApp gets `client_cpus` CPUs and `client_gpus` GPUs, so that
    cpu_count / client_cpus of them run at once."""
    cpus = total_cpus or os.cpu_count() or 1
    if client_cpus <= 0 or client_cpus > cpus:
        raise UserError(f"--client-cpus {client_cpus:g} must be in (0, {cpus}], the CPUs of this machine")
    if client_gpus < 0:
        raise UserError(f"--client-gpus {client_gpus:g} must be 0 or more")
    init = {"num_cpus": cpus, "include_dashboard": False, "log_to_driver": False,
            "object_store_memory": 256 * 1024 * 1024}
    if client_gpus > 0:
        import torch

        if not torch.cuda.is_available():
            raise UserError(f"--client-gpus {client_gpus:g} asked for but torch sees no CUDA GPU here; use 0")
        init["num_gpus"] = torch.cuda.device_count()
    return {"client_resources": {"num_cpus": client_cpus, "num_gpus": client_gpus}, "init_args": init}


def client_threads(cfg: ExperimentConfig, client_cpus: float) -> int:
    """Torch threads of each ClientApp: the config's `train.threads`, else its CPUs."""
    return cfg.train.threads or max(1, int(client_cpus))


def run_flower_experiment(cfg: ExperimentConfig, client_cpus: float = 1.0, client_gpus: float = 0.0,
                          client_app=None, log=print) -> RunDir:
    """The run, its ClientApps on `cfg.train.clients` simulated SuperNodes (`client_app`: OnChainFL's,
    unless a test brings another); `log` gets the server's lines (rounds, faults)."""
    from flwr.serverapp import ServerApp
    from flwr.simulation import run_simulation

    from fl.chain import connected, load_project
    from fl.run.flower.client_app import app as onchainfl_client_app
    from fl.run.flower.server import FlowerServer

    began = time.perf_counter()
    assembly = Assembly(cfg, FLOWER)
    backend = backend_config(client_cpus, client_gpus)
    prepared = assembly.prepare()
    run = start_run(assembly, prepared)
    threads = client_threads(cfg, client_cpus)
    print(f"OnChainFL run {run.path} on Flower's simulation engine (Ray: {client_cpus:g} CPU, {client_gpus:g} GPU "
          f"and {threads} torch thread(s) per client)\n  {describe(cfg)}{assembly.trackers.describe()}", flush=True)
    timings = {"data_load_s": prepared.seconds}
    t0 = time.perf_counter()
    load_project()
    timings["compile_s"] = time.perf_counter() - t0
    # Ray's workers import this package and read the data where this process does
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # Ray's own default from its next versions
    # Flower's own notices (run_simulation's deprecation among them); the server logs every fault itself
    logging.getLogger("flwr").setLevel(logging.ERROR)
    with connected(cfg.chain.network, db_path=run.path / "chain" if cfg.chain.persist else None) as session:
        server = FlowerServer(assembly, prepared, run, SEEDED, threads, ROUND_TIMEOUT, NODES_TIMEOUT, session, log)
        # start-up: everything before round 1 (data, compile, chain, Ray and its actors, deploy, registration)
        server.on_ready = lambda: timings.update(startup_s=time.perf_counter() - began)
        outcome: dict = {}
        server_app = ServerApp()

        @server_app.main()
        def main(grid, context) -> None:
            try:
                flower = {"backend": "ray", "client_cpus": client_cpus, "client_gpus": client_gpus,
                          "client_threads": threads}
                outcome["run"] = server.serve(grid, {"startup": timings, "flower": flower})
            except BaseException as exc:  # Flower logs and swallows what a ServerApp raises
                outcome["error"] = exc

        run_simulation(server_app=server_app, client_app=client_app or onchainfl_client_app,
                       num_supernodes=cfg.train.clients, backend_config=backend)
    if "error" in outcome:
        raise outcome["error"]
    if "run" not in outcome:
        raise UserError("Flower's simulation ended before the run finished (see the log above)")
    return outcome["run"]
