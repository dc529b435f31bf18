"""The floor a federated round can approach: one plain centralized PyTorch epoch of the same
model over the same training images at the same batch size, data in memory."""
from __future__ import annotations

import time

import torch
from torch.nn import functional as F

from fl.ml import data, models


def centralized_epochs(dataset_name: str = "fashionmnist", model_name: str = "cnn", batch_size: int = 32,
                       lr: float = 0.01, momentum: float = 0.9, seed: int = 0, epochs: int = 2,
                       device: str = "cpu") -> list[float]:
    """Seconds of each epoch: shuffle, slice, forward, backward, step — nothing else; on `device`,
    data and model already there (as the federated runs have them)."""
    dataset = data.load(dataset_name)
    model = models.build(model_name, dataset.input_shape, dataset.num_classes, seed).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    generator = torch.Generator().manual_seed(seed)
    x, y = dataset.train_x.to(device), dataset.train_y.to(device)
    times = []
    model.train()
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(y), generator=generator).to(device)
        for i in range(0, len(y), batch_size):
            batch = order[i:i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
        if device != "cpu":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return times
