"""FedAvg's server step: the sample-weighted mean, computed by hand on small tensors."""
import torch

from fl.ml.aggregate import weighted_average
from fl.ml.algorithms import build
from fl.ml.algorithms.api import Update

PREVIOUS = {"w": torch.zeros(2), "b": torch.zeros(1), "steps": torch.tensor(7)}
A = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([3.0]), "steps": torch.tensor(100)}
B = {"w": torch.tensor([3.0, 6.0]), "b": torch.tensor([5.0]), "steps": torch.tensor(200)}


def test_fedavg_is_the_sample_weighted_mean():
    new = build("fedavg").aggregate(PREVIOUS, [Update(1, 10, A), Update(2, 30, B)])
    # (10 * [1, 2] + 30 * [3, 6]) / 40 = [2.5, 5.0];  (10 * 3 + 30 * 5) / 40 = 4.5
    assert torch.equal(new["w"], torch.tensor([2.5, 5.0]))
    assert torch.equal(new["b"], torch.tensor([4.5]))


def test_integer_buffers_are_carried_over_from_the_previous_model():
    new = weighted_average([A, B], [1, 1], PREVIOUS)
    assert new["steps"].item() == 7


def test_equal_weights_give_the_plain_mean():
    new = weighted_average([A, B], [5, 5], PREVIOUS)
    assert torch.equal(new["w"], torch.tensor([2.0, 4.0]))


def test_accumulation_is_float64_then_rounded_once():
    # 1e8 + 1 - 1e8 is 0 in float32 arithmetic but exact in float64
    states = [{"x": torch.tensor([1e8])}, {"x": torch.tensor([1.0])}, {"x": torch.tensor([-1e8])}]
    new = weighted_average(states, [1, 1, 1], {"x": torch.zeros(1)})
    assert new["x"].dtype == torch.float32
    assert new["x"].item() == torch.tensor(1.0 / 3.0, dtype=torch.float32).item()


def test_result_is_bit_identical_when_recomputed():
    g = torch.Generator().manual_seed(0)
    states = [{"x": torch.randn(1000, generator=g)} for _ in range(7)]
    weights = [3, 1, 4, 1, 5, 9, 2]
    first = weighted_average(states, weights, {"x": torch.zeros(1000)})
    again = weighted_average([dict(s) for s in states], list(weights), {"x": torch.zeros(1000)})
    assert first["x"].numpy().tobytes() == again["x"].numpy().tobytes()
