"""python -m refverify RUN --rpc URL: check a run folder against its chain; exit 0 OK, 1 FAIL, 2 UNSUPPORTED."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from refverify.checks import verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m refverify", description=__doc__)
    parser.add_argument("run", type=Path, help="the run folder (task.json, chain.json, artifacts/)")
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain holding the run's task, e.g. "
                                                     "http://127.0.0.1:8545")
    args = parser.parse_args(argv)
    result = verify(args.run, args.rpc)
    for verdict in result.verdicts:
        print(verdict.line())
    word = {0: "OK", 1: "FAILED", 2: "UNSUPPORTED"}[result.exit_code]
    print(f"refverify: {word}: {len(result.verdicts) - 1} round(s) of {args.run}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
