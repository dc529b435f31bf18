"""Robust aggregation rules on hand-built updates whose right answer is known."""
import re

import pytest
import torch

from fl.core import config
from fl.core.errors import UserError
from fl.ml import algorithms
from fl.ml.algorithms.api import Update
from fl.ml.robust import rules

PREVIOUS = {"w": torch.zeros(2), "steps": torch.tensor(7)}


def states(*rows):
    return [{"w": torch.tensor(row, dtype=torch.float32), "steps": torch.tensor(i)} for i, row in enumerate(rows)]


def combine(name, rows, weights=None, **params):
    return rules.build(name, params)(states(*rows), weights or [1] * len(rows), PREVIOUS)["w"].tolist()


HONEST = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]
BYZANTINE = [[100.0, 100.0], [-100.0, 50.0]]


def test_krum_picks_the_centre_of_the_honest_cluster():
    # n = 7, f = 2: 3 neighbours; the centre's score is 1 + 1 + 1, each rim point's 1 + 2 + 2
    assert combine("krum", BYZANTINE[:1] + HONEST + BYZANTINE[1:], f=2) == [0.0, 0.0]


def test_krum_ties_go_to_the_lowest_client_id():
    rows = [[5.0, 5.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-9.0, 0.0]]  # the two [1, 0] score alike
    picked = rules.build("krum", {"f": 0})(states(*rows), [1] * 5, PREVIOUS)
    assert picked["w"].tolist() == [1.0, 0.0]
    assert picked["steps"].item() == 7  # integer tensors come from the previous model, not the pick


def test_multi_krum_averages_the_m_best_scores():
    # scores: centre 3, the four rim points 5 each (ties: lowest id first), Byzantines far more
    result = combine("multi-krum", HONEST + BYZANTINE, f=2, m=3)
    assert result == pytest.approx([(0.0 + 1.0 + 0.0) / 3, (0.0 + 0.0 + 1.0) / 3])


def test_multi_krum_defaults_to_n_minus_f_updates():
    assert combine("multi-krum", HONEST + BYZANTINE, f=2) == pytest.approx([0.0, 0.0])


def test_median_is_taken_per_coordinate():
    assert combine("median", [[1.0, 10.0], [2.0, -5.0], [100.0, 0.0]]) == [2.0, 0.0]


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert combine("median", [[1.0, 4.0], [3.0, 8.0], [-50.0, 9.0], [70.0, -1.0]]) == [2.0, 6.0]


def test_trimmed_mean_drops_exactly_beta_n_extremes_per_coordinate():
    # n = 5, beta = 0.2: one value dropped at each end, in each coordinate separately
    rows = [[5.0, -7.0], [1.0, 2.0], [3.0, 4.0], [100.0, 6.0], [-50.0, 1000.0]]
    assert combine("trimmed-mean", rows, beta=0.2) == [3.0, 4.0]


def test_trimmed_mean_with_beta_zero_is_the_plain_mean():
    assert combine("trimmed-mean", [[1.0, 2.0], [3.0, 6.0]], beta=0.0) == [2.0, 4.0]


def test_trimmed_mean_keeps_at_least_one_value():
    assert combine("trimmed-mean", [[1.0, 0.0], [2.0, 0.0], [9.0, 0.0]], beta=0.49) == [2.0, 0.0]


def test_bulyan_averages_the_values_closest_to_the_median_of_the_krum_picks():
    # n = 7, f = 1: theta = 5 picks by iterated Krum (the two far rows are never picked),
    # beta = 3 values closest to the median (0) per coordinate: -1, 0, 0.5 (and 1, 0, -0.5)
    values = [-3.0, 50.0, -1.0, 0.0, 1000.0, 0.5, 4.0]
    result = combine("bulyan", [[v, -v] for v in values], f=1)
    assert result == pytest.approx([-1 / 6, 1 / 6])


