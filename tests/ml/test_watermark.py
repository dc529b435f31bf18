"""FedIPR's sign watermark off chain: what a key determines, the sign loss, detection, the model, the attacks."""
import pytest
import torch
from eth_utils import keccak

from fl.core.errors import UserError
from fl.ml import models
from fl.ml.watermark import key as wkey
from fl.ml.watermark.attacks import fine_tune, prune, prunable
from fl.ml.watermark.key import Watermark, projection, signature_bits
from fl.ml.watermark.signature import (bit_accuracy, check_capacity, false_positive_probability, model_scales,
                                    scale_names, scale_vector, sign_loss)

KEY_A = keccak(b"owner a")
KEY_B = keccak(b"owner b")


# --- keys -----------------------------------------------------------------------------------------

def test_the_same_key_always_gives_the_same_bits_and_matrix():
    first = (signature_bits(KEY_A, 32).clone(), projection(KEY_A, 50, 32).clone())
    wkey.signature_bits.cache_clear()
    wkey.projection.cache_clear()
    assert torch.equal(signature_bits(KEY_A, 32), first[0])
    assert torch.equal(projection("0x" + KEY_A.hex(), 50, 32), first[1])


def test_different_keys_give_different_bits_and_matrices():
    assert not torch.equal(signature_bits(KEY_A, 32), signature_bits(KEY_B, 32))
    assert not torch.equal(projection(KEY_A, 50, 32), projection(KEY_B, 50, 32))


def test_bits_are_the_keys_low_bits_least_significant_first():
    key = (0b1011).to_bytes(32, "big")
    assert signature_bits(key, 6).tolist() == [1, 1, -1, 1, -1, -1]


