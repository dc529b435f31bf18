"""Attacks: who is malicious, and what each attack does to a client's data or update."""
import re

import pytest
import torch
from torch import nn

from fl.core import config
from fl.core.config import TrainConfig
from fl.core.errors import UserError
from fl.ml.algorithms.api import ClientContext, Update
from fl.ml.data.dataset import Dataset
from fl.ml.robust import attacks
from fl.run.assembly import check_names

GLOBAL = {"w": torch.tensor([1.0, 2.0, 3.0]), "count": torch.tensor(4)}
TRAINED = {"w": torch.tensor([1.5, 1.0, 3.0]), "count": torch.tensor(9)}  # delta = [0.5, -1, 0]


def context(x=None, y=None, indices=None, seed=0):
    x = torch.zeros(6, 1, 8, 8) if x is None else x
    y = torch.arange(6) if y is None else y
    return ClientContext(round=1, client_id=3, model=nn.Linear(1, 1), global_state=GLOBAL, train_x=x, train_y=y,
                         indices=torch.arange(len(y)) if indices is None else indices, train=TrainConfig(),
                         generator=torch.Generator().manual_seed(seed))


def tampered(name, **params):
    return attacks.build(name, params).tamper(Update(3, 10, dict(TRAINED), steps=5), context()).tensors


def image_data(test_y):
    x = torch.zeros(len(test_y), 1, 8, 8)
    return Dataset("tiny", x, test_y.clone(), x.clone(), test_y, num_classes=10)


def test_malicious_clients_are_a_seeded_fraction_of_the_ids():
    ids = list(range(1, 21))
    chosen = attacks.malicious_clients(ids, 0.2, seed=0)
    assert len(chosen) == 4 and set(chosen) <= set(ids) and chosen == sorted(chosen)
    assert attacks.malicious_clients(ids, 0.2, seed=0) == chosen
    assert attacks.malicious_clients(ids, 0.2, seed=1) != chosen
    assert attacks.malicious_clients(ids, 0.0, seed=0) == []


def test_label_flip_trains_on_reversed_labels_of_its_own_samples():
    attack = attacks.build("label-flip")
    attack.setup(image_data(torch.arange(10)))
    x = torch.arange(6.0).reshape(6, 1, 1, 1)
    ctx = attack.poison(context(x=x, y=torch.tensor([0, 1, 2, 3, 4, 9]), indices=torch.tensor([1, 5])))
    assert ctx.train_y[ctx.indices].tolist() == [8, 0]
    assert ctx.train_x[ctx.indices].flatten().tolist() == [1.0, 5.0]


def test_sign_flip_sends_the_reversed_update_scaled():
    new = tampered("sign-flip", scale=4)
    assert new["w"].tolist() == [1.0 - 2.0, 2.0 + 4.0, 3.0]
    assert new["count"].item() == 9  # only floating model tensors are attacked


def test_scaling_boosts_the_update():
    assert tampered("scaling", boost=10)["w"].tolist() == [6.0, -8.0, 3.0]


def test_gaussian_replaces_the_update_with_seeded_noise_around_the_global_model():
    big = {"w": torch.zeros(20000)}
    attack = attacks.build("gaussian", {"std": 2.0})
    ctx = context()
    ctx.global_state = big
    sent = attack.tamper(Update(3, 10, {"w": torch.ones(20000)}), ctx).tensors["w"]
    assert float(sent.std()) == pytest.approx(2.0, rel=0.03)
    assert abs(float(sent.mean())) < 0.05
    again = context()
    again.global_state = big
    assert torch.equal(attack.tamper(Update(3, 10, {"w": torch.ones(20000)}), again).tensors["w"], sent)


def test_free_rider_sends_the_global_model_back():
    update = attacks.build("free-rider").tamper(Update(3, 10, dict(TRAINED), steps=5), context())
    assert torch.equal(update.tensors["w"], GLOBAL["w"])
    assert (update.num_samples, update.steps) == (10, 0)  # it still claims its sample count


def test_free_rider_with_noise_sends_the_global_model_plus_small_noise():
    sent = tampered("free-rider", noise=0.01)["w"]
    assert not torch.equal(sent, GLOBAL["w"])
    assert float((sent - GLOBAL["w"]).abs().max()) < 0.1


