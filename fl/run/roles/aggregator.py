"""`python -m fl aggregator`: the server side as its own process, against any node.

It deploys the task and publishes the run folder (config.yaml, task.json, chain.json) in the
shared folder, waits for the clients to register, then every round opens it on chain, waits
for the selected clients' own commitments (or a timeout), loads their updates from the shared
store (each checked against its commitment), aggregates and finalizes: the simulation's round
protocol with the clients elsewhere. The folder is a normal run folder: `fl verify` audits it.
"""
from __future__ import annotations

import time
from pathlib import Path

from fl.chain.ledger import CommitOutcome
from fl.core.config import ExperimentConfig, to_yaml
from fl.core.errors import UserError
from fl.core.report import RunDir
from fl.core.store import ArtifactStore
from fl.features.base import PROCESSES
from fl.run.assembly import Assembly
from fl.run.engine import Engine
from fl.run.experiment import finish, round_line

POLL_SECONDS = 0.2


class ChainWaitingEngine(Engine):
    """An engine whose clients are other processes: it waits for their commitments on chain."""

    def __init__(self, *args, round_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.round_timeout = round_timeout
        self._committed: dict[int, dict[int, str]] = {}

    def collect(self, round_: int, selected: list[int]) -> dict:
        deadline = time.monotonic() + self.round_timeout
        committed: dict[int, str] = {}
        wanted = set(selected)
        while len(committed) < len(selected) and time.monotonic() < deadline:
            committed = {cid: h for cid, h in self.ledger.commitments(round_).items() if cid in wanted}
            if len(committed) < len(selected):
                time.sleep(POLL_SECONDS)
        missing = sorted(set(selected) - set(committed))
        if missing:
            self.log(f"round {round_}: no commitment from clients {missing} within {self.round_timeout:g} s")
        self._committed[round_] = committed
        updates = {}
        for client_id, digest in committed.items():
            try:
                tensors, metadata = self.store.get(digest)
            except UserError as exc:
                self.log(f"round {round_}: client {client_id}'s update excluded: {exc}")
                continue
            from fl.ml.algorithms.api import Update

            updates[client_id] = Update.from_artifact(tensors, metadata)
        return updates

    def commitments(self, round_: int) -> CommitOutcome:
        return CommitOutcome(accepted=self._committed.pop(round_, {}))


def run_aggregator(cfg: ExperimentConfig, rpc: str, folder: str | Path, key: str | None = None,
                   round_timeout: float = 300.0, register_timeout: float = 300.0) -> RunDir:
    from fl.chain import TaskChain
    from fl.chain.rpc import rpc_connected

    folder = Path(folder)
    if (folder / "chain.json").exists():
        raise UserError(f"{folder} already holds a run; give the aggregator an empty folder")
    assembly = Assembly(cfg, PROCESSES)  # refuses what client processes cannot do, before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    run = RunDir(folder)
    (folder / "config.yaml").write_text(to_yaml(cfg))
    prepared = assembly.prepare()
    config_hash = cfg.config_hash()
    run.write_json("task.json", {"config_hash": config_hash, "config": cfg.task_dict()})
    store = ArtifactStore(run.artifacts)
    with rpc_connected(rpc):
        task = TaskChain.deploy(config_hash, aggregator_key=key, commit_mode="direct")
        run.write_json("chain.json", {"network": f"rpc {rpc}", "rpc": rpc, "contract": task.address,
                                      "aggregator": str(task.aggregator), "config_hash": config_hash,
                                      "salt": task.salt, "experiment_id": task.experiment_id,
                                      "clients": {}, "db_path": None, "chain_pid": None, "commit_mode": "direct"})
        print(f"aggregator: FLTask at {task.address}; waiting for {cfg.train.clients} clients to register", flush=True)
        deadline = time.monotonic() + register_timeout
        while task.client_count() < cfg.train.clients:
            if time.monotonic() > deadline:
                raise UserError(f"only {task.client_count()} of {cfg.train.clients} clients registered "
                                f"within {register_timeout:g} s")
            time.sleep(POLL_SECONDS)
        client_ids = list(range(1, cfg.train.clients + 1))
        info = run.read_json("chain.json")
        info["clients"] = {str(cid): task.client_address(cid) for cid in client_ids}
        run.write_json("chain.json", assembly.set_up(task, client_ids, prepared.algorithm, info))
        described = assembly.describe_setup()
        if described:
            print("aggregator:" + described, flush=True)

        def report(row):
            run.append_metrics(row)
            print("aggregator: " + round_line(row, cfg.train.rounds), flush=True)

        engine = assembly.engine(prepared, store, task, client_ids, ChainWaitingEngine, on_round=report,
                                 round_timeout=round_timeout, log=lambda line: print(f"aggregator: {line}", flush=True))
        engine.run()
        extra = assembly.summary(engine, task)
    return finish(run, {"processes": True, **extra})
