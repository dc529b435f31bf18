"""Statement and branch coverage of the project's contracts under their tests (`make coverage`).

`python -m toolchain.coverage [--readme] [--missed] [--no-run] [TEST_FILE ...]` runs
`brownie test --coverage -p toolchain.coverage` on the contract test modules (CONTRACT_TESTS,
every test module of `tests/contracts/` and every other one using `brownie.reverts(`; or the files
named on the command line), then prints one row per
source file in `contracts/` (not `contracts/mocks/`, not OpenZeppelin, not `interfaces/`):

- statements: hit / total, Brownie's statement map (constructors are not part of it: Brownie
  does not trace contract creation);
- branches: outcomes hit / (2 x branch points); a branch point is a condition of an `if`, a
  `require`, a `?:` or each side of a `&&`/`||`; each is counted once as taken and once as not;
- reverts: `revert Error(...)` sites hit / total, and every site never hit, by file and line.

A file compiled into several contracts (a library, a base contract and its mock) counts once:
its statements and branches are keyed by their byte offsets in the file, hit if any contract
ran them. With `--readme` the table goes into README.md between `<!-- contract-coverage:begin -->`
and `<!-- contract-coverage:end -->` (fl.tools.readme.replace_section). The exit status is brownie's
(non-zero when a test failed), after the table is printed; README.md is only written when every
test passed.

Two things stop stock `brownie test --coverage` (eth-brownie 1.22.2) on these contracts, and this
module, loaded as a pytest plugin (`-p toolchain.coverage`), patches both while `--coverage` is on:

1. No coverage for a contract with `immutable` variables. After a deploy Brownie compares the
   chain's code with the build's `deployedBytecode` (`brownie.network.contract._verify_deployed_code`)
   and on a mismatch deletes the contract's `pcMap`, so no trace is ever mapped to its source.
   The code always differs for such a contract: solc leaves each immutable as a `PUSH32` of 32
   zero bytes in `deployedBytecode` and the constructor fills it in. The patch repeats the
   comparison with the bytes under those zero `PUSH32`s masked in the chain's code; every other
   byte must still match. The contracts under test are the real ones, unmodified.
2. The report crashes with `TypeError: dict object expected; got list`: Brownie's compiled
   (mypyc) `brownie.test.coverage.get_merged_coverage_eval` declares the per-file record as a
   dict but the tracer stores a list `[statements, branches not jumped, branches jumped]`; the
   type check fires as soon as two transactions touched the same file. The patch merges in plain
   Python. The compiled console and JSON reports (`brownie.test.output`) then fail on the next
   wrongly declared type (`dict object expected; got tuple[int, int]`), so the patch replaces
   them with one line; this module's table is the report (Brownie's GUI report is not written).

The plugin also records, for the revert sites, the source range of every traced instruction
(`TransactionReceipt._expand_trace`) and the selector of every custom error that a contract
creation reverted with (`decode_typed_error` while an account deploys). A site outside a
constructor is hit when an instruction mapped inside its `revert ...;` ran (for `if (a || b)
revert E();` that is either operand holding); a constructor's site (creation is not traced) when
a deployment reverted with its error. Brownie's per-test-module coverage cache (`build/tests.json`) is
removed before the run so that every transaction is traced. Raw data: reports/contract-coverage.json;
`--no-run` reports on it again without running the tests, `--missed` lists every statement and
branch outcome no test reached, with its file, line and source.

Limits of Brownie's maps, reported as they are: a condition inside a modifier (`onlyAggregator`)
shows as never held nor failed even when its `revert` site is reached (the site column is right);
`if (a || b)` and `!x` conditions are split and mapped by Brownie's own rules. Calls are sent as
transactions under `--coverage` (Brownie's `always_transact`) and every transaction is traced with
memory and stack, so the run takes several times longer than the same tests without coverage.

Why not the alternatives: compiling a copy of the project with `immutable` stripped would measure
other bytecode (storage reads instead of immutables, different gas) and cost a second compile of
every contract; solidity-coverage instruments sources for Hardhat or Truffle and Foundry's
`forge coverage` runs Solidity tests, so both would need the Python tests rewritten.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = Path("reports") / "contract-coverage.json"
SECTION = "contract-coverage"
CONTRACT_TESTS = ("tests/contracts",)  # every test module in it

# runs `brownie test --coverage` itself, on a project of its own
NOT_CONTRACT_TESTS = ("tests/tools/test_coverage_pipeline.py",)

# --- pytest plugin: active only under `brownie test --coverage` ------------------------------------

_EXECUTED: set[tuple[str, int, int]] = set()  # (source path, start, end) of every traced instruction
_SELECTORS: set[str] = set()  # custom error selectors that came back from a contract creation
_DEPLOYING: list[bool] = []


def mask_immutables(expected: str, actual: str) -> str:
    """`actual` (hex, no 0x) with the operand of every `PUSH32 0` of `expected` zeroed: the places
    where solc left an immutable for the constructor to fill in."""
    code, chain = bytes.fromhex(expected), bytearray(bytes.fromhex(actual))
    if len(code) != len(chain):
        return actual
    i = 0
    while i < len(code):
        op = code[i]
        if 0x60 <= op <= 0x7F:  # PUSH1..PUSH32
            width = op - 0x5F
            if op == 0x7F and code[i + 1:i + 33] == bytes(32):
                chain[i + 1:i + 33] = bytes(32)
            i += 1 + width
        else:
            i += 1
    return chain.hex()


def merge_coverage(evals) -> dict:
    """Brownie's per-transaction coverage records merged: {contract: {path id: {0, 1, 2: set}}}."""
    merged: dict = {}
    for record in evals:
        for name, paths in record.items():
            for path, sets in paths.items():
                target = merged.setdefault(name, {}).setdefault(path, {0: set(), 1: set(), 2: set()})
                for key in range(3):
                    target[key].update(sets[key] if isinstance(sets, (list, tuple)) else sets.get(key, sets.get(str(key), ())))
    return merged


