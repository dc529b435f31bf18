"""What every robust aggregation rule shares: named parameters, and model states seen as one
float64 matrix (a row per update, ascending client id; a column per model coordinate).

Arithmetic, so that `verify` (or a numpy reimplementation) recomputes a rule bit for bit on any
machine (the rules of fl/ml/exact.py):

- The matrix: the floating tensors of each state, in sorted name order, each flattened in
  row-major order, concatenated and widened to float64 (exact). Row k is the update of the k-th
  smallest client id; the previous global model is flattened the same way.
- Sorting along the clients axis (median, trimmed mean, Bulyan) is a stable ascending sort of
  each column: equal values (including -0.0 and +0.0, which compare equal) keep ascending client
  order. Updates are finite (validation rejects NaN and Inf before aggregation).
- Sums over updates run one row at a time from +0.0, each `+` rounded; a mean of m rows is that
  sum divided by float64(m) (`fl.ml.exact.mean`). Sums over coordinates (squared norms, squared
  distances) are exactly rounded (`fl.ml.exact.exact_sum`: the value of `math.fsum`).
- The rule's float64 result vector is cut back into tensors and each is rounded once to its own
  dtype. Integer tensors are carried over from the previous global model.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from fl.core.codec import State
from fl.core.params import Parametrized


class Layout:
    """How a model state maps onto a flat vector: its floating tensors in sorted name order."""

    def __init__(self, previous: Mapping[str, torch.Tensor]):
        self.previous = previous
        self.names = sorted(name for name, value in previous.items() if value.is_floating_point())

    def flatten(self, state: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([state[name].detach().reshape(-1).to(torch.float64) for name in self.names])

    def stack(self, states: Sequence[Mapping[str, torch.Tensor]]) -> torch.Tensor:
        return torch.stack([self.flatten(state) for state in states])

    def unflatten(self, vector: torch.Tensor) -> State:
        pieces = {}
        offset = 0
        for name in self.names:
            old = self.previous[name]
            pieces[name] = vector[offset:offset + old.numel()].reshape(old.shape).to(old.dtype)
            offset += old.numel()
        return {name: pieces[name] if name in pieces else old.clone() for name, old in self.previous.items()}


def sorted_columns(rows: torch.Tensor) -> torch.Tensor:
    """Each column sorted ascending, stably (ties keep ascending client order)."""
    return torch.sort(rows, dim=0, stable=True).values


class Rule(Parametrized):
    """A robust aggregation rule: `rule(states, weights, previous)` -> the new model state.

    Subclasses set `name`, `parameters` and implement `combine_rows` over the (updates x
    coordinates) float64 matrix. Unless a rule says otherwise it treats every update alike,
    as its paper does; the sample counts (`weights`) stay the weights recorded on chain.
    """

    kind = "aggregation rule"

    def min_updates(self) -> int:
        """The fewest updates a round needs for the rule's guarantee to hold."""
        return 1

    def describe(self) -> dict[str, Any]:
        """What identifies the rule in the algorithm's `rule()` (and so in the rule hash on chain)."""
        return {"rule": self.name, "params": dict(sorted(self.params.items()))}

    def __call__(self, states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[int],
                 previous: Mapping[str, torch.Tensor]) -> State:
        if not states or len(states) != len(weights):
            raise ValueError(f"need one weight per state and at least one state, got {len(states)} and {len(weights)}")
        layout = Layout(previous)
        vector = self.combine_rows(layout.stack(states), [int(w) for w in weights], layout.flatten(previous))
        return layout.unflatten(vector)

    def combine_rows(self, rows: torch.Tensor, weights: list[int], previous: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
