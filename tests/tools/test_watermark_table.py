"""`make watermark-table`'s parts: the attacks' rows, the rendering, and the README section it replaces."""
import torch
from eth_utils import keccak

from fl.ml import data, models
from fl.ml.watermark.key import Watermark
from fl.ml.watermark.signature import model_scales, sign_loss
from fl.tools.watermark_table import Row, attack_rows, render, stranger_keys


def test_a_row_shows_accuracy_mean_min_max_and_how_many_pass_the_threshold():
    row = Row("after pruning", 0.8123, [1.0, 0.875, 0.9375])
    assert row.cells() == "| after pruning | 81.23% | 93.8% (min 87.5%, max 100.0%) | 2/3 |"


def test_render_lists_every_row_and_the_gas():
    text = render([Row("a", 0.5, [1.0])], [Row("b", None, [0.5])], {"mint": 423196}, "setup line")
    assert text.splitlines()[0] == "setup line"
    assert "| a | 50.00% |" in text and "| b | – |" in text and "| mint | 423,196 |" in text


def test_stranger_keys_are_fixed_and_distinct():
    keys = stranger_keys(3)
    assert keys == stranger_keys(3) and len(set(keys)) == 3
    assert keys[0] == keccak(b"onchainfl/stranger" + (0).to_bytes(4, "big"))


def test_attack_rows_report_each_attack_on_an_embedded_model():
    dataset = data.load("synthetic-images")
    model = models.build("signalexnet-small", dataset.input_shape, dataset.num_classes, seed=0)
    owner = Watermark(keccak(b"table owner"), 32)
    optimizer = torch.optim.SGD([p for n, p in model.named_parameters() if n.endswith(".scale")], lr=0.01)
    for _ in range(100):
        optimizer.zero_grad()
        sign_loss(model_scales(model), owner, margin=20.0).backward()
        optimizer.step()
    rows = attack_rows(model, [owner], dataset, lr=0.01, seed=0, samples=64)
    assert [r.what for r in rows] == [
        "right after training", "fine-tuned 1 epoch(s) on 64 clean images, lr 0.01",
        "fine-tuned 5 epoch(s) on 64 clean images, lr 0.01", "fine-tuned 5 epoch(s) on 64 clean images, lr 0.1",
        "20% smallest weights of every conv/linear layer pruned", "50% smallest weights of every conv/linear layer pruned",
        "50% smallest of every parameter tensor pruned, scales included"]
    assert rows[0].detection == [1.0]
    assert all(0.0 <= r.accuracy <= 1.0 for r in rows)
    assert rows[4].detection == rows[5].detection == [1.0]  # pruning conv/linear weights leaves the scales alone
