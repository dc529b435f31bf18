"""RFC 8785 JSON Canonicalization Scheme (JCS), written from the RFC (VERIFY.md, "Canonical JSON").

Keys are sorted by their UTF-16 code units, there is no whitespace, strings are escaped as
RFC 8785 section 3.2.2.2 says and numbers are written as ECMAScript's Number.prototype.toString
writes them. Integers must lie within +-(2^53 - 1); NaN and infinities are refused.
"""
from __future__ import annotations

import math

MAX_SAFE_INTEGER = 2 ** 53 - 1
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class JCSError(ValueError):
    """A value JCS cannot serialize."""


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def number(value: float) -> str:
    """ECMAScript Number-to-String of a finite binary64 value (ECMA-262, Number::toString)."""
    if not math.isfinite(value):
        raise JCSError(f"JCS cannot serialize {value!r}")
    if value == 0:
        return "0"  # +0 and -0 both
    sign = "-" if value < 0 else ""
    # repr gives the shortest digit string that round-trips, which is what ECMAScript picks
    text = repr(abs(value))
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # value = 0.whole frac x 10^(len(whole)) ... ; compute n with value = digits x 10^(n - k)
    point = len(whole) + (int(exp) if exp else 0)
    leading_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    n = point - leading_zeros
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp_text = ("+" if e >= 0 else "-") + str(abs(e))
        body = digits + "e" + exp_text if k == 1 else digits[0] + "." + digits[1:] + "e" + exp_text
    return sign + body


def _value(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise JCSError(f"JCS: integer {value} is outside +-(2^53 - 1)")
        return str(value)
    if isinstance(value, float):
        return number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise JCSError(f"JCS: object key {key!r} is not a string")
        keys = sorted(value, key=lambda s: s.encode("utf-16-be"))
        return "{" + ",".join(_string(k) + ":" + _value(value[k]) for k in keys) + "}"
    raise JCSError(f"JCS cannot serialize a {type(value).__name__}: {value!r}")


def canonicalize(value) -> bytes:
    """The JCS bytes (UTF-8) of a JSON value made of dict, list, str, int, float, bool and None."""
    try:
        return _value(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JCSError(f"JCS: a string holds a lone surrogate ({exc.reason})") from None