def test_norm_clipping_bounds_each_update_then_takes_the_weighted_mean():
    # [3, 4] has norm 5 and is scaled to [0.6, 0.8]; [0.3, 0.4] (norm 0.5) is left alone
    assert combine("norm-clipping", [[3.0, 4.0], [0.3, 0.4]], weights=[1, 3], bound=1.0) == \
        pytest.approx([(0.6 + 3 * 0.3) / 4, (0.8 + 3 * 0.4) / 4])


def test_norm_clipping_clips_around_the_previous_model():
    previous = {"w": torch.tensor([10.0, 10.0])}
    new = rules.build("norm-clipping", {"bound": 2.0})([{"w": torch.tensor([16.0, 18.0])}], [1], previous)
    assert new["w"].tolist() == pytest.approx([11.2, 11.6])  # delta [6, 8] (norm 10) -> [1.2, 1.6]


@pytest.mark.parametrize("name", ["krum", "multi-krum", "median", "trimmed-mean", "bulyan", "norm-clipping"])
def test_rules_are_bit_identical_when_recomputed_and_keep_dtypes(name):
    g = torch.Generator().manual_seed(1)
    updates = [{"a": torch.randn(50, generator=g), "b": torch.randn(3, 3, generator=g).double(),
                "n": torch.tensor(5)} for _ in range(7)]
    previous = {"a": torch.zeros(50), "b": torch.zeros(3, 3, dtype=torch.float64), "n": torch.tensor(2)}
    rule = rules.build(name, {})
    first, again = rule(updates, [1] * 7, previous), rule([dict(u) for u in updates], [1] * 7, previous)
    assert {k: v.dtype for k, v in first.items()} == {"a": torch.float32, "b": torch.float64, "n": torch.int64}
    for key in ("a", "b"):
        assert first[key].numpy().tobytes() == again[key].numpy().tobytes()


def test_rule_and_its_parameters_are_part_of_the_rule_hash():
    def algorithm(rule, **params):
        cfg = config.build(None, {"aggregation.rule": rule, "aggregation.params": params})
        return algorithms.from_config(cfg)

    mean, krum1, krum2 = algorithm("mean"), algorithm("krum", f=1), algorithm("krum", f=2)
    assert mean.rule_hash() == algorithms.build("fedavg").rule_hash()  # plain FedAvg keeps its hash
    assert krum1.rule() == {"algorithm": "fedavg", "params": {}, "aggregation": {"rule": "krum", "params": {"f": 1}}}
    assert len({mean.rule_hash(), krum1.rule_hash(), krum2.rule_hash()}) == 3


def test_the_algorithm_aggregates_through_the_configured_rule():
    algorithm = algorithms.from_config(config.build(None, {"aggregation.rule": "median"}))
    updates = [Update(i + 1, 10 * (i + 1), s) for i, s in enumerate(states([1.0, 1.0], [2.0, 2.0], [90.0, 90.0]))]
    assert algorithm.aggregate(PREVIOUS, updates)["w"].tolist() == [2.0, 2.0]


@pytest.mark.parametrize("rule,params,message", [
    ("krumm", {}, "unknown aggregation rule 'krumm'; choose one of: bulyan, krum, mean, median, multi-krum, "
                  "norm-clipping, trimmed-mean"),
    ("krum", {"beta": 1}, "aggregation rule 'krum' has no parameter 'beta'; its parameters: f"),
    ("krum", {"f": -1}, "aggregation rule 'krum': f must be an integer >= 0, got -1"),
    ("trimmed-mean", {"beta": 0.5}, "aggregation rule 'trimmed-mean': beta must be in [0, 0.5), got 0.5"),
    ("norm-clipping", {"bound": 0}, "aggregation rule 'norm-clipping': bound must be a positive number, got 0"),
    ("mean", {"f": 1}, "aggregation rule 'mean' has no parameter 'f'"),
])
def test_bad_rule_or_parameter_is_named(rule, params, message):
    with pytest.raises(UserError, match="^" + re.escape(message)):
        rules.build(rule, params)
