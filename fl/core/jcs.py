"""RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value.

The task config hash recorded on chain is keccak-256 of `canonicalize(task config dict)`, so
anyone can recompute it in any language with a JCS library, independent of how Python formats
floats. The rules, as RFC 8785 states them:

- objects: members sorted by their names compared as arrays of UTF-16 code units (not code
  points: a name with a character above U+FFFF sorts by its surrogate pair), no duplicate names,
  `{"a":1,"b":2}` with no whitespace anywhere;
- arrays: in order, `[1,2]`;
- strings: `"` and `\\` escaped as `\\"` and `\\\\`; U+0008, U+0009, U+000A, U+000C, U+000D as
  `\\b \\t \\n \\f \\r`; every other control character below U+0020 as `\\u00xx` (lower-case hex);
  everything else, non-ASCII included, as itself in UTF-8 (no `\\u` escapes, `/` not escaped);
  lone surrogates are refused (they have no UTF-8 form);
- literals: `true`, `false`, `null`;
- numbers: IEEE-754 binary64 values written as ECMAScript's Number::toString (ECMA-262
  section 7.1.12.1) writes them: the shortest digit string that reads back to the same double
  (Python's `repr` finds those digits), then, with k digits and decimal exponent n (value =
  0.d1d2...dk x 10^n):
  k <= n <= 21: the digits and n-k zeros (`1e+20` -> `100000000000000000000`; `1.0` -> `1`);
  0 < n <= 21: a decimal point after n digits (`4.5`);
  -6 < n <= 0: `0.` and -n zeros, then the digits (`0.002`, `1e-06` -> `0.000001`);
  otherwise exponent form: `d` or `d.ddd`, then `e+` or `e-` and the exponent without
  leading zeros (`1e+21`, `1e-7`, `1.5e+300`); -0 is `0`.
  NaN and the infinities are refused.

Python ints are written in decimal when |n| <= 2^53 - 1 (they are exactly binary64 values and
other JCS implementations, which parse to doubles, write the same digits); larger ones are
refused rather than silently rounded. `bool` is JSON's true/false, never a number.
"""
from __future__ import annotations

import math
from typing import Any

#: the largest integer every binary64 reader holds exactly (2^53 - 1)
MAX_SAFE_INTEGER = 2**53 - 1

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class JCSError(ValueError):
    """A value JCS cannot represent (NaN, infinity, an int beyond 2^53 - 1, a non-string key, ...)."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON-like value (dict, list/tuple, str, int, float, bool, None)."""
    parts: list[str] = []
    _write(value, parts, "$")
    return "".join(parts).encode("utf-8")


def number(x: float | int) -> str:
    """ECMAScript Number::toString of `x` as a binary64 value (what JCS writes for a number)."""
    if isinstance(x, bool):
        raise JCSError(f"{x!r} is a boolean, not a number")
    if isinstance(x, int):
        if abs(x) > MAX_SAFE_INTEGER:
            raise JCSError(f"integer {x} is beyond ±(2^53 - 1): JSON readers would round it; write it as a string")
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        raise JCSError(f"{x!r} has no JSON form (JCS refuses NaN and infinities)")
    if x == 0:
        return "0"  # +0 and -0 alike
    sign = "-" if x < 0 else ""
    digits, n = _shortest(abs(x))
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def _shortest(x: float) -> tuple[str, int]:
    """(digits, n) with x = 0.digits x 10^n, digits the shortest round-trip decimal string of the
    positive finite double `x`, no leading or trailing zeros. Python's repr (David Gay's
    algorithm, correctly rounded, ties to even) yields the same digits ECMAScript requires: the
    fewest digits k that read back to x, and among those the one closest to x."""
    text = repr(x)
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # position of the decimal point relative to the start of `whole + fraction`
    point = len(whole) + (int(exponent) if exponent else 0)
    leading = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    n = point - leading
    digits = digits.rstrip("0")
    return digits, n


def _string(text: str, where: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise JCSError(f"{where}: string holds a lone surrogate U+{code:04X}, which has no UTF-8 form")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def _write(value: Any, parts: list[str], where: str) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, (int, float)):
        try:
            parts.append(number(value))
        except JCSError as exc:
            raise JCSError(f"{where}: {exc}") from None
    elif isinstance(value, str):
        parts.append(_string(value, where))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise JCSError(f"{where}: object key {key!r} is not a string")
        parts.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                parts.append(",")
            parts.append(_string(key, where))
            parts.append(":")
            _write(value[key], parts, f"{where}.{key}")
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _write(item, parts, f"{where}[{i}]")
        parts.append("]")
    else:
        raise JCSError(f"{where}: {type(value).__name__} {value!r} is not a JSON value")
