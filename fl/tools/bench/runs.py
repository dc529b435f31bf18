"""Run one experiment as its own process (so its peak memory and start-up are its own) and
summarize its rounds."""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fl.core.errors import UserError
from fl.core.paths import ROOT


@dataclass
class Measured:
    name: str
    summary: dict

    @property
    def rounds(self) -> list[dict]:
        return self.summary["per_round"]

    def warm(self, field: str) -> float:
        """Median over the rounds after the first (the first pays for warm-up)."""
        values = [r[field] for r in self.rounds]
        return statistics.median(values[1:] or values)


def measure(name: str, runs_dir: Path, clients: int, rounds: int, *, chain: bool = True, network: str | None = None,
            config: str = "configs/fedavg.yaml", extra: tuple[str, ...] = ()) -> Measured:
    args = [sys.executable, "-m", "fl", "run", "--config", config, "--clients", str(clients), "--rounds", str(rounds),
            "--runs-dir", str(runs_dir), "--name", name, "--no-progress", "--set", f"chain.enabled={str(chain).lower()}",
            *(["--network", network] if network else []), *extra]
    print(f"bench: {name} ...", flush=True)
    shutil.rmtree(runs_dir / name, ignore_errors=True)  # else the run goes to <name>-2 and a stale summary is read
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"benchmark run {name} failed (exit {result.returncode}): {result.stderr.strip()[-400:]}")
    return Measured(name, json.loads((runs_dir / name / "summary.json").read_text()))
