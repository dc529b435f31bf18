"""Split a training set among clients. Every sample goes to exactly one client; seeded.

- `iid`: a random permutation cut into near-equal parts.
- `dirichlet`: label skew as in Hsu, Qi, Brown, "Measuring the Effects of Non-Identical
  Data Distribution for Federated Visual Classification" (2019): for each class, the
  shares of the clients are drawn from Dir(alpha); small alpha gives each client few classes.
- `niid-dirichlet`: NIID-Bench's Dirichlet label skew (Li, Diao, Chen, He, ICDE 2022, and Flower's
  `baselines/niid_bench`): as `dirichlet`, but a client already holding N / clients samples gets
  no share of the classes still to deal, and the whole draw is repeated until every client holds
  at least 10 samples.
- `shards`: "pathological" label skew (McMahan et al. 2017; as "#C=k" in Li, Diao, Chen, He,
  "Federated Learning on Non-IID Data Silos: An Experimental Study", ICDE 2022): each client
  holds exactly k = classes_per_client classes, the classes dealt round-robin from a shuffled
  order so that each is held by equally many clients, and each class's samples split evenly
  among its holders.
- `quantity`: quantity skew: labels IID, but client sizes proportional to draws from a power
  law (Pareto with tail index `power`; smaller = more unequal), at least one sample each.
- `natural`: the split a data set comes with (FedProx's Synthetic(α, β): one client per user).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fl.core.config import PartitionConfig
from fl.core.errors import UserError, choices_error
from fl.ml.data.dataset import Dataset

MIN_SAMPLES_PER_CLIENT = 1
DIRICHLET_ATTEMPTS = 100
NIID_BENCH_ATTEMPTS = 1000  # NIID-Bench redraws without a limit
NIID_BENCH_MIN_SIZE = 10  # NIID-Bench's `min_require_size`


def iid(labels: torch.Tensor, clients: int, rng: np.random.Generator, **_) -> list[np.ndarray]:
    order = rng.permutation(len(labels))
    return [np.sort(part) for part in np.array_split(order, clients)]


def dirichlet(labels: torch.Tensor, clients: int, rng: np.random.Generator, alpha: float, **_) -> list[np.ndarray]:
    y = labels.numpy()
    classes = np.unique(y)
    for _attempt in range(DIRICHLET_ATTEMPTS):
        parts: list[list[np.ndarray]] = [[] for _ in range(clients)]
        for c in classes:
            members = rng.permutation(np.flatnonzero(y == c))
            shares = rng.dirichlet(np.full(clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(members)).astype(int)
            for client, chunk in enumerate(np.split(members, cuts)):
                parts[client].append(chunk)
        result = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(p) for p in result) >= MIN_SAMPLES_PER_CLIENT:
            return result
    raise UserError(f"Dirichlet(alpha={alpha}) left a client with no data in {DIRICHLET_ATTEMPTS} draws; "
                    f"use fewer clients than {clients} or a larger alpha")


def niid_dirichlet(labels: torch.Tensor, clients: int, rng: np.random.Generator, alpha: float,
                   **_) -> list[np.ndarray]:
    y = labels.numpy()
    fair_share = len(y) / clients
    for _attempt in range(NIID_BENCH_ATTEMPTS):
        parts: list[list[np.ndarray]] = [[] for _ in range(clients)]
        sizes = np.zeros(clients, dtype=np.int64)
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            shares = rng.dirichlet(np.full(clients, alpha)) * (sizes < fair_share)
            shares = shares / shares.sum()
            cuts = (np.cumsum(shares)[:-1] * len(members)).astype(int)
            for client, chunk in enumerate(np.split(members, cuts)):
                parts[client].append(chunk)
                sizes[client] += len(chunk)
        if sizes.min() >= NIID_BENCH_MIN_SIZE:
            return [np.sort(np.concatenate(p)) for p in parts]
    raise UserError(f"niid-dirichlet(alpha={alpha}) left a client with fewer than {NIID_BENCH_MIN_SIZE} samples in "
                    f"{NIID_BENCH_ATTEMPTS} draws; use fewer clients than {clients} or a larger alpha")


def shards(labels: torch.Tensor, clients: int, rng: np.random.Generator, classes_per_client: int,
           **_) -> list[np.ndarray]:
    y = labels.numpy()
    classes = np.unique(y)
    k = classes_per_client
    if k > len(classes):
        raise UserError(f"shards: {k} classes per client but the data has only {len(classes)} classes; "
                        f"use partition.classes_per_client <= {len(classes)}")
    if clients * k < len(classes):
        raise UserError(f"shards: {clients} clients x {k} classes each cover only {clients * k} of the "
                        f"{len(classes)} classes, so some samples would go to no client; use more clients or "
                        f"partition.classes_per_client >= {-(-len(classes) // clients)}")
    order = classes[rng.permutation(len(classes))]
    held = [[order[(client * k + j) % len(classes)] for j in range(k)] for client in range(clients)]
    parts: list[list[np.ndarray]] = [[] for _ in range(clients)]
    for c in classes:
        holders = [client for client in range(clients) if c in held[client]]
        members = rng.permutation(np.flatnonzero(y == c))
        if len(members) < len(holders):
            raise UserError(f"shards: class {c} has {len(members)} samples for {len(holders)} clients, so a client "
                            f"would get none of it; use fewer clients or fewer classes per client")
        for client, chunk in zip(holders, np.array_split(members, len(holders))):
            parts[client].append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def quantity(labels: torch.Tensor, clients: int, rng: np.random.Generator, power: float, **_) -> list[np.ndarray]:
    shares = 1.0 + rng.pareto(power, clients)
    free = len(labels) - clients * MIN_SAMPLES_PER_CLIENT
    cuts = np.floor(np.cumsum(shares)[:-1] / shares.sum() * free).astype(int)
    sizes = np.diff(np.concatenate([[0], cuts, [free]])) + MIN_SAMPLES_PER_CLIENT
    order = rng.permutation(len(labels))
    return [np.sort(part) for part in np.split(order, np.cumsum(sizes)[:-1])]


def natural(labels: torch.Tensor, clients: int, rng: np.random.Generator, owners: torch.Tensor | None = None,
            **_) -> list[np.ndarray]:
    if owners is None:
        raise UserError("partition 'natural' needs a data set that comes split per client (synthetic); "
                        "this one does not: use iid, dirichlet, shards or quantity")
    users = int(owners.max()) + 1
    if users != clients:
        raise UserError(f"partition 'natural': the data set comes split among {users} users; "
                        f"set train.clients to {users}")
    owner = owners.numpy()
    return [np.flatnonzero(owner == client) for client in range(clients)]


PARTITIONERS: dict[str, Callable[..., list[np.ndarray]]] = {
    "iid": iid, "dirichlet": dirichlet, "niid-dirichlet": niid_dirichlet, "shards": shards, "quantity": quantity, "natural": natural,
}


def check_name(method: str) -> str:
    if method not in PARTITIONERS:
        raise choices_error("partition", method, PARTITIONERS)
    return method


def partition(labels: torch.Tensor, clients: int, method: str, seed: int, **params) -> list[torch.Tensor]:
    """Index tensors (int64, ascending) of each client's training samples.

    `params`: alpha (dirichlet), classes_per_client (shards), power (quantity), owners (natural:
    the client of each sample); each method takes what it needs.
    """
    check_name(method)
    if clients > len(labels):
        raise UserError(f"{clients} clients but only {len(labels)} training samples; use at most {len(labels)} clients")
    rng = np.random.default_rng([seed, 0x9A27])
    parts = PARTITIONERS[method](labels.cpu(), clients, rng, **params)
    empty = [client for client, part in enumerate(parts) if len(part) < MIN_SAMPLES_PER_CLIENT]
    if empty:
        raise UserError(f"partition {method!r} left client {empty[0]} with no data; use fewer clients than {clients}")
    return [torch.from_numpy(p.astype(np.int64)) for p in parts]


def split(dataset: Dataset, clients: int, cfg: PartitionConfig, seed: int) -> list[torch.Tensor]:
    """`partition` of a Dataset's training set as a PartitionConfig says."""
    return partition(dataset.train_y, clients, cfg.method, seed, alpha=cfg.alpha,
                     classes_per_client=cfg.classes_per_client, power=cfg.power, owners=dataset.train_client)


def describe(cfg: PartitionConfig) -> str:
    """e.g. `dirichlet(alpha=0.1)`, `shards(2 classes per client)`, `iid`."""
    return {"dirichlet": f"dirichlet(alpha={cfg.alpha:g})", "niid-dirichlet": f"niid-dirichlet(alpha={cfg.alpha:g})", "shards": f"shards({cfg.classes_per_client} classes per client)",
            "quantity": f"quantity(power={cfg.power:g})"}.get(cfg.method, cfg.method)


def label_counts(labels: torch.Tensor, parts: list[torch.Tensor], num_classes: int) -> np.ndarray:
    """(clients, classes) matrix of how many samples of each class each client holds."""
    return np.stack([np.bincount(labels.cpu()[p].numpy(), minlength=num_classes) for p in parts])
