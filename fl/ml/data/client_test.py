"""Each client's own test set: a seeded split of the test set with the client's label distribution.

For each class c, the test samples of c are shuffled (seeded) and cut among the clients in
proportion to how many training samples of c each holds, so client i's test split has the label
mix of its training shard, and every test sample goes to at most one client (a class no client
trains on goes to none). A client too small to be given a test sample of any class has an empty
split and no personalized accuracy.
"""
from __future__ import annotations

import numpy as np
import torch


def client_test_splits(test_y: torch.Tensor, train_y: torch.Tensor, parts: list[torch.Tensor], num_classes: int,
                       seed: int) -> list[torch.Tensor]:
    """Index tensors (int64, ascending) into the test set, one per client of `parts`."""
    train = train_y.cpu().numpy()
    test = test_y.cpu().numpy()
    counts = np.stack([np.bincount(train[p.numpy()], minlength=num_classes) for p in parts])
    rng = np.random.default_rng([seed, 0x7E57])
    splits: list[list[np.ndarray]] = [[] for _ in parts]
    for c in range(num_classes):
        holders = counts[:, c]
        members = rng.permutation(np.flatnonzero(test == c))
        if holders.sum() == 0 or len(members) == 0:
            continue
        cuts = (np.cumsum(holders)[:-1] / holders.sum() * len(members)).astype(int)
        for client, chunk in enumerate(np.split(members, cuts)):
            splits[client].append(chunk)
    return [torch.from_numpy(np.sort(np.concatenate(s)).astype(np.int64)) if s else torch.zeros(0, dtype=torch.int64)
            for s in splits]
