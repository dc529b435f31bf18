"""Shared fixtures: accounts, a deployed FLTask in each state, and tiny experiment configs.

Every test runs isolated (Brownie reverts the chain after each one). The chain is launched on
a free loopback port so that a test run never attaches to some other process's chain.
"""
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")])
# The tests train tiny models: one torch thread is as fast, and far faster when other work keeps
# the cores busy (idle OpenMP threads spin). Subprocesses (the CLI tests) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch_on_free_ports() -> None:
    # imported here: Brownie hashes the source of what a conftest imports at top level and
    # cannot read its own compiled modules
    from brownie._config import CONFIG

    for network in ("ganache-local", "anvil-local"):
        if network in CONFIG.networks:
            CONFIG.networks[network]["cmd_settings"]["port"] = _free_port()


_launch_on_free_ports()

CONFIG_HASH = "0x" + "c0" * 32
SALT = "0x" + "5a" * 32  # the run's random salt (fixed here: tests need known addresses and digests)
ZERO_ADDRESS = "0x" + "00" * 20
MODEL_0 = "0x" + "a0" * 32
MODEL_1 = "0x" + "a1" * 32
UPDATE = "0x" + "b1" * 32
RULE = "0x" + "ee" * 32


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def aggregator(accounts):
    return accounts[0]


@pytest.fixture
def clients(accounts):
    return accounts[1:5]


@pytest.fixture
def task(FLTask, aggregator):
    return FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})


@pytest.fixture
def registered(task, clients):
    """A task with clients[0..3] registered as ids 1..4."""
    for client in clients:
        task.register({"from": client})
    return task


@pytest.fixture
def open_round(registered, aggregator):
    """Round 1 open on MODEL_0 with client ids 1 and 2 selected (bitmap 0b110)."""
    registered.openRound(1, MODEL_0, [0b110], {"from": aggregator})
    return registered


@pytest.fixture
def tiny_config(tmp_path):
    """3 clients, 2 rounds of FedAvg on the generated image set: seconds on the real chain."""
    from fl.core import config

    def make(**overrides):
        values = {"data.name": "synthetic-images", "train.clients": 3, "train.rounds": 2,
                  "output.runs_dir": str(tmp_path / "runs"), "output.progress": False, **overrides}
        return config.build(None, values)

    return make


@pytest.fixture
def signing_clients(task, accounts):
    """Three clients with known private keys, registered as ids 1..3: [(id, account, key)]."""
    from fl.chain import client_private_key

    out = []
    for i in range(3):
        key = client_private_key(99, i)
        account = accounts.add(key)
        task.register({"from": account})
        out.append((i + 1, account, key))
    return out


@pytest.fixture
def signed(task):
    """sign(key, round, update_hash, task=task) -> 65-byte EIP-712 commitment signature."""
    from brownie import chain

    from fl.chain import signing

    def sign(key, round_, update_hash, for_task=None):
        target = for_task or task
        domain = signing.domain_separator(chain.id, target.address)
        return signing.sign_digest(key, signing.commit_digest(domain, target.experimentId(), round_, update_hash))

    return sign


# --- model ownership: watermark registry, model token, marketplace ----------------------------------
ROUND_WEIGHTS = {1: (0b1110, [10, 20, 30]), 2: (0b10110, [5, 5, 5])}  # round -> (participants bitmap, weights)
UPDATE_2 = "0x" + "b2" * 32
MODEL_2 = "0x" + "a2" * 32


@pytest.fixture
def registry(WatermarkRegistry, aggregator):
    return WatermarkRegistry.deploy({"from": aggregator})


@pytest.fixture
def finalized(registered, aggregator, clients):
    """Two finalized rounds, MODEL_0 → MODEL_1 → MODEL_2: clients 1, 2, 3 with weights 10, 20, 30,
    then clients 1, 2, 4 with 5 each (summed: 15, 25, 30, 5 of 75)."""
    chain_of_models = [MODEL_0, MODEL_1, MODEL_2]
    for round_, (participants, weights) in ROUND_WEIGHTS.items():
        registered.openRound(round_, chain_of_models[round_ - 1], [participants], {"from": aggregator})
        for client_id in range(1, 5):
            if participants >> client_id & 1:
                registered.commitUpdate(round_, UPDATE_2, {"from": clients[client_id - 1]})
        registered.finalizeRound(round_, chain_of_models[round_], [participants], weights, RULE, {"from": aggregator})
    return registered


