"""One round of committee work, as the engine drives it (CMFL, Che et al., IEEE TPDS 2022).

Every member of the round's committee (elected on chain) trains like any client. Once the
commitments are in, the aggregator closes the round's commit phase on the task (`closeCommits`:
the committed set is fixed from then on, and score vectors are sized by it); each member then
scores each other client that committed an update, against its own update
(fl/features/committee/scoring.py), and submits the scores from its own account. The aggregator tallies
on chain; the contract's selection is the only set of updates the task will accept at finalize.
Per round that is 1 (closeCommits) + one per scoring member + 1 (tally) transactions besides
the task's own.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from fl.chain.task import ChainRejected
from fl.core import faults
from fl.core.errors import UserError
from fl.features.committee.scoring import score
from fl.ml.algorithms.api import State, Update


class CommitteeRounds:
    """The committee side of each round; `chain` is a fl.chain.committee.CommitteeChain."""

    def __init__(self, chain, log: Callable[[str], None] = print, parties=None):
        self.chain = chain
        self.log = log
        #: members that hold their keys elsewhere (fl.features.base.Parties), or None: members here
        self.parties = parties
        self.gas: dict[int, int] = {}  # round -> gas of the committee's transactions

    def members(self, round_: int) -> list[int]:
        return self.chain.members(round_)

    def select(self, round_: int, updates: dict[int, Update], committed: Iterable[int], kept: list[Update],
               global_state: State) -> list[Update]:
        """Score and tally round `round_` (what is already on chain from before a crash stands);
        the updates of `kept` the contract selected, which must be all it selected."""
        before = self.chain.stats.snapshot()
        if not self.chain.tallied(round_):
            self.chain.close_commits(round_)
            self._score(round_, updates, committed, global_state)
            faults.checkpoint(round_, "scored")
            self.chain.tally(round_)
        self.gas[round_] = self.gas.get(round_, 0) + self.chain.stats.since(before).gas
        selected = self.chain.selected(round_)
        by_id = {u.client_id: u for u in kept}
        unusable = [c for c in selected if c not in by_id]
        if unusable:
            raise UserError(f"round {round_}: the committee selected updates of clients {unusable} that the aggregator "
                            "cannot use (rejected or invalid); the task can only be finalized with the selected set")
        return [by_id[c] for c in selected]

    def _score(self, round_: int, updates: dict[int, Update], committed: Iterable[int], global_state: State) -> None:
        members = self.members(round_)
        candidates = [c for c in sorted(committed) if c not in members]
        done = set(self.chain.scorers(round_))
        if self.parties is not None:
            self._score_elsewhere(round_, updates, members, candidates, done, global_state)
            return
        for member in members:
            own = updates.get(member)
            if member in done or own is None:
                continue
            scores = {c: score(own.tensors, updates[c].tensors, global_state) for c in candidates}
            try:
                self.chain.submit(round_, member, scores)
            except ChainRejected as exc:
                self.log(f"round {round_}: committee member {member}'s scores rejected on chain ({exc.reason})")

    def _score_elsewhere(self, round_: int, updates: dict[int, Update], members: list[int], candidates: list[int],
                         done: set[int], global_state: State) -> None:
        """Each member scores where it runs and signs its own transaction; broadcast here."""
        committed = self.chain.committed(round_)
        requests = {member: {"committed": committed, "own": updates[member].tensors,
                             "candidates": {c: updates[c].tensors for c in candidates},
                             "transaction": self.chain.score_transaction(round_, member)}
                    for member in members if member not in done and member in updates}
        for member, signed in sorted(self.parties.sign_scores(round_, requests, global_state).items()):
            if isinstance(signed, str):
                self.log(f"round {round_}: committee member {member} did not score ({signed})")
                continue
            try:
                self.chain.submit_signed(round_, member, signed)
            except ChainRejected as exc:
                self.log(f"round {round_}: committee member {member}'s scores rejected on chain ({exc.reason})")