def _install_patches() -> None:
    import brownie.exceptions
    import brownie.network.account as account_module
    import brownie.network.contract as contract_module
    import brownie.network.transaction as transaction_module
    import brownie.test.coverage as coverage_module
    import brownie.test.output as output_module
    from brownie import web3

    verify = contract_module._verify_deployed_code

    def verify_with_immutables(address, expected_bytecode, language):
        if verify(address, expected_bytecode, language):
            return True
        if language != "Solidity" or "_" in expected_bytecode:
            return False
        actual = web3.eth.get_code(address).hex().removeprefix("0x")
        masked = mask_immutables(expected_bytecode.removeprefix("0x"), actual)
        return masked == expected_bytecode.removeprefix("0x")

    contract_module._verify_deployed_code = verify_with_immutables
    coverage_module.get_merged_coverage_eval = lambda cov_eval=None: merge_coverage(
        (cov_eval if cov_eval is not None else coverage_module._coverage_eval).values())

    decode = brownie.exceptions.decode_typed_error

    def recording_decode(data):
        if _DEPLOYING and isinstance(data, str) and len(data) >= 10:
            _SELECTORS.add(data[:10].lower())
        return decode(data)

    for module in (brownie.exceptions, contract_module, transaction_module):
        module.decode_typed_error = recording_decode

    deploy = account_module._PrivateKeyAccount.deploy

    def recording_deploy(self, *args, **kwargs):
        _DEPLOYING.append(True)
        try:
            return deploy(self, *args, **kwargs)
        finally:
            _DEPLOYING.pop()

    account_module._PrivateKeyAccount.deploy = recording_deploy

    expand = transaction_module.TransactionReceipt._expand_trace

    def expand_and_record(self):
        expand(self)
        for step in self._trace or ():
            source = step.get("source")
            if source:
                _EXECUTED.add((source["filename"], *source["offset"]))

    transaction_module.TransactionReceipt._expand_trace = expand_and_record

    # Brownie's compiled console and JSON reports fail on the same type checks (also on a record
    # of the declared shape: "dict object expected; got tuple[int, int]"); the table printed by
    # `python -m toolchain.coverage` takes their place.
    output_module._build_coverage_output = lambda coverage_eval: [f"  written to {RAW}; the table follows"]
    output_module._save_coverage_report = lambda build, coverage_eval, report_path: report_path


def pytest_configure(config):
    if config.getoption("coverage", default=False):
        _install_patches()


def pytest_sessionfinish(session):
    if not session.config.getoption("coverage", default=False):
        return
    import brownie.test.coverage as coverage_module

    merged = merge_coverage(coverage_module.get_coverage_eval().values())
    out = Path(session.config.rootpath) / RAW
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "eval": {name: {path: [sorted(s[0]), sorted(s[1]), sorted(s[2])] for path, s in paths.items()}
                 for name, paths in merged.items()},
        "executed": sorted(_EXECUTED),
        "selectors": sorted(_SELECTORS),
    }))


# --- the report ---------------------------------------------------------------------------------


@dataclass
class RevertSite:
    path: str
    line: int
    error: str
    function: str
    start: int
    end: int
    selector: str
    hit: bool = False


