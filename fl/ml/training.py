"""Local training and evaluation loops over in-memory tensors (no DataLoader, no per-sample transforms)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from fl.core.errors import choices_error

LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(model(x), y)


def deterministic_device(name: str) -> torch.device:
    """The torch device `name`; on a GPU with cuDNN's autotuning and nondeterministic kernels off, so runs repeat."""
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    return device


def make_optimizer(name: str, params, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise choices_error("optimizer", name, ["sgd", "adam"])


def effective_steps(steps: int, momentum: float) -> float:
    """How many plain SGD steps `steps` heavy-ball steps with momentum ρ amount to for a constant
    gradient, the momentum buffer starting at zero: Σ_k (1 − ρ^k) / (1 − ρ) over k = 1..steps
    = [steps − ρ(1 − ρ^steps)/(1 − ρ)] / (1 − ρ). This is FedNova's ||a_i||₁ (Wang et al. 2020);
    it is `steps` for ρ = 0."""
    if momentum == 0:
        return float(steps)
    return (steps - momentum * (1 - momentum ** steps) / (1 - momentum)) / (1 - momentum)


@contextmanager
def channels_last(model: nn.Module) -> Iterator[None]:
    """The model's 4-d weights in channels-last layout inside the block, back in the default layout
    after it (the model's state, its hash and what the optimizer holds keep their values). oneDNN's
    convolutions and max pooling then skip a layout conversion per call: NIID-Bench's CNN trains
    1.39x faster on one CPU thread (`python -m fl.tools.bench layout`). The values differ from
    default-layout training in the last bits."""
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        yield
        return
    model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        model.to(memory_format=torch.contiguous_format)


@dataclass
class TrainResult:
    steps: int
    mean_loss: float


def local_sgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, indices: torch.Tensor, *, epochs: int,
              batch_size: int, optimizer: torch.optim.Optimizer, generator: torch.Generator,
              loss_fn: LossFn = cross_entropy, after_step: Callable[[], None] | None = None,
              before_step: Callable[[], None] | None = None,
              transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None) -> TrainResult:
    """`epochs` passes over `x[indices]` in mini-batches, reshuffled each epoch by `generator`.

    `transform` (augmentation) changes each input batch, drawing from `generator`; `before_step`
    may change the gradients between backward and the optimizer's step (SCAFFOLD's correction).
    A model with 1-d batch norm skips a last batch of one sample (it cannot train on one value per channel).
    Convolutions run in the channels-last layout (`channels_last`).
    """
    with channels_last(model):
        return _local_sgd(model, x, y, indices, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                          generator=generator, loss_fn=loss_fn, after_step=after_step, before_step=before_step,
                          transform=transform)


def _local_sgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, indices: torch.Tensor, *, epochs: int,
               batch_size: int, optimizer: torch.optim.Optimizer, generator: torch.Generator, loss_fn: LossFn,
               after_step: Callable[[], None] | None, before_step: Callable[[], None] | None,
               transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None) -> TrainResult:
    model.train()
    n = len(indices)
    smallest = 2 if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()) else 1
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    steps = 0
    for _ in range(epochs):
        order = indices[torch.randperm(n, generator=generator)]
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            if len(batch) < smallest:
                continue
            inputs = x[batch] if transform is None else transform(x[batch], generator)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model, inputs, y[batch])
            loss.backward()
            if before_step is not None:
                before_step()
            optimizer.step()
            if after_step is not None:
                after_step()
            total += loss.detach()
            steps += 1
    return TrainResult(steps=steps, mean_loss=float(total / max(steps, 1)))


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[float, float]:
    """(accuracy, mean cross-entropy loss) over the whole set."""
    model.eval()
    correct = 0
    loss = torch.zeros((), dtype=torch.float64, device=x.device)
    for start in range(0, len(y), batch_size):
        logits = model(x[start:start + batch_size])
        target = y[start:start + batch_size]
        loss += F.cross_entropy(logits, target, reduction="sum").double()
        correct += int((logits.argmax(1) == target).sum())
    return correct / len(y), float(loss / len(y))


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the model's state dict."""
    return {name: value.detach().to("cpu", copy=True) for name, value in model.state_dict().items()}
