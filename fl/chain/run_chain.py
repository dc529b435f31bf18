"""The chain that holds a run's task: relaunched from the run folder when the run kept its chain
state, else the network the caller names (or the one the run recorded)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fl.core.errors import UserError


@contextmanager
def run_chain(run_path, network: str | None = None, what: str = "reach") -> Iterator[dict]:
    """Connected to the chain that holds the task of the run folder `run_path`; yields its chain.json.
    `what` completes the error message ("... {what} it against the chain that holds its task")."""
    from fl.chain.network import connected

    run = Path(run_path)
    for name in ("task.json", "chain.json"):
        if not (run / name).is_file():
            raise UserError(f"{run} is not a run folder: {name} is missing")
    info = json.loads((run / "chain.json").read_text())
    if info.get("simulation_only"):
        raise UserError(f"run {run} ran with the chain off (simulation only): nothing was committed, "
                        f"nothing to {what}")
    db = run / "chain" if info.get("db_path") and network is None else None
    with connected(network or info["network"], db_path=db) as session:
        if db is None and session.launched:
            raise UserError(f"run {run} kept no chain state; {what} it against the chain that holds its task "
                            f"{info['contract']} with --network")
        yield info


@contextmanager
def run_task(run_path, network: str | None = None, what: str = "verify") -> Iterator:
    """The task of the run folder `run_path` (a TaskChain) on the run's chain (see `run_chain`)."""
    from fl.chain.task import TaskChain

    with run_chain(run_path, network, what) as info:
        yield TaskChain.attach(info["contract"])