def test_backdoor_stamps_the_trigger_and_relabels_a_fraction_of_the_samples():
    attack = attacks.build("backdoor", {"target": 7, "fraction": 0.5, "size": 2})
    attack.setup(Dataset("tiny", torch.full((4, 1, 8, 8), -1.0).index_fill(0, torch.tensor([0]), 3.0),
                         torch.zeros(4, dtype=torch.long), torch.zeros(3, 1, 8, 8), torch.tensor([1, 7, 2]), 10))
    ctx = attack.poison(context(x=torch.zeros(6, 1, 8, 8), y=torch.tensor([0, 1, 2, 3, 4, 5])))
    poisoned = [i for i in range(6) if ctx.train_y[i] == 7]
    assert len(poisoned) == 3
    for i in range(6):
        corner = ctx.train_x[i, 0, -2:, -2:]
        assert bool((corner == 3.0).all()) == (i in poisoned)  # the brightest training value
        assert float(ctx.train_x[i, 0, :-2].abs().sum()) == 0.0  # the rest of the image untouched
    assert len(attack.triggered_test) == 2  # test samples of the target class are left out


class Predicts(nn.Module):
    def __init__(self, label):
        super().__init__()
        self.label = label

    def forward(self, x):
        return nn.functional.one_hot(torch.full((len(x),), self.label), 10).float()


def test_backdoor_success_is_the_share_of_triggered_test_samples_sent_to_the_target():
    attack = attacks.build("backdoor", {"target": 7})
    attack.setup(image_data(torch.tensor([1, 7, 2, 3])))
    assert attack.metrics(Predicts(7), None, 2) == {"backdoor_success": 1.0}
    assert attack.metrics(Predicts(1), None, 2) == {"backdoor_success": 0.0}


@pytest.mark.parametrize("overrides,message", [
    ({"attack.name": "poison"}, "unknown attack 'poison'; choose one of: backdoor, free-rider, gaussian, "
                                "label-flip, none, scaling, sign-flip"),
    ({"attack.name": "sign-flip", "attack.params": {"boost": 2}},
     "attack 'sign-flip' has no parameter 'boost'; its parameters: scale"),
    ({"attack.name": "gaussian", "attack.params": {"std": -1}}, "attack 'gaussian': std must be a positive number, got -1"),
    ({"attack.name": "backdoor", "attack.params": {"fraction": 2}},
     "attack 'backdoor': fraction must be in (0, 1], got 2"),
    ({"aggregation.rule": "bulyan", "aggregation.params": {"f": 2}, "train.clients": 10},
     "aggregation rule 'bulyan' with {'f': 2} needs at least 11 updates a round; this config gives 10"),
])
def test_bad_attack_or_rule_config_is_named(overrides, message):
    with pytest.raises(UserError, match="^" + re.escape(message)):
        check_names(config.build(None, overrides))


@pytest.mark.parametrize("overrides,message", [
    ({"attack.fraction": 1.0}, "attack.fraction must be in [0, 1), got 1.0"),
    ({"attack.fraction": -0.1}, "attack.fraction must be in [0, 1), got -0.1"),
    ({"committee.size": 10}, "committee.size 10 must be smaller than train.clients 10"),
    ({"committee.strategy": "loud"}, "unknown committee.strategy 'loud'; choose one of: robust, accuracy"),
    ({"committee.select_fraction": 0}, "committee.select_fraction must be in (0, 1], got 0.0"),
    ({"rewards.budget": -5}, "rewards.budget must be a non-negative integer (0 = no reward token), got -5"),
    ({"rewards.committee_share": 1}, "rewards.committee_share must be in [0, 1), got 1.0"),
])
def test_out_of_range_robustness_settings_are_named(overrides, message):
    with pytest.raises(UserError, match="^" + re.escape(message)):
        config.build(None, overrides)


def test_backdoor_needs_image_data():
    attack = attacks.build("backdoor")
    flat = Dataset("flat", torch.zeros(4, 60), torch.zeros(4, dtype=torch.long), torch.zeros(2, 60),
                   torch.zeros(2, dtype=torch.long), 10)
    with pytest.raises(UserError, match=re.escape("attack 'backdoor' stamps a 4-pixel square on images; "
                                                  "data set 'flat' has inputs of shape (60,)")):
        attack.setup(flat)
