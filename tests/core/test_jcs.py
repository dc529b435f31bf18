"""RFC 8785 (JCS) serialization: the RFC's own examples, its number table, and the config hash built on it."""
import struct

import pytest
from eth_utils import keccak

from fl.core import config, jcs


def from_hex(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


# RFC 8785, Appendix B: IEEE-754 binary64 bit patterns and their JCS (ECMAScript) form
RFC_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize("bits,expected", RFC_NUMBERS)
def test_rfc_appendix_b_numbers(bits, expected):
    assert jcs.number(from_hex(bits)) == expected


@pytest.mark.parametrize("value,expected", [
    (1.0, "1"), (-1.0, "-1"), (0.1, "0.1"), (1e-05, "0.00001"), (1e-07, "1e-7"), (1.5e-07, "1.5e-7"),
    (1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789012345680000.0, "123456789012345680000"),
    (4.5, "4.5"), (0.002, "0.002"), (1e30, "1e+30"), (1e-27, "1e-27"), (-0.0, "0"), (0.5, "0.5"),
    (100.0, "100"), (1.5e300, "1.5e+300"), (2.0**53 - 1, "9007199254740991"), (0.01, "0.01"),
    (2**53 - 1, "9007199254740991"), (-(2**53 - 1), "-9007199254740991"), (0, "0"), (42, "42"),
])
def test_ecmascript_number_forms(value, expected):
    assert jcs.number(value) == expected


@pytest.mark.parametrize("value,message", [
    (float("nan"), "nan has no JSON form"), (float("inf"), "inf has no JSON form"),
    (float("-inf"), "-inf has no JSON form"), (2**53, "integer 9007199254740992 is beyond"),
    (-(2**53), "integer -9007199254740992 is beyond"),
])
def test_refused_numbers(value, message):
    with pytest.raises(jcs.JCSError, match=message):
        jcs.canonicalize({"train": {"lr": value}})
    with pytest.raises(jcs.JCSError, match=r"^\$\.train\.lr: "):
        jcs.canonicalize({"train": {"lr": value}})


def test_rfc_section_3_2_2_example():
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert jcs.canonicalize(value) == expected.encode("utf-8")


def test_rfc_section_3_2_3_sorting_by_utf16_code_units():
    value = {
        "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = jcs.canonicalize(value).decode("utf-8")
    order = ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
             "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"]
    assert [out.index(v) for v in order] == sorted(out.index(v) for v in order)
    # by code point the emoji (U+1F600) would sort after U+FB33; by UTF-16 units (0xD83D...) before
    assert out.index("Emoji") < out.index("Hebrew")


def test_string_escapes_and_structure():
    assert jcs.canonicalize({"b": [1, "x"], "a": {}}) == b'{"a":{},"b":[1,"x"]}'
    assert jcs.canonicalize("\x00\x1f\x7f\b\t\n\f\r/") == b'"\\u0000\\u001f\x7f\\b\\t\\n\\f\\r/"'
    assert jcs.canonicalize([]) == b"[]"
    assert jcs.canonicalize(None) == b"null"
    with pytest.raises(jcs.JCSError, match=r"object key 1 is not a string"):
        jcs.canonicalize({1: 2})
    with pytest.raises(jcs.JCSError, match="lone surrogate U\\+D800"):
        jcs.canonicalize("\ud800")
    with pytest.raises(jcs.JCSError, match="set .* is not a JSON value"):
        jcs.canonicalize({"a": {1}})


def test_config_hash_is_keccak_of_jcs_and_ignores_float_spelling():
    cfg = config.build(None, {"train.lr": 0.01})
    assert cfg.canonical_json() == jcs.canonicalize(cfg.task_dict())
    assert b'"fraction":1,' in cfg.canonical_json()  # 1.0 written as ECMAScript does: 1
    assert b'"lr":0.01,' in cfg.canonical_json()
    assert cfg.config_hash() == "0x" + keccak(jcs.canonicalize(cfg.task_dict())).hex()
    # an algorithm parameter written 1 or 1.0 (free-form, so not coerced) hashes alike: Python's json
    # module writes "1" and "1.0", JCS writes both as 1
    one = config.build(None, {"algorithm.name": "fedprox", "algorithm.params": {"mu": 1}})
    one_point_zero = config.build(None, {"algorithm.name": "fedprox", "algorithm.params": {"mu": 1.0}})
    assert one.config_hash() == one_point_zero.config_hash()
    assert b'"params":{"mu":1}' in one_point_zero.canonical_json()


def test_numbers_match_nodes_number_to_string():
    """5,000 random doubles (all bit patterns, and every decimal magnitude) written as Node.js writes them."""
    import math
    import random
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    rng = random.Random(8785)
    values = []
    while len(values) < 5000:
        x = (struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0] if len(values) % 2
             else rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30))
        if math.isfinite(x):
            values.append(x)
    script = ("const lines = require('fs').readFileSync(0, 'utf8').trim().split('\\n');"
              "console.log(lines.map(h => String(Buffer.from(h, 'hex').readDoubleBE(0))).join('\\n'))")
    written = subprocess.run([node, "-e", script], input="\n".join(struct.pack(">d", x).hex() for x in values),
                             capture_output=True, text=True, check=True, timeout=60).stdout.split("\n")
    assert [jcs.number(x) for x in values] == written[:len(values)]
