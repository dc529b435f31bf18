"""Everything the explorer shows of one run, read from its folder and its chain and cross-checked.

The chain is the run's own (relaunched from the run folder's chain database, as `verify` does),
or, while the run is going, the node it trains on (chain.json's `rpc`). Where the chain cannot
be read, the view holds what the run folder says, with `chain_error` saying why nothing was
cross-checked. The verify verdicts are `fl.audit.verify.verify_task`'s, the code `make verify` runs.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fl.chain.bitmap import from_words
from fl.chain.task import REJECTIONS as CHAIN_REJECTIONS
from fl.core import config
from fl.core.errors import UserError
from fl.core.report import RoundMetrics, RunDir
from fl.features import registry
from fl.features.panel import Panel, PanelSource

#: IFLTask.CommitRejection (fl.chain.task.REJECTIONS), as the page says it: "BadSignature" -> "bad signature"
REJECTIONS = tuple(re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower() for name in CHAIN_REJECTIONS)


@dataclass
class Commitment:
    client: int
    update_hash: str
    tx: str
    block: int
    aggregated: bool
    weight: int | None
    #: a personalized algorithm's `personal.digest`, read from the committed update in artifacts/
    personal_digest: str | None = None


@dataclass
class RoundView:
    round: int
    finalized: bool
    start_model: str
    final_model: str = ""
    selected: list[int] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (client, on-chain reason)
    aggregated: list[int] = field(default_factory=list)
    first_block: int = 0
    last_block: int = 0
    transactions: list = field(default_factory=list)  # fl.chain.history.Transaction
    metrics: RoundMetrics | None = None
    #: where metrics.csv and the chain disagree about this round
    mismatches: list[str] = field(default_factory=list)
    verdict: Any = None  # fl.audit.verify.RoundVerdict

    @property
    def gas(self) -> int:
        return sum(t.gas_used for t in self.transactions)

    @property
    def committed(self) -> list[int]:
        return [c.client for c in self.commitments]

    @property
    def absent(self) -> list[int]:
        """Selected, but no commitment recorded."""
        return [c for c in self.selected if c not in self.committed]


@dataclass
class RunView:
    run: Path
    cfg: Any  # fl.core.config.ExperimentConfig
    info: dict
    summary: dict | None
    metrics: list[RoundMetrics]
    live: bool = False
    chain_error: str | None = None
    history: Any = None  # fl.chain.history.ChainHistory
    rounds: list[RoundView] = field(default_factory=list)
    report: Any = None  # fl.audit.verify.Report
    verify_error: str | None = None
    #: disagreements between the run folder and the chain that belong to no round
    mismatches: list[str] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    clients: dict[int, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def verified(self) -> bool | None:
        """The verify verdict: True, False, or None when it could not run."""
        if self.report is None:
            return None
        if self.live:  # the open round, the outputs and the totals over all rounds (a feature's
            # balances, read at a later block than the rounds) are checked once the run is over
            return not self.report.setup_problems and all(v.ok for v in self.report.rounds if self.settled(v.round))
        return self.report.ok

    def settled(self, number: int) -> bool:
        """Whether round `number` is finalized in this view (a live run's next round may open
        between reading the chain's history and verify's reading of it)."""
        r = self.round(number)
        return r is not None and r.finalized

    def round(self, number: int) -> RoundView | None:
        return next((r for r in self.rounds if r.round == number), None)

    @property
    def total_gas(self) -> int:
        return sum(t.gas_used for t in self.history.transactions) if self.history else sum(m.gas for m in self.metrics)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except json.JSONDecodeError:
        return None  # being written, or damaged: the page says what it could not read


def check_run_folder(run: Path) -> None:
    """A one-line UserError unless `run` is a run folder the explorer can show."""
    if not run.is_dir():
        raise UserError(f"{run} is not a run folder: no such directory (run folders are under runs/)")
    missing = [name for name in ("task.json", "config.yaml") if not (run / name).is_file()]
    if missing:
        raise UserError(f"{run} is not a run folder: {', '.join(missing)} missing (run folders are under runs/)")


def _config(run: Path):
    try:
        return config.build(run / "config.yaml")
    except UserError:
        return config.from_dict(json.loads((run / "task.json").read_text())["config"])


def read_run(run_path, metrics: bool = True, live: bool = False, progress: bool = False) -> RunView:
    """The view of the run folder `run_path`. `metrics`: let verify re-evaluate each round's model
    (as `make verify` does); `live`: the run is still going (read its node; verify what is finalized)."""
    run = Path(run_path)
    check_run_folder(run)
    info = _read_json(run / "chain.json") or {}
    view = RunView(run, _config(run), info, _read_json(run / "summary.json"), RunDir(run).read_metrics(), live=live)
    view.clients = {int(c): a for c, a in info.get("clients", {}).items()}
    if not info:
        view.chain_error = "chain.json is not written yet (the run is starting)" if live else "chain.json is missing"
    elif info.get("simulation_only"):
        view.chain_error = "the run ran with the chain off (simulation only): nothing was committed"
    elif info.get("db_path") and not live and not (run / "chain").is_dir():
        view.chain_error = f"its chain database {run / 'chain'} is gone"
    else:
        try:
            with _chain(run, info, live) as task:
                _read_chain(view, task, metrics and not live, progress)
        except UserError as exc:
            view.chain_error = str(exc)
        except Exception as exc:  # a node that went away mid-read, a damaged database
            view.chain_error = f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}"
    if view.chain_error is not None:
        view.rounds = [RoundView(m.round, True, "", m.global_model, metrics=m) for m in view.metrics]
    _add_panels(view)
    return view


def _chain(run: Path, info: dict, live: bool):
    """The run's TaskChain: on its node while it is live (or, for a run that kept no chain database,
    such as a Flower deployment's, on the node chain.json names), else on its relaunched chain (as `verify`)."""
    from contextlib import contextmanager

    from fl.chain.run_chain import run_task

    @contextmanager
    def on_node(url: str):
        from fl.chain.rpc import rpc_connected
        from fl.chain.task import TaskChain

        with rpc_connected(url):
            yield TaskChain.attach(info["contract"])

    deployment = str(info.get("network", "")).startswith("rpc ")  # a Flower deployment: the chain is its node
    if info.get("rpc") and (live or deployment):
        return on_node(info["rpc"])
    return run_task(run, what="explore")


