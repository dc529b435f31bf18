"""What an on-chain mechanism is to the rest of the framework: one `Feature` subclass per mechanism,
listed once in fl/features/registry.py. The run assembly (fl/run/assembly.py) and `verify`
(fl/audit/verify.py) only ever talk to features through this interface.

A feature's life in one run:

1. `enabled(cfg)` / `check(cfg)`: is it asked for, and is its config section sound (a one-line
   UserError otherwise), before anything slow starts. `modes` says which ways of running can
   honour it; the assembly refuses the others.
2. `deploy(setup)` before round 1, or `attach(setup)` when a killed run resumes: deploy or find its
   contracts (usually a round hook of the task) and write what it must remember into
   `setup.info`, the run's chain.json.
3. Every round, through the engine: `trainers(round)` adds clients that must train (committee
   members), `select(...)` narrows the accepted updates once the commitments are in (the
   committee's on-chain selection).
4. `summary(task)`: what summary.json records of it.
5. `audit(...)`: what `verify` checks of it, from the chain and the run folder alone.
6. `contracts(info, run)` / `panel(source)`: the contracts the experiment explorer reads for it and
   its panel there (fl/features/panel.py), so a new mechanism shows in the browser by adding one.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar, Protocol

from fl.core.errors import UserError
from fl.features.panel import Panel, PanelSource
from fl.ml.algorithms.api import State, Update

#: the ways of running a round: every client in one process (the in-process engine), or the
#: clients as Flower ClientApps (Flower's simulation engine, or the SuperNodes of a deployment)
SIMULATION, FLOWER = "simulation", "flower"


class Parties(Protocol):
    """Clients that hold their keys where they run (the Flower engine's nodes): a feature asks
    them to act from their own accounts instead of acting for them."""

    def sign_scores(self, round_: int, requests: dict[int, dict], global_state: State) -> dict[int, bytes | str]:
        """Each committee member's own signed `submitScores` transaction (or why it has none)
        for `requests[member]`: {committed, own, candidates, transaction}."""

    def sign_negotiation(self, client_id: int, task: str, transaction: dict) -> bytes | str:
        """Client `client_id`'s own signed `negotiate(task)` transaction to the watermark registry
        (`transaction`: every field but the data), or why it has none."""


@dataclass
class Setup:
    """What a feature deploys or attaches with: the run's task, its clients and its algorithm."""
    cfg: Any  # fl.core.config.ExperimentConfig
    task: Any  # fl.chain.TaskChain
    client_ids: list[int]
    algorithm: Any  # fl.ml.algorithms.base.Algorithm
    #: the run's chain.json (what a resumed run reads back); features add their entries
    info: dict[str, Any] = field(default_factory=dict)
    #: the features set up before this one, by name (rewards pays the committee set up first)
    features: dict[str, "Feature"] = field(default_factory=dict)
    #: the clients as parties holding their own keys (the Flower engine), or None (keys here)
    parties: Parties | None = None

    def hooks(self) -> dict[str, str]:
        """chain.json's "hooks": the round hooks of the task, by name."""
        return self.info.setdefault("hooks", {})


@dataclass
class RoundEvidence:
    """What `verify` established of one round before the features check it."""
    round: int
    record: Any  # the chain's fl.chain.task.RoundRecord
    updates: dict[int, Update]  # the committed updates whose artifacts load, by client id
    start: State | None  # the round's start model, None where its artifact is missing
    weights: list[int]  # the weights of the RoundFinalized event (ascending participant id)


class FeatureAudit:
    """What `verify` checks of one feature: problems at set-up, per round, and at the end."""

    def __init__(self) -> None:
        self.setup_problems: list[str] = []

    def check(self, evidence: RoundEvidence, verdict) -> None:
        """Add the round's problems (verdict.problems) and notes (verdict.notes)."""

    def finish(self) -> list[str]:
        """Problems that only all rounds together show (e.g. balances), once every round is checked."""
        return []


class Feature:
    """One on-chain mechanism of a run (subclasses override what they use)."""

    #: its name in the registry, in messages and in summary.json
    name: ClassVar[str]
    #: the config section that switches it on and sets it (fl/core/config.py), or None
    section: ClassVar[str | None] = None
    #: the ways of running it supports; `unsupported` says why the others cannot
    modes: ClassVar[frozenset[str]] = frozenset({SIMULATION, FLOWER})
    unsupported: ClassVar[str] = ""
    #: the module of its explorer panel, with `contracts(info, run)` and `panel(source)`; None: no panel
    explorer: ClassVar[str | None] = None

    @classmethod
    def enabled(cls, cfg) -> bool:
        """Whether `cfg` asks for this feature."""
        raise NotImplementedError

    @classmethod
    def check(cls, cfg) -> None:
        """A UserError if `cfg`'s settings for this feature cannot be honoured."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg

    # --- set-up ------------------------------------------------------------------------------
    def deploy(self, setup: Setup) -> None:
        """Deploy (after the clients registered, before round 1) and record in `setup.info`."""

    def attach(self, setup: Setup) -> None:
        """Find what `deploy` set up again, from `setup.info` (a resumed run)."""

    def describe(self) -> str:
        """Where it lives, for the start-up lines ("" for nothing to say)."""
        return ""

    # --- each round --------------------------------------------------------------------------
    def trainers(self, round_: int) -> Iterable[int]:
        """Clients that must train in round `round_` besides the sampled ones."""
        return ()

    def select(self, round_: int, updates: dict[int, Update], committed: Iterable[int], kept: list[Update],
               global_state: State) -> list[Update]:
        """The updates of `kept` (accepted and valid, ascending id) that go into the aggregate."""
        return kept

    def round_figures(self) -> dict[str, float]:
        """Figures a tracker (TensorBoard, MLflow) logs after each round besides metrics.csv's
        (called once after each round, while the run logs to one)."""
        return {}

    # --- the end of a run --------------------------------------------------------------------
    def summary(self, task) -> dict[str, Any]:
        """What summary.json records of it (read from the chain)."""
        return {}

    @classmethod
    def audit(cls, cfg, task, info: dict[str, Any]) -> FeatureAudit | None:
        """The checker `verify` runs for this feature on a run whose config enables it; `info` is the
        run's chain.json. Problems found while setting up go into the audit's `setup_problems`."""
        return None

    # --- the explorer ------------------------------------------------------------------------
    @classmethod
    def contracts(cls, info: dict[str, Any], run: Path) -> dict[str, tuple[str, str]]:
        """The contracts the explorer reads for it (from chain.json `info` or the run folder `run`):
        label -> (contract name, address)."""
        return import_module(cls.explorer).contracts(info, run) if cls.explorer else {}

    @classmethod
    def panel(cls, source: PanelSource) -> Panel | None:
        """Its panel of the explorer, built from the run folder and `source.history` (None when
        the chain could not be read: say so, show what the run folder holds)."""
        return import_module(cls.explorer).panel(source) if cls.explorer else None


def check_hook(task, name: str, address: str) -> None:
    """A UserError unless `address` is one of `task`'s round hooks on chain."""
    if address.lower() not in {h.lower() for h in task.round_hooks()}:
        raise UserError(f"the {name} at {address} is not a round hook of the task at {task.address}")
