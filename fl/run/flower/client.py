"""One party of a Flower run: its shard, its key, its trainer; Flower's ClientApp (client_app.py)
calls it. The client trains exactly as a client of the in-process engine (fl.run.engine), stores
nothing and talks to no chain: it signs its registration and each update's hash with its own
key, and the server relays the signatures."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch

from fl.chain import signing
from fl.chain.keys import client_private_key
from fl.core import codec, config
from fl.core.errors import UserError
from fl.core.store import hex_hash
from fl.ml.algorithms.api import Update
from fl.ml.algorithms.base import Algorithm
from fl.ml.robust import attacks
from fl.ml.training import deterministic_device
from fl.run.assembly import Prepared, prepare, prepare_model
from fl.run.engine import client_context
from fl.run.flower.protocol import NODE, SEEDED, Task


@dataclass
class Shard:
    """The training data a client trains on: its rows of train_x / train_y are `indices`."""
    train_x: torch.Tensor
    train_y: torch.Tensor
    indices: torch.Tensor


@dataclass
class Trainer:
    """What every client of one run shares inside one process: the config, the algorithm, one
    work model (as in the in-process engine), the adversary if any, and the data: the whole
    data set split as the in-process engine splits it, or the one shard of a party that holds
    only its own (node config `data-file`)."""
    cfg: config.ExperimentConfig
    algorithm: Algorithm
    work_model: torch.nn.Module
    adversary: attacks.Adversary | None
    prepared: Prepared | None = None
    shard: Shard | None = None

    def data(self, partition: int) -> Shard:
        if self.shard is not None:
            return self.shard
        return Shard(self.prepared.dataset.train_x, self.prepared.dataset.train_y, self.prepared.parts[partition])


_TRAINERS: dict[tuple[str, str], Trainer] = {}  # by (config, data file): a Ray actor serves many clients


def load_shard(path: str) -> tuple[dict, Shard]:
    """A party's shard file: {"x", "y", "input_shape", "num_classes"} (torch.save)."""
    try:
        saved = torch.load(path, weights_only=True)
        x, y = saved["x"], saved["y"]
    except (OSError, RuntimeError, KeyError, TypeError) as exc:
        raise UserError(f"this SuperNode's data-file {path} is not a shard (x, y, input_shape, num_classes): "
                        f"{type(exc).__name__}") from None
    return saved, Shard(x, y, torch.arange(len(y)))


def trainer(task: Task, node_config=None) -> Trainer:
    import yaml

    data_file = str((node_config or {}).get("data-file", ""))
    key = (task.config_yaml, data_file)
    if key not in _TRAINERS:
        cfg = config.validate(config.from_dict(yaml.safe_load(task.config_yaml)))
        _TRAINERS.clear()
        torch.set_num_threads(task.threads)
        client_ids = list(range(1, cfg.train.clients + 1))  # the ids registration gives, in partition order
        if data_file:
            saved, shard = load_shard(data_file)
            model, algorithm = prepare_model(cfg, tuple(saved["input_shape"]), int(saved["num_classes"]))
            device = deterministic_device(cfg.train.device)
            model, shard = model.to(device), Shard(shard.train_x.to(device), shard.train_y.to(device), shard.indices)
            if cfg.attack.name != "none":
                raise UserError(f"attack {cfg.attack.name!r} is simulated from the whole data set; a party holding "
                                "only its shard (data-file) cannot run it")
            _TRAINERS[key] = Trainer(cfg, algorithm, model, None, shard=shard)
        else:
            prepared = prepare(cfg)
            _TRAINERS[key] = Trainer(cfg, prepared.algorithm, copy.deepcopy(prepared.model),
                                     attacks.adversary(cfg, client_ids, prepared.dataset), prepared=prepared)
    return _TRAINERS[key]


