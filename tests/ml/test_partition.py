"""Partitioners: every sample to exactly one client, seeded, and Dirichlet skew that grows as alpha falls."""
import numpy as np
import pytest
import torch

from fl.core.config import PartitionConfig
from fl.core.errors import UserError
from fl.ml.data import partition_report
from fl.ml.data.dataset import Dataset
from fl.ml.data.partition import label_counts, partition, split

LABELS = torch.arange(10).repeat_interleave(200)[torch.randperm(2000, generator=torch.Generator().manual_seed(0))]


def skew(parts, labels=LABELS):
    """Mean over clients of the total-variation distance between the client's and the global label mix."""
    counts = label_counts(labels, parts, 10).astype(float)
    local = counts / counts.sum(1, keepdims=True)
    overall = counts.sum(0) / counts.sum()
    return float(0.5 * np.abs(local - overall).sum(1).mean())


@pytest.mark.parametrize("method", ["iid", "dirichlet", "niid-dirichlet", "shards", "quantity"])
def test_every_sample_goes_to_exactly_one_client(method):
    parts = partition(LABELS, 20, method, seed=3, alpha=0.3, classes_per_client=2, power=1.5)
    joined = torch.cat(parts)
    assert len(parts) == 20
    assert len(joined) == len(LABELS)
    assert torch.equal(joined.sort().values, torch.arange(len(LABELS)))


def test_iid_sizes_differ_by_at_most_one():
    sizes = [len(p) for p in partition(LABELS, 7, "iid", seed=0)]
    assert max(sizes) - min(sizes) <= 1
    assert sum(sizes) == 2000


@pytest.mark.parametrize("method", ["iid", "dirichlet", "shards", "quantity"])
def test_same_seed_same_split_other_seed_other_split(method):
    params = {"alpha": 0.5, "classes_per_client": 2, "power": 1.5}
    a = partition(LABELS, 5, method, seed=1, **params)
    b = partition(LABELS, 5, method, seed=1, **params)
    c = partition(LABELS, 5, method, seed=2, **params)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))


def test_dirichlet_skew_grows_as_alpha_falls():
    skews = [np.mean([skew(partition(LABELS, 10, "dirichlet", seed=s, alpha=a)) for s in range(3)])
             for a in (100.0, 1.0, 0.1)]
    assert skews[0] < skews[1] < skews[2]
    assert skews[0] < 0.1 and skews[2] > 0.5


def test_iid_is_nearly_unskewed():
    assert skew(partition(LABELS, 10, "iid", seed=0)) < 0.1


def test_more_clients_than_samples_is_a_clear_error():
    with pytest.raises(UserError, match="2001 clients but only 2000 training samples"):
        partition(LABELS, 2001, "iid", seed=0)


def test_unknown_partition_lists_the_choices():
    with pytest.raises(UserError, match="unknown partition 'shards!'; choose one of: dirichlet, iid, natural, niid-dirichlet, quantity, shards"):
        partition(LABELS, 3, "shards!", seed=0)


def test_shards_give_each_client_exactly_k_classes_each_class_to_equally_many():
    counts = label_counts(LABELS, partition(LABELS, 15, "shards", seed=0, classes_per_client=2), 10)
    assert ((counts > 0).sum(1) == 2).all()
    assert ((counts > 0).sum(0) == 3).all()  # 15 clients x 2 classes over 10 classes


def test_shards_with_more_classes_per_client_than_classes_is_a_clear_error():
    with pytest.raises(UserError, match="shards: 11 classes per client but the data has only 10 classes; "
                                        "use partition.classes_per_client <= 10"):
        partition(LABELS, 5, "shards", seed=0, classes_per_client=11)


def test_shards_that_leave_a_client_without_data_is_a_clear_error():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3] * 2)
    with pytest.raises(UserError, match="shards: class .* has 4 samples for 5 clients, so a client would get none"):
        partition(labels, 10, "shards", seed=0, classes_per_client=2)


def test_shards_that_cover_too_few_classes_is_a_clear_error():
    with pytest.raises(UserError, match="2 clients x 2 classes each cover only 4 of the 10 classes"):
        partition(LABELS, 2, "shards", seed=0, classes_per_client=2)


def test_quantity_skew_grows_as_the_power_falls_and_labels_stay_mixed():
    def size_ratio(power):
        sizes = [[len(p) for p in partition(LABELS, 20, "quantity", seed=s, power=power)] for s in range(5)]
        return np.mean([max(s) / np.median(s) for s in sizes])

    assert size_ratio(0.7) > size_ratio(3.0) > 1.5
    parts = partition(LABELS, 5, "quantity", seed=0, power=1.5)
    assert min(len(p) for p in parts) >= 1
    assert skew(parts) < 0.15


def test_natural_split_is_the_data_sets_own():
    owners = torch.tensor([2, 0, 1, 0, 2, 2])
    parts = partition(torch.zeros(6, dtype=torch.long), 3, "natural", seed=0, owners=owners)
    assert [p.tolist() for p in parts] == [[1, 3], [2], [0, 4, 5]]


def test_natural_split_needs_a_data_set_split_per_client():
    with pytest.raises(UserError, match="partition 'natural' needs a data set that comes split per client"):
        partition(LABELS, 3, "natural", seed=0)
    with pytest.raises(UserError, match="comes split among 3 users; set train.clients to 3"):
        partition(torch.zeros(6, dtype=torch.long), 2, "natural", seed=0, owners=torch.tensor([0, 1, 2, 0, 1, 2]))


def test_split_passes_the_partition_config():
    data = Dataset("d", torch.zeros(len(LABELS), 2), LABELS, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), 10)
    parts = split(data, 10, PartitionConfig(method="shards", classes_per_client=3), seed=0)
    assert ((label_counts(LABELS, parts, 10) > 0).sum(1) == 3).all()


def test_partition_report_is_a_table_and_a_heat_map(tmp_path):
    counts = np.array([[5, 0, 1], [0, 7, 0]])
    text, png = partition_report.write(tmp_path, counts, "a title")
    lines = text.read_text().splitlines()
    assert lines[0] == "a title"
    assert lines[3].split() == ["client", "0", "1", "2", "total"]
    assert lines[4].split() == ["0", "5", "0", "1", "6"]
    assert lines[6].split() == ["total", "5", "7", "1", "13"]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_niid_dirichlet_redraws_until_every_client_holds_ten_samples():
    plain = partition(LABELS, 20, "dirichlet", seed=0, alpha=0.1)
    assert min(len(p) for p in plain) < 10  # the plain Dirichlet split leaves tiny clients here
    bench = partition(LABELS, 20, "niid-dirichlet", seed=0, alpha=0.1)
    assert min(len(p) for p in bench) >= 10


def test_niid_dirichlet_gives_no_more_classes_to_a_client_past_its_fair_share():
    """A client's share of a class is zero once it holds N / clients samples, so no client grows
    past its fair share by more than the last class it took before reaching it."""
    parts = partition(LABELS, 10, "niid-dirichlet", seed=1, alpha=0.5)
    counts = label_counts(LABELS, parts, 10)
    assert counts.sum(1).max() < 2000 / 10 + counts.max(1).max()
    assert skew(parts) > skew(partition(LABELS, 10, "iid", seed=1))
