"""`python -m fl client`: one client as its own process, with its own key.

It reads the task from the shared folder the aggregator published, checks that the task on
chain is the published experiment (its experiment id, which binds the config hash and the run's
salt, is the one chain.json records), registers from its own account (only possible before
round 1 opens), then follows the chain: for every RoundOpened event that selects it, it fetches the
global model from the shared store (checked against the hash on chain), trains on its own shard,
stores its update and commits the update's hash from its own account. It stops after the
task's last round is finalized.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

from fl.chain import bitmap
from fl.chain.task import RoundState
from fl.core import config
from fl.core.errors import UserError
from fl.core.store import ArtifactStore
from fl.features.base import PROCESSES
from fl.run.assembly import Assembly
from fl.run.engine import train_one

POLL_SECONDS = 0.2


def _wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise UserError(f"{path} did not appear within {timeout:g} s: is the aggregator running with this folder?")
        time.sleep(POLL_SECONDS)


def run_client(rpc: str, key: str, folder: str | Path, index: int, timeout: float = 600.0) -> int:
    """Serve as the client holding shard `index`; returns the number of rounds it trained."""
    import json

    from fl.chain import TaskChain
    from fl.chain.rpc import rpc_connected

    folder = Path(folder)
    _wait_for(folder / "chain.json", timeout)
    cfg = config.build(folder / "config.yaml")
    if not 0 <= index < cfg.train.clients:
        raise UserError(f"shard index {index} is out of range: the task has {cfg.train.clients} clients (0..{cfg.train.clients - 1})")
    prepared = Assembly(cfg, PROCESSES).prepare()
    indices = prepared.parts[index]
    model = copy.deepcopy(prepared.model)
    store = ArtifactStore(folder / "artifacts")
    published = json.loads((folder / "chain.json").read_text())
    address = published["contract"]
    trained = 0
    with rpc_connected(rpc):
        task = TaskChain.attach(address, commit_mode="direct")
        if published.get("experiment_id") and published["experiment_id"].lower() != task.experiment_id:
            raise UserError(f"the task at {address} is experiment {task.experiment_id}, but {folder / 'chain.json'} "
                            f"publishes experiment {published['experiment_id']}")
        [client_id] = task.attach_clients([key])
        print(f"client {client_id} (shard {index}, {len(indices)} samples): registered as {task.clients[client_id]}",
              flush=True)
        state: dict = {}
        next_block = 0
        deadline = time.monotonic() + timeout
        while True:
            for event in task.events_since("RoundOpened", next_block):
                next_block = event.blockNumber + 1
                round_ = int(event.args.round)
                if client_id not in bitmap.from_words(event.args.selected):
                    continue
                model_hash = "0x" + bytes(event.args.globalModelHash).hex()
                _wait_for(store.path(model_hash), timeout)
                global_state, _ = store.get(model_hash)
                update = train_one(cfg, prepared.algorithm, model, prepared.dataset, indices, round_, client_id,
                                   global_state, state)
                digest = store.put(update.tensors, update.metadata(round_))
                task.commit(client_id, round_, digest)
                outcome = task.flush(round_)
                verdict = "committed" if client_id in outcome.accepted else f"rejected ({outcome.rejected.get(client_id)})"
                print(f"client {client_id}: round {round_} trained (loss {update.train_loss:.3f}), {verdict} {digest}",
                      flush=True)
                trained += 1
            last = cfg.train.rounds
            if task.current_round() == last and task.round_record(last).state == RoundState.FINALIZED:
                return trained
            if time.monotonic() > deadline:
                raise UserError(f"client {client_id}: the task did not finish within {timeout:g} s")
            time.sleep(POLL_SECONDS)

