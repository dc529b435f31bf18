"""`make watermark-table` (`python -m fl.tools.watermark_table`): how well FedIPR's watermark survives, and
what ownership costs on chain; written into README.md between marker comments.

One FedIPR run and one FedAvg run of the same config (configs/fedipr.yaml) on the chain, the FedIPR
model tokenized and traded; then the thief's attacks of FedIPR's Sec. 6.4 on the FedIPR model
(fine-tuning on its own clean data, pruning the smallest weights) with the main-task accuracy and
every owner's detection rate after each, and the false-positive rate: models that never carried a
watermark, and the watermarked model under keys it never carried, judged at the ownership threshold.
"""
from __future__ import annotations

import copy
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from eth_hash.auto import keccak
from torch import nn

from fl.core import config
from fl.core.paths import ROOT
from fl.ml import algorithms, models
from fl.ml.algorithms.api import model_part
from fl.ml.training import evaluate
from fl.ml.watermark.attacks import fine_tune, prune
from fl.ml.watermark.key import Watermark
from fl.ml.watermark.signature import bit_accuracy, model_scales
from fl.tools.readme import replace_section

THRESHOLD = 0.9
FALSE_POSITIVE_KEYS = 100
FINE_TUNE_SAMPLES = 10_000
FINE_TUNE_EPOCHS = (1, 5)
HARSH_LR_FACTOR = 10
PRUNE_FRACTIONS = (0.2, 0.5)


@dataclass
class Row:
    what: str
    accuracy: float | None
    detection: list[float]  # one bit accuracy per (model, key) checked

    @property
    def owned(self) -> int:
        return sum(d >= THRESHOLD for d in self.detection)

    def cells(self) -> str:
        accuracy = "–" if self.accuracy is None else f"{100 * self.accuracy:.2f}%"
        d = self.detection
        detection = f"{100 * sum(d) / len(d):.1f}% (min {100 * min(d):.1f}%, max {100 * max(d):.1f}%)"
        return f"| {self.what} | {accuracy} | {detection} | {self.owned}/{len(d)} |"


def stranger_keys(count: int) -> list[bytes]:
    """Keys nobody negotiated: keccak256("onchainfl/stranger" ‖ i)."""
    return [keccak(b"onchainfl/stranger" + i.to_bytes(4, "big")) for i in range(count)]


def _row(what: str, model: nn.Module, watermarks: list[Watermark], data) -> Row:
    accuracy, _ = evaluate(model, data.test_x, data.test_y, 2000)
    gamma = model_scales(model)
    return Row(what, accuracy, [bit_accuracy(gamma, w) for w in watermarks])


def attack_rows(model: nn.Module, watermarks: list[Watermark], data, *, lr: float, seed: int,
                samples: int = FINE_TUNE_SAMPLES) -> list[Row]:
    """Detection and accuracy right after training, after fine-tuning the stolen model on `samples`
    clean training images (plain cross-entropy, the training learning rate) for each of
    FINE_TUNE_EPOCHS and at HARSH_LR_FACTOR times that rate, and after pruning: the smallest weights
    of every convolution and linear layer (FedIPR's attack), then of every tensor, the scales too."""
    rows = [_row("right after training", model, watermarks, data)]
    x, y = data.train_x[-samples:], data.train_y[-samples:]
    stolen = copy.deepcopy(model)
    done = 0
    for epochs in FINE_TUNE_EPOCHS:
        fine_tune(stolen, x, y, epochs=epochs - done, lr=lr, seed=seed + done)
        done = epochs
        rows.append(_row(f"fine-tuned {epochs} epoch(s) on {len(y):,} clean images, lr {lr:g}", stolen,
                         watermarks, data))
    harsh = fine_tune(copy.deepcopy(model), x, y, epochs=done, lr=HARSH_LR_FACTOR * lr, seed=seed)
    rows.append(_row(f"fine-tuned {done} epoch(s) on {len(y):,} clean images, lr {HARSH_LR_FACTOR * lr:g}", harsh,
                     watermarks, data))
    for fraction in PRUNE_FRACTIONS:
        pruned = prune(copy.deepcopy(model), fraction)
        rows.append(_row(f"{100 * fraction:.0f}% smallest weights of every conv/linear layer pruned", pruned,
                         watermarks, data))
    fraction = PRUNE_FRACTIONS[-1]
    rows.append(_row(f"{100 * fraction:.0f}% smallest of every parameter tensor pruned, scales included",
                     prune(copy.deepcopy(model), fraction, every_tensor=True), watermarks, data))
    return rows


def render(rows: list[Row], false_positive_rows: list[Row], gas: dict[str, int], setup: str) -> str:
    lines = [setup, "",
             "| FedIPR global model | main-task accuracy | detection rate: mean over owners (min, max) | owned (≥ 90%) |",
             "|---|---|---|---|", *(r.cells() for r in rows), "",
             "| false positives | main-task accuracy | bit accuracy: mean over checks (min, max) | owned (≥ 90%) |",
             "|---|---|---|---|", *(r.cells() for r in false_positive_rows), "",
             "| on chain | gas |", "|---|---|", *(f"| {what} | {value:,} |" for what, value in gas.items())]
    return "\n".join(lines)


