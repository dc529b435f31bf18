"""Local training in the channels-last memory layout (what `fl.ml.training.local_sgd` does for a
CNN) against the default layout: the same batches through the same model, alternated so that both
see the same machine, on generated images of FashionMNIST's shape."""
from __future__ import annotations

import contextlib
import time
from unittest import mock

import torch

from fl.ml import models, training


def seconds_per_batch(model_name: str, channels_last: bool, batches: int, batch_size: int) -> float:
    """Seconds of one SGD step (lr 0.01, momentum 0.9, weight decay 1e-5) in `local_sgd`."""
    model = models.build(model_name, (1, 28, 28), 10, seed=0)
    x, y = torch.rand(batches * batch_size, 1, 28, 28), torch.randint(0, 10, (batches * batch_size,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-5)
    layout = (contextlib.nullcontext() if channels_last
              else mock.patch.object(training, "channels_last", lambda m: contextlib.nullcontext()))
    with layout:
        start = time.perf_counter()
        result = training.local_sgd(model, x, y, torch.arange(len(y)), epochs=1, batch_size=batch_size,
                                    optimizer=optimizer, generator=torch.Generator().manual_seed(0))
    return (time.perf_counter() - start) / result.steps


def compare(model_names: list[str], repeats: int = 3, batches: int = 200, batch_size: int = 64) -> list[dict]:
    """For each model: the best of `repeats` alternated measurements in each layout, and their ratio."""
    rows = []
    for name in model_names:
        seconds_per_batch(name, True, 20, batch_size)  # warm-up: oneDNN builds its kernels once
        default, last = [], []
        for _ in range(repeats):
            default.append(seconds_per_batch(name, False, batches, batch_size))
            last.append(seconds_per_batch(name, True, batches, batch_size))
        rows.append({"model": name, "default_ms": 1000 * min(default), "channels_last_ms": 1000 * min(last),
                     "speed_up": min(default) / min(last)})
    return rows


def table(rows: list[dict], threads: int) -> str:
    lines = [f"local SGD, batch 64, {threads} torch thread(s), best of the alternated repeats:",
             "| model | default layout | channels last | speed-up |", "|---|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['default_ms']:.2f} ms | {r['channels_last_ms']:.2f} ms | {r['speed_up']:.2f}x |"
              for r in rows]
    return "\n".join(lines)
