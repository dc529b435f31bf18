"""What `verify` checks of a committee run, from the chain's records and the committed artifacts.

The committee's rules must be the ones the task config asks for; each round's tally (medians,
selection, next committee) must be what the Python reference computes from the scores recorded
on chain; and the aggregator must have aggregated exactly the selected updates. A member whose
recorded scores differ from what its own committed update gives is noted, not failed: the
median exists to outvote such members.
"""
from __future__ import annotations

import json
from pathlib import Path

from fl.core.errors import UserError
from fl.features.committee import reference
from fl.features.committee.scoring import score
from fl.ml.algorithms.api import State, Update


class CommitteeAudit:
    """Checks one committee (a fl.chain.committee.CommitteeChain) against the task config `cfg`."""

    def __init__(self, cfg, committee, task):
        self.cfg = cfg
        self.committee = committee
        self.task = task

    def setup_problems(self) -> list[str]:
        expected = {"task": self.task.address, "size": self.cfg.committee.size, "strategy": self.cfg.committee.strategy,
                    "select_bps": reference.bps(self.cfg.committee.select_fraction)}
        found = self.committee.rules()
        return [f"committee {self.committee.address}: {key} is {found[key]!r}, the task config says {value!r}"
                for key, value in expected.items() if str(found[key]).lower() != str(value).lower()]

    def check(self, round_: int, record, updates: dict[int, Update], start: State | None, verdict) -> None:
        """Add round `round_`'s committee problems and notes to `verdict`."""
        c = self.committee
        members, scorers = c.members(round_), c.scorers(round_)
        rows = {m: c.scores(round_, m) for m in scorers}
        committed = sorted(record.commitments)
        bad = {m: len(row) for m, row in rows.items() if len(row) != len(committed)}
        if bad:
            verdict.problems.append(f"committee score vectors of members {sorted(bad)} have {sorted(set(bad.values()))} "
                                    f"entries, the round has {len(committed)} committed clients")
            return
        if c.scored(round_) != committed:
            verdict.problems.append(f"the committee scored clients {c.scored(round_)}, the round's committed set "
                                    f"is {committed}")
        expected = reference.tally(rows, members, committed, self.cfg.committee.strategy,
                                   reference.bps(self.cfg.committee.select_fraction), self.cfg.committee.size)
        found = (c.medians(round_), c.selected(round_), c.members(round_ + 1))
        for what, got, want in zip(("median scores", "selection", "next committee"), found,
                                   (expected.medians, expected.selected, expected.elected)):
            if got != want:
                verdict.problems.append(f"committee {what} on chain {got}, recomputed from the recorded scores {want}")
        if record.participants != found[1]:
            verdict.problems.append(f"aggregated clients {record.participants}, but the committee selected {found[1]}")
        if start is not None:
            self._note_scores(round_, rows, members, committed, updates, start, verdict)

    def _note_scores(self, round_, rows, members, committed, updates, start, verdict) -> None:
        position = {c: k for k, c in enumerate(committed)}
        for member, row in sorted(rows.items()):
            own = updates.get(member)
            if own is None:
                verdict.notes.append(f"committee member {member} scored round {round_} without a committed update")
                continue
            differ = [c for c, u in sorted(updates.items()) if c not in members
                      and c in position and score(own.tensors, u.tensors, start) != row[position[c]]]
            if differ:
                verdict.notes.append(f"committee member {member}'s scores of clients {differ} are not what its "
                                     "committed update gives")


def committee_audit(run: Path, cfg, task, setup: list[str]) -> CommitteeAudit | None:
    """The checker of the run's committee when the config asks for one; problems found on the way
    (no committee named, not a hook of the task, other rules) go to `setup`."""
    from fl.features import onchain

    if not cfg.committee.size:
        return None
    hooks = json.loads((Path(run) / "chain.json").read_text()).get("hooks", {})
    if "committee" not in hooks:
        setup.append("the task config asks for a committee, but the run names none")
        return None
    try:
        audit = CommitteeAudit(cfg, onchain.attach(task, {"committee": hooks["committee"]}).committee, task)
    except UserError as exc:
        setup.append(str(exc))
        return None
    setup.extend(audit.setup_problems())
    return audit
