"""FedAvg's server step: the sample-weighted mean of the clients' model states.

For each floating tensor of the previous global model, in float64 (fl/ml/exact.py, `weighted_mean`):

    c_k = float64(w_k) / float64(W),  W = w_1 + ... + w_K (integer sample counts, exact)
    acc_0 = +0.0,  acc_k = acc_{k-1} + (c_k * float64(x_k)),  k = 1..K in ascending client id

each product and sum rounded on its own (never fused), then acc_K rounded once to the tensor's
own dtype. The same bytes come out on every CPU and from a numpy reimplementation. Integer
tensors (e.g. BatchNorm's num_batches_tracked) are carried over from the previous global model.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from fl.core.codec import State
from fl.ml.exact import weighted_mean


def weighted_average(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[int],
                     previous: Mapping[str, torch.Tensor]) -> State:
    if len(states) != len(weights) or not states:
        raise ValueError(f"need one weight per state and at least one state, got {len(states)} and {len(weights)}")
    return {name: weighted_mean((state[name] for state in states), weights).to(old.dtype)
            if old.is_floating_point() else old.clone() for name, old in previous.items()}
