"""Robust aggregation rules by name, each replacing FedAvg's weighted mean in `combine`.

`mean` (the default) is FedAvg's own sample-weighted mean (fl/ml/aggregate.py); every other rule
is one file here with its paper cited.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fl.core.errors import UserError, choices_error
from fl.ml.robust.rules.base import Rule
from fl.ml.robust.rules.bulyan import Bulyan
from fl.ml.robust.rules.krum import Krum
from fl.ml.robust.rules.median import Median
from fl.ml.robust.rules.multi_krum import MultiKrum
from fl.ml.robust.rules.norm_clipping import NormClipping
from fl.ml.robust.rules.trimmed_mean import TrimmedMean

MEAN = "mean"
RULES: dict[str, type[Rule]] = {cls.name: cls for cls in (Krum, MultiKrum, Median, TrimmedMean, Bulyan, NormClipping)}
CHOICES = (MEAN, *RULES)


def check_name(name: str) -> str:
    if name != MEAN and name not in RULES:
        raise choices_error("aggregation rule", name, CHOICES)
    return name


def build(name: str, params: Mapping[str, Any] | None = None) -> Rule | None:
    """The rule `name` with `params`; None for `mean`, which is the algorithm's own average."""
    if check_name(name) == MEAN:
        if params:
            raise UserError(f"aggregation rule 'mean' has no parameter {sorted(params)[0]!r}; its parameters: none")
        return None
    return RULES[name](params)
