"""Declared parameters (fl/core/params.py): defaults, the values each takes, and the one-line error."""
import math
import re

import pytest

from fl.core.errors import UserError
from fl.core.params import BOOL, INT, Param, Parametrized, checked


@pytest.mark.parametrize("param,phrase", [
    (Param("x", 1.0), "a number"),
    (Param("x", 1.0, above=0), "a positive number"),
    (Param("x", 1.0, at_least=0), "a non-negative number"),
    (Param("x", 1.0, above=2.5), "a number > 2.5"),
    (Param("x", 1.0, at_most=3), "a number <= 3"),
    (Param("x", 0.5, at_least=0, below=1), "in [0, 1)"),
    (Param("x", 0.5, above=0, at_most=1), "in (0, 1]"),
    (Param("x", 1, INT), "an integer"),
    (Param("x", 1, INT, at_least=0), "an integer >= 0"),
    (Param("x", 1, INT, above=0), "an integer >= 1"),
    (Param("x", 1, INT, at_least=1, at_most=256), "an integer in 1..256"),
    (Param("x", 1, INT, at_least=0, below=10), "an integer in 0..9"),
    (Param("x", True, BOOL), "true or false"),
    (Param("x", 1, INT, expected="odd"), "odd"),
])
def test_the_phrase_comes_from_the_kind_and_the_bounds(param, phrase):
    assert param.phrase({}) == phrase


@pytest.mark.parametrize("param,good,bad", [
    (Param("x", 1.0, above=0), [1e-300, 1, 2.5], [0, -1, math.nan, math.inf, True, None, "1"]),
    (Param("x", 0.5, at_least=0, below=1), [0, 0.0, 0.999], [1, 1.0, -1e-9]),
    (Param("x", 1, INT, at_least=1, at_most=3), [1, 2, 3], [0, 4, 1.0, True, math.nan]),
    (Param("x", None, INT, at_least=1, optional=True), [None, 1], [0, 1.5]),
    (Param("x", False, BOOL), [True, False], [0, 1, None, "true"]),
])
def test_values_are_accepted_by_kind_and_bounds(param, good, bad):
    assert all(param.accepts(v, {}) for v in good)
    assert not any(param.accepts(v, {}) for v in bad)


PARAMS = (Param("bits", 32, INT, at_least=1),
          Param("distance", 12, INT, at_least=0, when=lambda v, p: v <= p["bits"],
                expected=lambda p: f"an integer in 0..bits ({p['bits']})"),
          Param("rate", 0.5, above=0))


def test_checked_fills_defaults_keeps_values_as_given_and_names_the_first_bad_one():
    assert checked("thing 't'", PARAMS, {"rate": 2}) == {"bits": 32, "distance": 12, "rate": 2}
    for given, message in [
        ({"bits": 8}, "thing 't': distance must be an integer in 0..bits (8), got 12"),
        ({"rate": "fast"}, "thing 't': rate must be a positive number, got 'fast'"),
        ({"colour": 1}, "thing 't' has no parameter 'colour'; its parameters: bits, distance, rate"),
    ]:
        with pytest.raises(UserError, match="^" + re.escape(message) + "$"):
            checked("thing 't'", PARAMS, given)


def test_a_parametrized_class_derives_its_defaults_and_checks_on_construction():
    class Thing(Parametrized):
        kind, name = "thing", "t"
        parameters = PARAMS

    assert Thing.defaults == {"bits": 32, "distance": 12, "rate": 0.5}
    assert Thing({"bits": 64}).params["bits"] == 64
    with pytest.raises(UserError, match=r"^thing 't': bits must be an integer >= 1, got 0$"):
        Thing({"bits": 0})


def test_contradictory_declarations_are_refused():
    with pytest.raises(ValueError):
        Param("x", 1, at_least=0, above=0)
    with pytest.raises(ValueError):
        Param("x", True, BOOL, at_least=0)
    with pytest.raises(ValueError):
        Param("x", 1, "float")
