"""Named parameters with defaults, as attacks and aggregation rules take them from the config."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fl.core.errors import UserError


class Parametrized:
    """`kind` and `name` say what it is in messages; `defaults` lists every parameter."""

    kind = ""
    name = ""
    defaults: dict[str, Any] = {}

    def __init__(self, params: Mapping[str, Any] | None = None):
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise UserError(f"{self.kind} {self.name!r} has no parameter {unknown[0]!r}; its parameters: {valid}")
        self.params = {**self.defaults, **params}
        self.check()

    def check(self) -> None:
        """Reject parameter values that cannot work (a UserError naming the value)."""

    def _fail(self, key: str, requirement: str):
        return UserError(f"{self.kind} {self.name!r}: {key} must be {requirement}, got {self.params[key]!r}")

    def _integer(self, key: str, low: int) -> int:
        value = self.params[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self._fail(key, f"an integer >= {low}")
        return value

    def _number(self, key: str, low: float, high: float = math.inf, *, open_low: bool = False,
                closed_high: bool = False) -> float:
        """A finite number in the interval from `low` to `high` (closed at `low` unless `open_low`,
        open at `high` unless `closed_high`)."""
        value = self.params[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and (
            value > low if open_low else value >= low) and (value <= high if closed_high else value < high)
        if not ok:
            if high == math.inf:
                raise self._fail(key, f"a number {'>' if open_low else '>='} {low:g}")
            raise self._fail(key, f"in {'(' if open_low else '['}{low:g}, {high:g}{']' if closed_high else ')'}")
        return float(value)
