"""Named parameters with defaults (an algorithm's, a data set's): unknown names are refused."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fl.core.errors import UserError


def with_defaults(kind: str, defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """`defaults` updated by `given`; a name not in `defaults` is a UserError naming the valid ones."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise UserError(f"{kind} has no parameter {unknown[0]!r}; its parameters: {valid}")
    return {**defaults, **given}