@dataclass
class FileCoverage:
    path: str
    statements: set = field(default_factory=set)
    statements_hit: set = field(default_factory=set)
    branches: set = field(default_factory=set)
    branches_true: set = field(default_factory=set)  # the condition held
    branches_false: set = field(default_factory=set)
    reverts: list = field(default_factory=list)

    @property
    def branch_outcomes_hit(self) -> int:
        return len(self.branches_true) + len(self.branches_false)


def measured_file(path: str) -> bool:
    return path.startswith("contracts/") and not path.startswith("contracts/mocks/") and path.endswith(".sol")


def _selector(abi: list, name: str) -> str:
    from eth_utils import keccak

    def canonical(param):
        kind = param["type"]
        if kind.startswith("tuple"):
            return "(" + ",".join(canonical(p) for p in param["components"]) + ")" + kind[5:]
        return kind

    for item in abi:
        if item.get("type") == "error" and item["name"] == name:
            signature = f"{name}({','.join(canonical(p) for p in item['inputs'])})"
            return "0x" + keccak(text=signature).hex()[:8]
    return ""


def _revert_sites(build: dict, root: Path) -> list[RevertSite]:
    """Every `revert Error(...)` in the build's own source file, from its AST."""
    source = (root / build["sourcePath"]).read_bytes()
    sites: list[RevertSite] = []

    def walk(node, function):
        if isinstance(node, list):
            for child in node:
                walk(child, function)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("nodeType")
        if kind in ("FunctionDefinition", "ModifierDefinition"):
            function = "constructor" if node.get("kind") == "constructor" else node.get("name") or node.get("kind")
        if kind == "RevertStatement":
            start, length, _ = (int(x) for x in node["src"].split(":"))
            name = node["errorCall"]["expression"].get("name") or node["errorCall"]["expression"].get("memberName")
            sites.append(RevertSite(build["sourcePath"], source.count(b"\n", 0, start) + 1, name, function,
                                    start, start + length, _selector(build["abi"], name)))
        for value in node.values():
            if isinstance(value, (dict, list)):
                walk(value, function)

    walk(build["ast"], None)
    return sites


def measure(raw: dict, build_dir: Path, root: Path = ROOT) -> dict[str, FileCoverage]:
    """Coverage per measured source file from the plugin's raw record and the build artifacts."""
    files: dict[str, FileCoverage] = {}
    executed: dict[str, list[tuple[int, int]]] = {}
    for path, start, end in raw["executed"]:
        executed.setdefault(path, []).append((start, end))
    selectors = set(raw["selectors"])
    for artifact in sorted(build_dir.glob("*.json")):
        build = json.loads(artifact.read_text())
        if "coverageMap" not in build:
            continue
        paths = build["allSourcePaths"]
        hits = raw["eval"].get(build["contractName"], {})
        for kind in ("statements", "branches"):
            for path_id, functions in build["coverageMap"][kind].items():
                path = paths[path_id]
                if not measured_file(path):
                    continue
                cov = files.setdefault(path, FileCoverage(path))
                hit = hits.get(path_id, [[], [], []])
                for entries in functions.values():
                    for index, offset in entries.items():
                        key = (offset[0], offset[1])
                        if kind == "statements":
                            cov.statements.add(key)
                            if int(index) in hit[0]:
                                cov.statements_hit.add(key)
                            continue
                        cov.branches.add(key)
                        jumped, fell_through = int(index) in hit[2], int(index) in hit[1]
                        # offset[2]: a jump means the condition held (false for an `if`: solc jumps past it)
                        held, failed = (jumped, fell_through) if offset[2] else (fell_through, jumped)
                        if held:
                            cov.branches_true.add(key)
                        if failed:
                            cov.branches_false.add(key)
        if measured_file(build["sourcePath"]) and build["sourcePath"] in files:
            cov = files[build["sourcePath"]]
            known = {(s.start, s.end) for s in cov.reverts}
            for site in _revert_sites(build, root):
                if (site.start, site.end) in known:
                    continue
                if site.function == "constructor":
                    site.hit = site.selector in selectors
                else:
                    site.hit = any(site.start <= s and e <= site.end for s, e in executed.get(site.path, ()))
                cov.reverts.append(site)
    for cov in files.values():
        cov.reverts.sort(key=lambda s: s.start)
    return dict(sorted(files.items()))


def _pct(hit: int, total: int) -> str:
    return f"{100 * hit / total:.1f}%" if total else "-"


