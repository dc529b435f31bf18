"""NIID-Bench's presets hold the paper's settings, and the table puts ours beside the published figures."""
from pathlib import Path

import pytest

from fl.core.config import build
from fl.core.errors import UserError
from fl.tools import niid_bench
from fl.tools.compare import RunResult


@pytest.mark.parametrize("row", niid_bench.ROWS, ids=lambda r: r.name)
def test_each_preset_has_the_papers_settings(row):
    cfg = build(row.preset)
    t = cfg.train
    assert (cfg.data.name, cfg.data.params, cfg.model.name) == ("fashionmnist", {"normalize": False}, "niid-cnn")
    assert (t.clients, t.fraction, t.rounds, t.local_epochs, t.batch_size) == (10, 1.0, 50, 10, 64)
    assert (t.optimizer, t.lr, t.momentum, t.weight_decay) == ("sgd", 0.01, 0.9, 1e-5)
    expected_split = ("iid", None) if row.split == "IID" else ("niid-dirichlet", 0.5)
    assert (cfg.partition.method, cfg.partition.alpha if row.split != "IID" else None) == expected_split
    assert cfg.algorithm.name == row.name.removesuffix("-iid")
    if row.name == "fedprox":
        assert cfg.algorithm.params == {"mu": 0.01}


def result(accuracy, seconds=600.0):
    return RunResult(Path("x"), "fedavg", "fashionmnist", "niid", "niid-cnn", [accuracy], accuracy, accuracy, seconds)


def test_the_table_gives_mean_std_and_the_difference_from_the_paper():
    rows = niid_bench.pick(["fedavg", "fedprox"])
    text = niid_bench.markdown(rows, {"fedavg": [result(0.88), result(0.89), result(0.87)], "fedprox": [result(0.8715)]},
                               50, "python -m fl niid-bench")
    lines = text.splitlines()
    fedavg = next(line for line in lines if "| FedAvg |" in line)
    assert "| 88.09 % ± 0.29 | 88.00 % ± 1.00 | -0.09 | 3 | 50 | 10 min |" in fedavg
    fedprox = next(line for line in lines if "FedProx" in line)
    assert "| 88.15 % | 87.15 % | -1.00 | 1 | 50 |" in fedprox
    assert "not comparable" not in text


def test_a_shortened_table_says_it_is_not_comparable():
    text = niid_bench.markdown(niid_bench.pick(["fednova"]), {"fednova": [result(0.8)]}, 5, "cmd")
    assert "Shortened to 5 of the paper's 50 rounds: not comparable" in text


def test_rows_and_seeds_are_checked():
    with pytest.raises(UserError, match="unknown niid-bench row 'fedsgd'; choose one of: fedavg, fedavg-iid"):
        niid_bench.pick(["fedsgd"])
    with pytest.raises(UserError, match="--seeds must be a positive integer, got 0"):
        niid_bench.pick(None, seeds=0)
    assert [r.seeds for r in niid_bench.pick(None, seeds=2)] == [2] * 5
    assert [r.name for r in niid_bench.pick(["fednova", "fedavg"])] == ["fedavg", "fednova"]
