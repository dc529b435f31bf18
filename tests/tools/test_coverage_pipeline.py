"""`make coverage` (toolchain/coverage.py): contract coverage that counts what ran and only that.

The last test runs the whole pipeline (`brownie test --coverage -p toolchain.coverage`) on a
one-contract project in a temporary folder: a contract with an `immutable` (stock Brownie records
nothing for it), one branch taken both ways, one function no test calls.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from toolchain import coverage

ROOT = Path(__file__).resolve().parents[2]

PUSH32_ZERO = "7f" + "00" * 32
PUSH1_1 = "6001"


def test_immutable_placeholders_are_masked_and_nothing_else():
    expected = PUSH1_1 + PUSH32_ZERO + "00"
    filled = PUSH1_1 + "7f" + "ab" * 32 + "00"
    assert coverage.mask_immutables(expected, filled) == expected
    # a byte outside an immutable's placeholder still counts as a difference
    assert coverage.mask_immutables(expected, "6002" + "7f" + "ab" * 32 + "00") != expected
    # so does a PUSH32 whose operand in the build is not zero (a constant, not an immutable)
    constant = PUSH1_1 + "7f" + "01" * 32 + "00"
    assert coverage.mask_immutables(constant, filled) != constant


def test_records_of_the_tracer_shape_merge():
    merged = coverage.merge_coverage([{"A": {"1": [[0], [], [3]]}}, {"A": {"1": [[1], [3], []]}, "B": {"2": [[5], [], []]}}])
    assert merged == {"A": {"1": {0: {0, 1}, 1: {3}, 2: {3}}}, "B": {"2": {0: {5}, 1: set(), 2: set()}}}


TINY = """\
// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

contract Tiny {
    error TooBig(uint256 value, uint256 limit);
    error Never();
    error ZeroLimit(uint256 given);
    error NegativeLimit();

    uint256 public immutable limit;
    uint256 public value;

    constructor(uint256 limit_) {
        if (limit_ == 0) revert ZeroLimit(limit_);
        if (limit_ > 1000) revert NegativeLimit();
        limit = limit_;
    }

    function set(uint256 x) external {
        if (x > limit) revert TooBig(x, limit);
        value = x;
    }

    function small(uint256 x) external {
        if (x > 100) revert TooBig(x, 100);
        require(x != 7, "seven");
        value = x;
    }

    function unreached(uint256 x) external {
        if (x == 0) revert Never();
        value = x + 1;
    }
}
"""

TINY_TEST = """\
import brownie


def test_set(Tiny, accounts):
    tiny = Tiny.deploy(10, {"from": accounts[0]})
    tiny.set(3, {"from": accounts[0]})
    tiny.set(4, {"from": accounts[0]})
    with brownie.reverts("TooBig: 11, 10"):
        tiny.set(11, {"from": accounts[0]})
    tiny.small(1, {"from": accounts[0]})
    with brownie.reverts("ZeroLimit: 0"):
        Tiny.deploy(0, {"from": accounts[0]})
"""

TINY_CONFTEST = """\
import socket

from brownie._config import CONFIG


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CONFIG.networks["ganache-local"]["cmd_settings"]["port"] = _free_port()
"""


def test_the_pipeline_reports_the_taken_branch_as_hit_and_the_untouched_function_as_missed(tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "contracts" / "Tiny.sol").write_text(TINY)
    (tmp_path / "tests" / "test_tiny.py").write_text(TINY_TEST)
    (tmp_path / "tests" / "conftest.py").write_text(TINY_CONFTEST)
    (tmp_path / "brownie-config.yaml").write_text(textwrap.dedent("""\
        compiler:
          evm_version: istanbul
          solc:
            version: 0.8.24
        """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    brownie = Path(sys.executable).parent / "brownie"
    done = subprocess.run([str(brownie), "test", "tests/test_tiny.py", "--coverage", "-p", "toolchain.coverage",
                           "--network", "ganache-local"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    raw = json.loads((tmp_path / coverage.RAW).read_text())
    files = coverage.measure(raw, tmp_path / "build" / "contracts", root=tmp_path)
    tiny = files["contracts/Tiny.sol"]
    source = TINY.encode()

    def offsets(snippet):
        start = source.index(snippet.encode())
        return start, start + len(snippet.encode())

    hit = {source[s:e].decode() for s, e in tiny.statements_hit}
    missed = {source[s:e].decode() for s, e in tiny.statements - tiny.statements_hit}
    assert "value = x" in hit
    assert "value = x + 1" in missed and not any("+ 1" in h for h in hit)
    # `x > limit` held (11) and failed (3, 4); `x == 0` never evaluated
    assert offsets("x > limit") in tiny.branches_true and offsets("x > limit") in tiny.branches_false
    # only ever called with 1: an `if` (solc jumps when it fails) and a `require` (jumps when it holds)
    assert offsets("x > 100") in tiny.branches_false and offsets("x > 100") not in tiny.branches_true
    assert offsets("x != 7") in tiny.branches_true and offsets("x != 7") not in tiny.branches_false
    assert offsets("x == 0") in tiny.branches and offsets("x == 0") not in tiny.branches_true | tiny.branches_false
    # a constructor's revert: by the error a deployment reverted with (creation is not traced)
    assert [(s.error, s.function, s.hit) for s in tiny.reverts] == [
        ("ZeroLimit", "constructor", True), ("NegativeLimit", "constructor", False),
        ("TooBig", "set", True), ("TooBig", "small", False), ("Never", "unreached", False)]
    never_line = TINY[:TINY.index("revert Never")].count("\n") + 1
    table = coverage.table(files, ["tests/test_tiny.py"])
    assert "| `contracts/Tiny.sol` |" in table
    assert f"`contracts/Tiny.sol:{never_line}` `Never` in `unreached`" in table
    assert "`NegativeLimit` in `constructor`" in table and "`TooBig` in `small`" in table
    assert "`TooBig` in `set`" not in table


def test_the_contract_tests_are_found_by_folder_and_by_what_they_assert(tmp_path):
    for folder in ("contracts", "run", "ml", "tools"):
        (tmp_path / "tests" / folder).mkdir(parents=True)
    (tmp_path / "tests" / "contracts" / "test_token.py").write_text("def test_z():\n    assert True\n")
    (tmp_path / "tests" / "run" / "test_rules.py").write_text("import brownie\n\ndef test_x():\n    with brownie.reverts('E'):\n        pass\n")
    (tmp_path / "tests" / "ml" / "test_math.py").write_text("def test_y():\n    assert 1 + 1 == 2\n")
    (tmp_path / "tests" / "tools" / "test_coverage_pipeline.py").write_text("TINY_TEST = 'brownie.reverts('\n")
    assert coverage.default_tests(tmp_path) == ["tests/contracts/test_token.py", "tests/run/test_rules.py"]