def table(files: dict[str, FileCoverage], tests: list[str], seconds: float | None = None) -> str:
    rows = ["| contract | statements | branches (outcomes) | `revert` sites hit |", "|---|---|---|---|"]
    totals = [0, 0, 0, 0, 0, 0]
    for path, cov in files.items():
        numbers = (len(cov.statements_hit), len(cov.statements), cov.branch_outcomes_hit, 2 * len(cov.branches),
                   sum(s.hit for s in cov.reverts), len(cov.reverts))
        totals = [a + b for a, b in zip(totals, numbers)]
        rows.append(f"| `{path}` | {numbers[0]}/{numbers[1]} ({_pct(*numbers[0:2])}) | "
                    f"{numbers[2]}/{numbers[3]} ({_pct(*numbers[2:4])}) | {numbers[4]}/{numbers[5]} |")
    rows.append(f"| all | {totals[0]}/{totals[1]} ({_pct(*totals[0:2])}) | "
                f"{totals[2]}/{totals[3]} ({_pct(*totals[2:4])}) | {totals[4]}/{totals[5]} |")
    missed = [s for cov in files.values() for s in cov.reverts if not s.hit]
    lines = rows + [""]
    if missed:
        lines.append("`revert` sites no test reaches:")
        lines.append("")
        lines += [f"- `{s.path}:{s.line}` `{s.error}` in `{s.function}`" for s in missed]
    else:
        lines.append("Every `revert` site is reached by a test.")
    took = f" in {seconds:.0f} s (wall clock, tests and tracing)" if seconds is not None else ""
    lines += ["", f"Measured by `make coverage` over {', '.join(f'`{Path(t).name}`' for t in tests)}{took}."]
    return "\n".join(lines)


def missed(files: dict[str, FileCoverage], root: Path = ROOT) -> str:
    """Every statement and branch outcome no test reached, by file and line, with its source."""
    lines = []
    for path, cov in files.items():
        source = (root / path).read_bytes()

        def where(offset):
            start, end = offset
            text = " ".join(source[start:end].decode(errors="replace").split())
            line = source.count(b"\n", 0, start) + 1
            return f"{path}:{line}  {text[:90]}"

        lines += [f"statement  {where(o)}" for o in sorted(cov.statements - cov.statements_hit)]
        lines += [f"never true  {where(o)}" for o in sorted(cov.branches - cov.branches_true)]
        lines += [f"never false {where(o)}" for o in sorted(cov.branches - cov.branches_false)]
    return "\n".join(lines) or "nothing missed"


def default_tests(root: Path = ROOT) -> list[str]:
    """Every test module of CONTRACT_TESTS (tests/contracts/), and every other one that asserts a
    revert with `brownie.reverts(` (what a contract test does), this pipeline's own test excepted."""
    found = {m.relative_to(root).as_posix() for folder in CONTRACT_TESTS for m in (root / folder).glob("test_*.py")}
    for module in (root / "tests").rglob("test_*.py"):
        name = module.relative_to(root).as_posix()
        if name in NOT_CONTRACT_TESTS:
            continue
        if "contract" in module.name or "brownie.reverts(" in module.read_text():
            found.add(name)
    return sorted(found)


def run(tests: list[str], root: Path = ROOT) -> int:
    """`brownie test --coverage` with this plugin over `tests`; returns brownie's exit status."""
    (root / "build" / "tests.json").unlink(missing_ok=True)
    (root / RAW).unlink(missing_ok=True)
    brownie = Path(sys.executable).parent / "brownie"
    return subprocess.call([str(brownie), "test", *tests, "--coverage", "-p", "toolchain.coverage"], cwd=root)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m toolchain.coverage", description=__doc__.split("\n")[0])
    parser.add_argument("tests", nargs="*", help="test files (default: the contract tests)")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--missed", action="store_true",
                        help="also list every statement and branch outcome no test reached")
    parser.add_argument("--no-run", action="store_true", help=f"report on the last run's record ({RAW})")
    args = parser.parse_args(argv)
    tests = args.tests or default_tests()
    status, seconds = 0, None
    if not args.no_run:
        begun = time.monotonic()
        status = run(tests)
        seconds = time.monotonic() - begun
    if not (ROOT / RAW).exists():
        print(f"error: brownie wrote no coverage record ({RAW}); exit status {status}", file=sys.stderr)
        return status or 1
    files = measure(json.loads((ROOT / RAW).read_text()), ROOT / "build" / "contracts")
    text = table(files, tests, seconds)
    print("\nContract coverage\n\n" + text)
    if args.missed:
        print("\n" + missed(files))
    if args.readme and status != 0:
        print(f"\nREADME.md left alone: the tests failed (exit status {status})", file=sys.stderr)
    elif args.readme:
        sys.path.insert(0, str(ROOT))
        from fl.tools.readme import replace_section

        replace_section(SECTION, text)
        print(f"\nwritten into README.md ({SECTION})")
    return status


if __name__ == "__main__":
    sys.exit(main())