def _read_chain(view: RunView, task, metrics: bool, progress: bool) -> None:
    from fl.audit.verify import verify_task
    from fl.chain.history import ChainHistory

    contracts: dict[str, tuple[str, str]] = {}
    for provider in registry.panels(view.cfg):
        contracts.update(provider.contracts(view.info, view.run))
    view.history = ChainHistory.of_task(task.address, contracts)
    view.rounds = rounds_of(view.history)
    read_personal_digests(view)
    if not view.clients:
        view.clients = {int(e.args["clientId"]): e.args["client"] for e in view.history.of("task", "ClientRegistered")}
    try:
        view.report = verify_task(view.run, task, metrics=metrics, progress=progress)
    except UserError as exc:
        view.verify_error = str(exc)
    if view.report is not None:
        for verdict in view.report.rounds:
            if view.round(verdict.round):
                view.round(verdict.round).verdict = verdict
    cross_check(view)


def rounds_of(history) -> list[RoundView]:
    """Each round as the task's events and transactions record it."""
    rounds: dict[int, RoundView] = {}
    for e in history.of("task"):
        if "round" not in e.args:
            continue
        number = int(e.args["round"])
        if e.name == "RoundOpened":
            rounds[number] = RoundView(number, False, e.args["globalModelHash"], selected=from_words(e.args["selected"]),
                                       first_block=e.block, last_block=history.last_block)
            continue
        r = rounds.get(number)
        if r is None:
            continue
        if e.name == "UpdateCommitted":
            r.commitments.append(Commitment(int(e.args["clientId"]), e.args["updateHash"], e.tx, e.block, False, None))
        elif e.name == "CommitRejected":
            reason = int(e.args["reason"])
            r.rejected.append((int(e.args["clientId"]), REJECTIONS[reason] if reason < len(REJECTIONS) else str(reason)))
        elif e.name == "RoundFinalized":
            r.finalized, r.final_model, r.last_block = True, e.args["globalModelHash"], e.block
            r.aggregated = from_words(e.args["participants"])
            weights = dict(zip(r.aggregated, e.args["weights"]))
            for c in r.commitments:
                c.aggregated, c.weight = c.client in weights, weights.get(c.client)
    for r in rounds.values():
        r.transactions = [t for t in history.transactions if r.first_block <= t.block <= r.last_block]
    return [rounds[n] for n in sorted(rounds)]


