"""Named parameters, declared once: each with its default, the values it takes and the phrase that
says so. Algorithms, aggregation rules and attacks declare theirs as `Param`s (`Parametrized`);
a data set's are checked by name only (`with_defaults`). An unknown name is refused with the valid
ones; a bad value is one line naming it and what is expected, e.g.

    algorithm 'fedavgm': server_momentum must be in [0, 1), got 1.0
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fl.core.errors import UserError

#: what a parameter holds: an integer, a finite number (an integer or a float), or true/false
INT, NUMBER, BOOL = "int", "number", "bool"


@dataclass(frozen=True)
class Param:
    """One parameter. An INT or NUMBER may be bounded: `at_least`/`above` from below, `below`/
    `at_most` from above. `when(value, params)` is a further condition, given the parameters
    declared before this one (already checked); `expected` is then the phrase for the error (a
    string, or a function of those parameters). Without `expected` the phrase is made from the
    kind and the bounds. `optional`: None (unset) is accepted as well."""

    name: str
    default: Any
    kind: str = NUMBER
    at_least: float | None = None
    above: float | None = None
    below: float | None = None
    at_most: float | None = None
    optional: bool = False
    when: Callable[[Any, Mapping[str, Any]], bool] | None = None
    expected: str | Callable[[Mapping[str, Any]], str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in (INT, NUMBER, BOOL):
            raise ValueError(f"parameter {self.name!r}: kind must be one of {INT}, {NUMBER}, {BOOL}, got {self.kind!r}")
        if self.kind == BOOL and self._bounded():
            raise ValueError(f"parameter {self.name!r}: a {BOOL} parameter has no bounds")
        if self.at_least is not None and self.above is not None or self.below is not None and self.at_most is not None:
            raise ValueError(f"parameter {self.name!r}: one lower and one upper bound at most")

    def _bounded(self) -> bool:
        return any(b is not None for b in (self.at_least, self.above, self.below, self.at_most))

    def accepts(self, value: Any, params: Mapping[str, Any]) -> bool:
        if value is None and self.optional:
            return True
        if self.kind == BOOL:
            return isinstance(value, bool)
        if isinstance(value, bool) or not isinstance(value, int if self.kind == INT else (int, float)):
            return False
        if self.kind == NUMBER and not math.isfinite(value):
            return False
        return ((self.at_least is None or value >= self.at_least) and (self.above is None or value > self.above)
                and (self.below is None or value < self.below) and (self.at_most is None or value <= self.at_most)
                and (self.when is None or self.when(value, params)))

    def phrase(self, params: Mapping[str, Any]) -> str:
        """What the parameter must be, as in "<name> must be <phrase>, got <value>"."""
        if self.expected is not None:
            return self.expected(params) if callable(self.expected) else self.expected
        if self.kind == BOOL:
            return "true or false"
        if self.kind == INT:
            return self._integer_phrase()
        low, high = self.at_least if self.above is None else self.above, self.below if self.at_most is None else self.at_most
        if low is None and high is None:
            return "a number"
        if high is None:
            if low == 0:
                return "a positive number" if self.above is not None else "a non-negative number"
            return f"a number {'>' if self.above is not None else '>='} {low:g}"
        if low is None:
            return f"a number {'<' if self.below is not None else '<='} {high:g}"
        return f"in {'(' if self.above is not None else '['}{low:g}, {high:g}{')' if self.below is not None else ']'}"

    def _integer_phrase(self) -> str:
        low = self.at_least if self.above is None else math.floor(self.above) + 1
        high = self.at_most if self.below is None else math.ceil(self.below) - 1
        if low is not None and high is not None:
            return f"an integer in {int(low)}..{int(high)}"
        if low is not None:
            return f"an integer >= {int(low)}"
        if high is not None:
            return f"an integer <= {int(high)}"
        return "an integer"


def defaults(parameters: Sequence[Param]) -> dict[str, Any]:
    """Each parameter's default, in declaration order."""
    return {p.name: p.default for p in parameters}


def with_defaults(kind: str, defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """`defaults` updated by `given`; a name not in `defaults` is a UserError naming the valid ones."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise UserError(f"{kind} has no parameter {unknown[0]!r}; its parameters: {valid}")
    return {**defaults, **given}


def checked(owner: str, parameters: Sequence[Param], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The declared parameters with `given` over their defaults, each value checked in declaration
    order; `owner` ("algorithm 'fedprox'") starts every message. The values are kept as given."""
    params = with_defaults(owner, defaults(parameters), given)
    for p in parameters:
        if not p.accepts(params[p.name], params):
            raise UserError(f"{owner}: {p.name} must be {p.phrase(params)}, got {params[p.name]!r}")
    return params


class Parametrized:
    """Something built by name from the config with named parameters: an algorithm, an
    aggregation rule, an attack. `kind` and `name` say what it is in messages ("aggregation rule
    'krum'"); `parameters` declares every parameter; `defaults` is derived from them."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    parameters: ClassVar[tuple[Param, ...]] = ()
    defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.defaults = defaults(cls.parameters)

    def __init__(self, params: Mapping[str, Any] | None = None):
        self.params = checked(f"{self.kind} {self.name!r}", self.parameters, params)
