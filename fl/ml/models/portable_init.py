"""Initial weights whose bytes do not depend on the CPU, the torch build or the language.

torch's own initializers (`uniform_`, `normal_`, the layers' `reset_parameters`) give different
bytes under different CPU kernels (`ATEN_CPU_CAPABILITY=default` and `avx2` differ), so a
verifier on another machine could not recompute a run's round-0 model from its seed. Every
model therefore draws its random weights here, after construction, from integer random numbers
and exactly specified float64 arithmetic:

- Each Conv and Linear layer (in `model.named_modules()` order; only their `weight` and `bias`
  are random) has an init scheme, set by the model as the layer's `init_scheme` attribute:
  - `"default"` (torch's default for these layers, Kaiming-uniform with a = sqrt(5)):
    weight and bias ~ U(-b, b), b = 1 / sqrt(fan_in);
  - `"he-fan-out"` (He et al. 2015 for ReLU, fan-out mode): weight ~ U(-b, b) with the same
    variance as N(0, 2 / fan_out), b = sqrt(6 / fan_out); bias 0;
  - `"small"` (a linear layer of a He-initialized network): weight ~ U(-b, b) with the same
    variance as N(0, 0.01²), b = 0.01 * sqrt(3); bias 0.
  fan_in = weight.shape[1] * prod(weight.shape[2:]), fan_out = weight.shape[0] * prod(weight.shape[2:]).
  Every b is computed in float64 with correctly rounded operations (`math.sqrt`, `/`, `*`).
- The draw for the tensor named `name` (its state-dict name) of n elements: numpy's PCG64 bit
  generator seeded with `numpy.random.SeedSequence([seed, 0x494E4954, *name.encode("utf-8")])`;
  `r = random_raw(n)` (n uint64 words); `u = float64(r >> 11) * 2**-53` (exact, in [0, 1));
  `x = (u * 2 - 1) * b` in float64 (the first two operations are exact, the last rounds once);
  then x is rounded to float32 (round to nearest, ties to even) and reshaped row-major to the
  tensor's shape.
- Every other tensor keeps the constant its layer starts with (normalization scales 1, shifts 0,
  running statistics 0 and 1): those bytes are the same everywhere.

Uniform draws with the variance of the normal ones the papers use keep what matters for
training (the scale per layer) and need no transcendental function, whose last bits differ
between libraries.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

DEFAULT, HE_FAN_OUT, SMALL = "default", "he-fan-out", "small"
SCHEMES = (DEFAULT, HE_FAN_OUT, SMALL)
_DOMAIN = 0x494E4954  # "INIT"


def uniform_draw(seed: int, name: str, shape: torch.Size, bound: float) -> torch.Tensor:
    """float32 values ~ U(-bound, bound) for the tensor `name`, the same bytes on every machine."""
    n = math.prod(shape)
    generator = np.random.PCG64(np.random.SeedSequence([seed, _DOMAIN, *name.encode("utf-8")]))
    raw = generator.random_raw(n) if n else np.zeros(0, dtype=np.uint64)
    u = (np.asarray(raw, dtype=np.uint64) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    x = (u * 2.0 - 1.0) * bound
    return torch.from_numpy(x.astype(np.float32)).reshape(shape)


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    receptive = math.prod(weight.shape[2:])
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def bounds(module: nn.Module) -> tuple[float, float | None]:
    """(weight bound, bias bound or None for a zero bias) of a Conv/Linear layer's scheme."""
    scheme = getattr(module, "init_scheme", DEFAULT)
    fan_in, fan_out = _fans(module.weight)
    if scheme == DEFAULT:
        b = 1.0 / math.sqrt(fan_in)
        return b, b
    if scheme == HE_FAN_OUT:
        return math.sqrt(6.0 / fan_out), None
    if scheme == SMALL:
        return 0.01 * math.sqrt(3.0), None
    raise ValueError(f"unknown init scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")


def initialize(model: nn.Module, seed: int) -> nn.Module:
    """Draw every Conv and Linear layer's weights of `model` from `seed` as the module docstring says."""
    with torch.no_grad():
        for prefix, module in model.named_modules():
            if not isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
                continue
            name = f"{prefix}." if prefix else ""
            weight_bound, bias_bound = bounds(module)
            module.weight.copy_(uniform_draw(seed, name + "weight", module.weight.shape, weight_bound))
            if module.bias is not None:
                if bias_bound is None:
                    module.bias.zero_()
                else:
                    module.bias.copy_(uniform_draw(seed, name + "bias", module.bias.shape, bias_bound))
    return model


def use_scheme(module: nn.Module, scheme: str) -> nn.Module:
    """Mark a Conv/Linear layer to be drawn with `scheme` (one of SCHEMES)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")
    module.init_scheme = scheme
    return module