@pytest.fixture
def model_token(ModelToken, registry, aggregator):
    return ModelToken.deploy(registry, {"from": aggregator})


@pytest.fixture
def minted(model_token, finalized, aggregator):
    """Token 1: MODEL_2, the round-2 model of `finalized`, held by the aggregator, royalty 10%."""
    model_token.mint(finalized, 2, [w for _, w in ROUND_WEIGHTS.values()], 1000, {"from": aggregator})
    return model_token


@pytest.fixture
def market(ModelMarketplace, minted, aggregator):
    return ModelMarketplace.deploy(minted, {"from": aggregator})


# --- committee and rewards --------------------------------------------------------------------------

FIRST_COMMITTEE = [2, 5, 7]
BUDGET = 1_000_003  # reward units per round: not a multiple of anything handy, so every split leaves a remainder
STRATEGY = {"robust": 0, "accuracy": 1}


def update_hash(client_id):
    return "0x" + f"{client_id:02x}" * 32


@pytest.fixture
def fleet(accounts):
    """Eight client accounts (ids 1..8 once registered)."""
    return accounts[1:9]


def _committee_task(FLTask, Committee, aggregator, fleet, strategy, reward_token=None, close=True):
    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    for client in fleet:
        task.register({"from": client})
    committee = Committee.deploy(task, 3, STRATEGY[strategy], 5000, FIRST_COMMITTEE, {"from": aggregator})
    task.addRoundHook(committee, {"from": aggregator})
    token = None
    if reward_token is not None:
        token = reward_token.deploy("OnChainFL Reward", "OFLR", task, committee, BUDGET, 2000, {"from": aggregator})
        task.addRoundHook(token, {"from": aggregator})
    task.openRound(1, MODEL_0, [0b111111110], {"from": aggregator})
    for client_id, client in enumerate(fleet[:7], start=1):
        task.commitUpdate(1, update_hash(client_id), {"from": client})
    if close:
        task.closeCommits(1, {"from": aggregator})
    return task, committee, token


@pytest.fixture
def committee_round(request, FLTask, Committee, aggregator, fleet):
    """A task with 8 clients and a committee ([2, 5, 7], strategy `robust` unless parametrized
    indirectly, half of the eligible updates selected) as its round hook; round 1 open for every
    client, ids 1..7 committed, 8 not, and its commit phase closed (score vectors have 7 entries).
    Returns (task, committee)."""
    task, committee, _ = _committee_task(FLTask, Committee, aggregator, fleet, getattr(request, "param", "robust"))
    return task, committee


@pytest.fixture
def committee_round_committing(FLTask, Committee, aggregator, fleet):
    """`committee_round` (robust) with the commit phase of round 1 still open. Returns (task, committee)."""
    task, committee, _ = _committee_task(FLTask, Committee, aggregator, fleet, "robust", close=False)
    return task, committee


@pytest.fixture
def rewarded_committee_round(FLTask, Committee, RewardToken, aggregator, fleet):
    """`committee_round` (robust) with a reward token paying 20 % of BUDGET to the committee as its
    second round hook. Returns (task, committee, token)."""
    return _committee_task(FLTask, Committee, aggregator, fleet, "robust", RewardToken)


@pytest.fixture
def rewarded_round(FLTask, RewardToken, aggregator, clients):
    """A task with 4 clients and a reward token (BUDGET per round, no committee) as its round hook;
    round 1 open for every client, ids 1..3 committed. Returns (task, token)."""
    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    for client in clients:
        task.register({"from": client})
    token = RewardToken.deploy("OnChainFL Reward", "OFLR", task, ZERO_ADDRESS, BUDGET, 0, {"from": aggregator})
    task.addRoundHook(token, {"from": aggregator})
    task.openRound(1, MODEL_0, [0b11110], {"from": aggregator})
    for client_id, client in enumerate(clients[:3], start=1):
        task.commitUpdate(1, update_hash(client_id), {"from": client})
    return task, token