def read_personal_digests(view: RunView) -> None:
    """Under a personalized algorithm, each commitment's `personal.digest` (the hash of the
    client's personal artifact that its update commits to), from the update in the run's
    artifacts/; a missing or damaged update is left to verify, which names it."""
    from fl.core.store import ArtifactStore
    from fl.ml.algorithms import ALGORITHMS
    from fl.ml.algorithms.personal import Personalized, personal_digest

    algorithm = ALGORITHMS.get(view.cfg.algorithm.name)
    if algorithm is None or not issubclass(algorithm, Personalized):
        return
    store = ArtifactStore(view.run / "artifacts")
    for r in view.rounds:
        for c in r.commitments:
            try:
                c.personal_digest = personal_digest(store.get(c.update_hash)[0])
            except (UserError, OSError):
                continue


def cross_check(view: RunView) -> None:
    """Where metrics.csv and summary.json say something else than the chain, say so."""
    by_round = {}
    last_finalized = max((r.round for r in view.rounds if r.finalized), default=None)
    for row in view.metrics:
        by_round.setdefault(row.round, []).append(row)
    for r in view.rounds:
        rows = by_round.pop(r.round, [])
        if not r.finalized:
            if rows:
                r.mismatches.append("metrics.csv has a row for this round, which the chain has not finalized")
            continue
        if not rows and view.live and r.round == last_finalized:
            continue  # finalized a moment ago: its row is being evaluated and written
        if len(rows) != 1:
            r.mismatches.append(f"metrics.csv has {len(rows) or 'no'} row{'s' if len(rows) != 1 else ''} for this round")
            if not rows:
                continue
        m = r.metrics = rows[0]
        if m.global_model.lower() != r.final_model.lower():
            r.mismatches.append(f"metrics.csv says model {m.global_model}, the chain finalized {r.final_model}")
        if m.clients != len(r.aggregated):
            r.mismatches.append(f"metrics.csv says {m.clients} clients aggregated, the chain {len(r.aggregated)}")
        if m.excluded != len(r.selected) - len(r.aggregated):
            r.mismatches.append(f"metrics.csv says {m.excluded} excluded, the chain {len(r.selected) - len(r.aggregated)} "
                                "(selected but not aggregated)")
        if m.txs and (m.gas, m.txs) != (r.gas, len(r.transactions)):
            r.mismatches.append(f"metrics.csv says {m.gas:,} gas in {m.txs} transactions, the chain "
                                f"{r.gas:,} in {len(r.transactions)}")
    for number in sorted(by_round):
        view.mismatches.append(f"metrics.csv has a row for round {number}, which is not on chain")
    if view.summary and view.rounds and not view.live:
        finalized = [r for r in view.rounds if r.finalized]
        last = finalized[-1].final_model if finalized else None
        if str(view.summary.get("final_model", "")).lower() != str(last).lower():
            view.mismatches.append(f"summary.json says the final model is {view.summary.get('final_model')}, "
                                   f"the chain finalized {last}")
        if view.summary.get("rounds") != len(finalized):
            view.mismatches.append(f"summary.json says {view.summary.get('rounds')} rounds, the chain finalized {len(finalized)}")


def _round_blocks(view: RunView) -> dict[int, tuple[int, int]]:
    return {r.round: (r.first_block, r.last_block) for r in view.rounds if r.first_block}


def _add_panels(view: RunView) -> None:
    source = PanelSource(view.run, view.cfg, view.info, view.summary, view.history, view.clients, _round_blocks(view))
    for provider in registry.panels(view.cfg):
        built = provider.panel(source)
        if built is not None:
            view.panels.append(built)
