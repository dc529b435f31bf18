"""Each client's own test split and the round's personalized figures."""
import numpy as np
import torch

from fl.ml.data.client_test import client_test_splits
from fl.ml.personal_eval import PersonalAccuracy


def skewed_parts():
    labels = torch.arange(3000) % 10
    rng = np.random.default_rng(1)
    owner = np.where(labels.numpy() < 5, rng.integers(0, 2, 3000), rng.integers(2, 4, 3000))
    owner[labels.numpy() == 0] = 0  # only client 0 holds class 0
    return labels, [torch.from_numpy(np.flatnonzero(owner == c)) for c in range(4)]


def test_each_client_gets_a_disjoint_test_split_with_its_label_mix():
    train_y, parts = skewed_parts()
    test_y = torch.from_numpy(np.random.default_rng(2).integers(0, 10, 2000))
    splits = client_test_splits(test_y, train_y, parts, 10, seed=0)
    everything = torch.cat(splits)
    assert len(everything) == len(set(everything.tolist())) == 2000  # each test sample goes to exactly one client
    assert set(test_y[splits[0]].tolist()) <= {0, 1, 2, 3, 4}
    assert set(test_y[splits[2]].tolist()) <= {5, 6, 7, 8, 9}
    assert int((test_y[splits[0]] == 0).sum()) == int((test_y == 0).sum())
    for split, part in zip(splits, parts):
        train_mix = np.bincount(train_y[part].numpy(), minlength=10) / len(part)
        test_mix = np.bincount(test_y[split].numpy(), minlength=10) / len(split)
        assert np.abs(train_mix - test_mix).max() < 0.05


def test_the_splits_are_seeded():
    train_y, parts = skewed_parts()
    test_y = torch.arange(1000) % 10
    first = client_test_splits(test_y, train_y, parts, 10, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, client_test_splits(test_y, train_y, parts, 10, seed=3)))
    assert not all(torch.equal(a, b) for a, b in zip(first, client_test_splits(test_y, train_y, parts, 10, seed=4)))


def test_worst_decile_is_the_mean_of_the_worst_tenth_of_the_clients():
    accuracy = PersonalAccuracy({c: (c + 1) / 20 for c in range(20)})
    assert accuracy.mean == np.mean([(c + 1) / 20 for c in range(20)])
    assert accuracy.worst_decile == (0.05 + 0.10) / 2
    assert PersonalAccuracy({1: 0.5, 2: 0.9}).worst_decile == 0.5