def private_key(task: Task, partition: int, node_config) -> str:
    """The client's Ethereum key: the simulation's key of its partition, or its SuperNode's own."""
    if task.keys == SEEDED:
        return client_private_key(trainer(task, node_config).cfg.seed, partition)
    if task.keys == NODE:
        path = node_config.get("key-file")
        if not path:
            raise UserError("this SuperNode has no Ethereum key: start it with --node-config \"key-file='PATH'\" "
                            "(a file holding a 0x-prefixed private key)")
        try:
            key = Path(str(path)).read_text().strip()
        except OSError as exc:
            raise UserError(f"this SuperNode's key-file {path} cannot be read: {exc.strerror}") from None
        if not (key.startswith("0x") and len(key) == 66):
            raise UserError(f"this SuperNode's key-file {path} does not hold a 0x-prefixed 32-byte private key")
        return key
    raise UserError(f"unknown key source {task.keys!r}")


def partition_of(node_config, clients: int) -> int:
    if "partition-id" not in node_config:
        raise UserError("this SuperNode has no partition-id in its node config (--node-config \"partition-id=0\")")
    partition = int(node_config["partition-id"])
    if not 0 <= partition < clients:
        raise UserError(f"partition-id {partition} is out of range: the run has {clients} clients (0..{clients - 1})")
    return partition


def address_of(key: str) -> str:
    from eth_account import Account

    return Account.from_key(key).address


def party(task: Task, node_config) -> tuple[int, str]:
    """This party's partition and Ethereum key."""
    partition = partition_of(node_config, trainer(task, node_config).cfg.train.clients)
    return partition, private_key(task, partition, node_config)


def signing_key(task: Task, node_config, transaction: dict) -> str:
    """This party's key, if `transaction` is to be sent from its account (UserError otherwise)."""
    _, key = party(task, node_config)
    if address_of(key) != transaction.get("from"):
        raise UserError(f"asked to sign for {transaction.get('from')}, but this party is {address_of(key)}")
    return key


def registration(task: Task, node_config) -> tuple[int, str, bytes]:
    """(partition, address, signature of Register(experiment, address))."""
    partition, key = party(task, node_config)
    address = address_of(key)
    return partition, address, signing.sign_digest(key, signing.register_digest(task.domain, task.experiment, address))


@dataclass
class Trained:
    update: Update
    metadata: dict[str, str]
    digest: str
    signature: bytes


def train(task: Task, node_config, round_: int, client_id: int, global_state, global_hash: str,
          global_metadata: dict[str, str], own_state: dict,
          algorithm_settings: dict[str, str] | None = None) -> Trained:
    """One round's local training, as the in-process engine runs it; the update's hash signed.
    The global model is first checked against the hash the server opened the round with."""
    run = trainer(task, node_config)
    found = hex_hash(codec.keccak(codec.encode(global_state, global_metadata)))
    if found != global_hash:
        raise UserError(f"round {round_}: the global model received hashes to {found}, not to the round's "
                        f"{global_hash}: altered in transit")
    partition, key = party(task, node_config)
    if algorithm_settings:  # what the features set on the server's algorithm before round 1
        run.algorithm.apply_public_settings(algorithm_settings)
    shard = run.data(partition)
    ctx = client_context(run.cfg, run.work_model, shard, shard.indices, round_, client_id, global_state, own_state)
    update = (run.adversary.client_update(run.algorithm, ctx) if run.adversary is not None
              else run.algorithm.client_update(ctx))
    metadata = update.metadata(round_)
    digest = hex_hash(codec.keccak(codec.encode(update.tensors, metadata)))
    signature = signing.sign_digest(key, signing.commit_digest(task.domain, task.experiment, round_, digest))
    return Trained(update, metadata, digest, signature)


def committee_scores(task: Task, node_config, round_: int, committed: list[int], candidates: dict, own, global_state,
                     transaction: dict) -> bytes:
    """As a committee member: score the candidates against its own update and sign the
    `submitScores` transaction with its own key (fl.features.committee.member)."""
    from fl.features.committee.member import scores_transaction

    key = signing_key(task, node_config, transaction)
    return scores_transaction(key, round_, committed, candidates, own, global_state, transaction)


def watermark_negotiation(task: Task, node_config, task_address: str, transaction: dict) -> bytes:
    """As a watermark owner: sign `negotiate(task)` to the registry with its own key."""
    from fl.chain.transactions import sign_fields
    from fl.chain.watermark import negotiate_call

    return sign_fields(transaction, negotiate_call(task_address), signing_key(task, node_config, transaction))