def _final_model(run, cfg, dataset) -> nn.Module:
    from fl.core.store import ArtifactStore

    summary = json.loads((run.path / "summary.json").read_text())
    state, _ = ArtifactStore(run.artifacts).get(summary["final_model"])
    model = models.build(cfg.model.name, dataset.input_shape, dataset.num_classes, cfg.seed)
    model.load_state_dict(model_part(state))
    return model


def _gas(run: Path, ownership: dict, trade: dict) -> dict[str, int]:
    chain = json.loads((run / "chain.json").read_text())["algorithm"]["watermark_gas"]
    negotiations = [v for k, v in chain.items() if k.startswith("negotiate_")]
    return {"WatermarkRegistry deployment (once per chain)": chain["deploy"],
            "configure a task (aggregator)": chain.get("configure", 0),
            f"negotiate one watermark key (client; mean of {len(negotiations)})": sum(negotiations) // len(negotiations),
            "ModelToken + ModelMarketplace deployment": ownership["gas"]["deploy_token_and_market"],
            "mint a model token": ownership["gas"]["mint"],
            "approve + list": trade["gas"]["approve_and_list"],
            "buy (price split into escrow)": trade["gas"]["buy"],
            "withdraw (one payee)": trade["gas"]["withdraw"]}


def build(cfg_path: Path = ROOT / "configs" / "fedipr.yaml", runs_dir: str = "runs") -> tuple[str, dict]:
    """Run everything; the markdown section and the raw numbers."""
    from fl.features.ownership.owners import tokenize
    from fl.features.ownership.trade import to_wei, trade
    from fl.ml import data
    from fl.run.experiment import run_experiment

    overrides = {"output.runs_dir": runs_dir, "output.progress": False}
    cfg = config.build(cfg_path, {**overrides, "output.run_name": "watermark-table-fedipr"})
    baseline_cfg = config.build(cfg_path, {**overrides, "output.run_name": "watermark-table-fedavg",
                                           "algorithm.name": "fedavg", "algorithm.params": {}})
    run = run_experiment(cfg)
    ownership = tokenize(run.path)
    traded = trade(run.path, to_wei(10), to_wei(15))
    baseline = run_experiment(baseline_cfg)

    dataset = data.load(cfg.data.name, cfg.data.root).limit(cfg.data.train_limit, cfg.data.test_limit)
    params = algorithms.build(cfg.algorithm.name, cfg.algorithm.params).params
    bits = params["bits"]
    watermarks = [Watermark(k, bits) for k in _owner_keys(run.path, ownership)]
    torch.manual_seed(cfg.seed)
    watermarked = _final_model(run, cfg, dataset)
    rows = attack_rows(watermarked, watermarks, dataset, lr=cfg.train.lr, seed=cfg.seed)
    strangers = [Watermark(k, bits) for k in stranger_keys(FALSE_POSITIVE_KEYS)]
    clean = _final_model(baseline, baseline_cfg, dataset)
    false_rows = [
        _row(f"FedAvg model (never watermarked) vs the {len(watermarks)} owners' keys", clean, watermarks, dataset),
        _row(f"FedAvg model vs {FALSE_POSITIVE_KEYS} keys nobody negotiated", clean, strangers, dataset),
        _row(f"FedIPR model vs {FALSE_POSITIVE_KEYS} keys it never carried", watermarked, strangers, dataset),
    ]
    gas = _gas(run.path, ownership, traded)
    t = cfg.train
    setup = (f"FedIPR ({len(watermarks)} of {t.clients} clients watermark, {bits} bits each; sign loss weight "
             f"{params['sign_weight']:g}, margin {params['margin']:g}) on "
             f"{cfg.data.name}, model {cfg.model.name}, {t.rounds} rounds, seed {cfg.seed}; the same config "
             f"with FedAvg reaches {100 * false_rows[0].accuracy:.2f}%. Regenerate: `make watermark-table`.")
    raw = {"rows": [asdict(r) for r in rows], "false_positive_rows": [asdict(r) for r in false_rows], "gas": gas,
           "fedipr_run": str(run.path), "fedavg_run": str(baseline.path)}
    return render(rows, false_rows, gas, setup), raw


def _owner_keys(run: Path, ownership: dict) -> list[bytes]:
    """The token's watermark owners' keys, read from the registry on the run's chain."""
    from fl.chain.ownership import Ownership
    from fl.chain.run_chain import run_chain
    from fl.chain.watermark import RegistryChain

    with run_chain(run):
        record = Ownership.attach(ownership["token"], ownership["market"]).record(ownership["token_id"])
        registry = RegistryChain.attach(ownership["registry"])
        return [registry.record(c.watermark).key for c in record.contributors if c.watermarked]


def main() -> None:
    from fl.core.errors import guarded

    def go():
        body, raw = build()
        replace_section("watermark-table", body)
        (ROOT / "bench").mkdir(exist_ok=True)
        (ROOT / "bench" / "watermark.json").write_text(json.dumps(raw, indent=2) + "\n")
        print(body)
        print("written to README.md and bench/watermark.json")

    guarded(go)


if __name__ == "__main__":
    sys.exit(main())