@pytest.fixture
def tiny_client():
    """A client of a tiny problem (4 features, 3 classes, 24 samples) holding samples 0..11 of it.

    `tiny_client(algorithm_model=..., **train)` returns a fresh ClientContext each call, with the
    same data, global model and randomness, so two algorithms can be compared step for step.
    """
    import torch

    from fl.core.config import TrainConfig
    from fl.ml.algorithms.api import ClientContext
    from fl.ml.models import build

    g = torch.Generator().manual_seed(7)
    x = torch.randn(24, 4, generator=g)
    y = torch.randint(0, 3, (24,), generator=g)

    def make(model="logreg", global_state=None, state=None, **train):
        net = build(model, (4,), 3, seed=0)
        settings = {"batch_size": 4, "lr": 0.1, "momentum": 0.0, **train}
        start = global_state if global_state is not None else {k: v.clone() for k, v in net.state_dict().items()}
        return ClientContext(round=1, client_id=1, model=net, global_state=start, train_x=x, train_y=y,
                             indices=torch.arange(12), train=TrainConfig(**settings),
                             generator=torch.Generator().manual_seed(3), state=state if state is not None else {})

    return make


@pytest.fixture
def idx_files():
    """`idx_files(folder, files, train=30, test=12, classes=10, gz=True)`: writes random images
    (uint8 28x28) and labels in the IDX format under the names `files` ({part: stem}) gives,
    and returns the arrays written, {part: array}."""
    import numpy as np

    from fl.ml.data.idx import write_idx

    def write(folder, files, train=30, test=12, classes=10, gz=True, seed=0):
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "train_x": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
            "train_y": rng.integers(0, classes, train, dtype=np.uint8),
            "test_x": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
            "test_y": rng.integers(0, classes, test, dtype=np.uint8),
        }
        for part, stem in files.items():
            write_idx(folder / (stem + (".gz" if gz else "")), arrays[part])
        return arrays

    return write


@pytest.fixture
def cifar_files():
    """`cifar_files(folder, cifar_set, per_file=8)`: writes CIFAR's python batch files (pickled
    dicts, protocol 2 like the originals) with random images into `folder`, and returns
    {file name: (images uint8 (N, 3072), labels)}."""
    import pickle

    import numpy as np

    def write(folder, cifar_set, per_file=8, seed=0):
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for name in cifar_set.train_files + cifar_set.test_files:
            images = rng.integers(0, 256, (per_file, 3072), dtype=np.uint8)
            labels = [int(v) for v in rng.integers(0, cifar_set.num_classes, per_file)]
            batch = {"batch_label": f"generated {name}", "data": images, cifar_set.label_key: labels,
                     "filenames": [f"img{i}.png" for i in range(per_file)]}
            with open(folder / name, "wb") as fh:
                pickle.dump(batch, fh, protocol=2)
            written[name] = (images, labels)
        return written

    return write


@pytest.fixture
def finished_run(tmp_path):
    """`finished_run(name, accuracies)`: a run folder as `python -m fl run` leaves it (config.yaml,
    summary.json), FedProx on FashionMNIST Dirichlet(0.1), with the given accuracy per round,
    5 s per round, 1.5 s start-up and 0 s data load."""
    import json

    from fl.core import config

    def make(name, accuracies):
        folder = tmp_path / "runs" / name
        folder.mkdir(parents=True)
        cfg = config.build(None, {"algorithm.name": "fedprox", "partition.method": "dirichlet", "partition.alpha": 0.1})
        (folder / "config.yaml").write_text(config.to_yaml(cfg))
        rows = [{"round": r + 1, "test_accuracy": a, "seconds": 5.0} for r, a in enumerate(accuracies)]
        summary = {"final_accuracy": accuracies[-1], "best_accuracy": max(accuracies), "total_seconds": 5.0 * len(rows),
                   "startup": {"startup_s": 1.5, "data_load_s": 0.0}, "per_round": rows}
        (folder / "summary.json").write_text(json.dumps(summary))
        return folder

    return make