def test_matrix_entries_are_the_documented_keccak_stream():
    channels, bits = 7, 40
    blocks = [int.from_bytes(keccak(KEY_A + b"M" + i.to_bytes(4, "big")), "big") for i in range(2)]
    expected = [[1.0 if blocks[(i * bits + j) // 256] >> ((i * bits + j) % 256) & 1 else -1.0 for j in range(bits)]
                for i in range(channels)]
    assert projection(KEY_A, channels, bits).tolist() == expected


def test_matrix_rows_do_not_depend_on_the_number_of_channels():
    assert torch.equal(projection(KEY_A, 200, 16)[:30], projection(KEY_A, 30, 16))


@pytest.mark.parametrize("value,message", [
    ("0x1234", "watermark key 0x1234 has 2 bytes, expected 32"),
    ("0xzz" + "00" * 31, "watermark key '0xzz"),
])
def test_malformed_keys_are_named(value, message):
    with pytest.raises(UserError, match=message):
        wkey.parse_key(value)


def test_bit_count_out_of_range_is_refused():
    with pytest.raises(UserError, match="1 to 256 bits, got 257"):
        signature_bits(KEY_A, 257)


def test_commitment_is_keccak_of_the_key():
    assert Watermark(KEY_A, 8).commitment == "0x" + keccak(KEY_A).hex()


# --- sign loss and detection ------------------------------------------------------------------------

def test_sign_loss_is_the_hinge_on_the_projections():
    w = Watermark(KEY_A, 16)
    gamma = torch.linspace(-1, 2, 24)
    t = gamma @ projection(KEY_A, 24, 16)
    expected = torch.clamp(3.0 - signature_bits(KEY_A, 16) * t, min=0).sum()
    assert torch.allclose(sign_loss(gamma, w, margin=3.0), expected)


def test_minimizing_the_sign_loss_embeds_the_bits_and_only_those():
    owner, stranger = Watermark(KEY_A, 32), Watermark(KEY_B, 32)
    gamma = torch.ones(64, requires_grad=True)
    optimizer = torch.optim.SGD([gamma], lr=0.01)
    assert bit_accuracy(gamma, owner) < 0.9
    for _ in range(200):
        optimizer.zero_grad()
        sign_loss(gamma, owner, margin=5.0).backward()
        optimizer.step()
    assert sign_loss(gamma, owner, margin=5.0).item() == 0.0
    assert bit_accuracy(gamma, owner) == 1.0
    assert bit_accuracy(gamma, stranger) < 0.9


def test_two_owners_embed_into_the_same_scales():
    owners = [Watermark(KEY_A, 16), Watermark(KEY_B, 16)]
    gamma = torch.ones(64, requires_grad=True)
    optimizer = torch.optim.SGD([gamma], lr=0.01)
    for _ in range(300):
        optimizer.zero_grad()
        sum(sign_loss(gamma, w, margin=5.0) for w in owners).backward()
        optimizer.step()
    assert [bit_accuracy(gamma, w) for w in owners] == [1.0, 1.0]


def test_a_projection_of_zero_matches_no_bit():
    assert bit_accuracy(torch.zeros(10), Watermark(KEY_A, 8)) == 0.0


def test_chance_of_matching_is_the_binomial_tail():
    assert false_positive_probability(4, 1.0) == 1 / 16
    assert false_positive_probability(4, 0.75) == 5 / 16
    assert false_positive_probability(32, 0.9) == pytest.approx((4960 + 496 + 32 + 1) / 2**32)


def test_capacity_of_the_scales_is_checked():
    check_capacity(64, [Watermark(KEY_A, 32), Watermark(KEY_B, 32)])
    with pytest.raises(UserError, match="carry 65 bits in all, more than the model's 64"):
        check_capacity(64, [Watermark(KEY_A, 33), Watermark(KEY_B, 32)])


def test_scales_are_read_in_layer_order():
    tensors = {"features.10.scale": torch.full((2,), 10.0), "features.9.scale": torch.full((1,), 9.0),
               "features.9.bias": torch.zeros(1)}
    assert scale_names(tensors) == ["features.9.scale", "features.10.scale"]
    assert scale_vector(tensors).tolist() == [9.0, 10.0, 10.0]


def test_a_model_without_scales_cannot_carry_the_watermark():
    with pytest.raises(UserError, match="no normalization scale tensors"):
        scale_vector({"classifier.weight": torch.zeros(2, 2)})


# --- the sign model -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_sign_alexnet_takes_both_input_sizes(shape):
    model = models.build("signalexnet-small", shape, 10, seed=0)
    assert model(torch.zeros(2, *shape)).shape == (2, 10)
    assert scale_names(dict(model.named_parameters())) == ["features.4.scale", "features.5.scale", "features.6.scale"]
    assert model_scales(model).shape == (96 + 64 + 64,)
    assert torch.equal(model_scales(model), torch.ones(224))


def test_full_width_sign_alexnet_has_fedipr_channels():
    model = models.build("signalexnet", (3, 32, 32), 10, seed=0)
    assert model_scales(model).numel() == 384 + 256 + 256
    assert model.classifier.in_features == 4 * 4 * 256


def test_building_does_not_touch_normalization_statistics():
    model = models.build("signalexnet-small", (1, 28, 28), 10, seed=0)
    assert all(int(b) == 0 for n, b in model.named_buffers() if n.endswith("num_batches_tracked"))


# --- attacks ----------------------------------------------------------------------------------------

def test_pruning_zeroes_the_smallest_weights_of_each_layer_and_keeps_the_scales():
    model = models.build("signalexnet-small", (1, 28, 28), 10, seed=0)
    scales = model_scales(model).clone()
    largest = [w.abs().max().item() for w in prunable(model)]
    prune(model, 0.5)
    for weight, top in zip(prunable(model), largest):
        assert int((weight == 0).sum()) == round(0.5 * weight.numel())
        assert weight.abs().max().item() == top
    assert torch.equal(model_scales(model), scales)


def test_pruning_every_tensor_reaches_the_scales_too():
    model = models.build("signalexnet-small", (1, 28, 28), 10, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.arange(1, p.numel() + 1, dtype=p.dtype).reshape(p.shape))
    prune(model, 0.25, every_tensor=True)
    assert model_scales(model)[:24].eq(0).all() and model_scales(model)[24:96].ne(0).all()  # the first block: 96


def test_fine_tuning_changes_the_weights():
    model = models.build("signalexnet-small", (1, 28, 28), 10, seed=0)
    before = model.classifier.weight.clone()
    fine_tune(model, torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,)), epochs=1, lr=0.1)
    assert not torch.equal(model.classifier.weight, before)
