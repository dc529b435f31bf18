"""Attendance as a feature of a run (contracts/Attendance.sol): the smallest complete on-chain
mechanism, and the worked example of README's "Adding an on-chain mechanism". A round hook of the
task counts, per client, the finalized rounds it was aggregated in: a reputation record that
only the task's finalizations can change."""
from __future__ import annotations

from fl.core.errors import UserError
from fl.features.base import Feature, FeatureAudit, RoundEvidence, Setup, check_hook


class AttendanceFeature(Feature):
    name = "attendance"
    explorer = "fl.features.attendance.panel"
    section = "attendance"

    @classmethod
    def enabled(cls, cfg) -> bool:
        return cfg.attendance.enabled

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.counter = None  # fl.chain.attendance.AttendanceChain

    def deploy(self, setup: Setup) -> None:
        from fl.chain.attendance import AttendanceChain

        self.counter = AttendanceChain.deploy(setup.task)
        setup.hooks()["attendance"] = self.counter.address

    def attach(self, setup: Setup) -> None:
        from fl.chain.attendance import AttendanceChain

        address = setup.hooks().get("attendance")
        if address is None:
            raise UserError("the run's chain.json names no attendance counter, but its config asks for one")
        check_hook(setup.task, "attendance counter", address)
        self.counter = AttendanceChain.attach(address)

    def describe(self) -> str:
        return f"attendance counter at {self.counter.address}"

    def summary(self, task) -> dict:
        return {"attendance": {"address": self.counter.address,
                               "rounds": {str(cid): self.counter.attendance_of(cid)
                                          for cid in range(1, task.client_count() + 1)}}}

    @classmethod
    def audit(cls, cfg, task, info):
        return AttendanceAudit(task, info.get("hooks", {}).get("attendance"))


class AttendanceAudit(FeatureAudit):
    """Each round's Attended events must name exactly the round's participants, and each client's
    count must be the number of recorded rounds that aggregated it."""

    def __init__(self, task, address: str | None):
        from fl.chain.attendance import AttendanceChain

        super().__init__()
        self.task, self.counter, self.expected = task, None, {}
        if address is None:
            self.setup_problems.append("the task config asks for attendance, but the run names no counter")
            return
        try:
            check_hook(task, "attendance counter", address)
        except UserError as exc:
            self.setup_problems.append(str(exc))
            return
        self.counter = AttendanceChain.attach(address)
        if self.counter.task().lower() != task.address.lower():
            self.setup_problems.append(f"the attendance counter {address} counts task {self.counter.task()}")

    def check(self, evidence: RoundEvidence, verdict) -> None:
        if self.counter is None:
            return
        attended = self.counter.attended(evidence.round)
        if attended != evidence.record.participants:
            verdict.problems.append(f"attendance recorded clients {attended}, the round aggregated "
                                    f"{evidence.record.participants}")
        for cid in evidence.record.participants:
            self.expected[cid] = self.expected.get(cid, 0) + 1

    def finish(self) -> list[str]:
        if self.counter is None:
            return []
        return [f"client {cid}'s attendance on chain is {held}, the recorded rounds aggregated it {owed} time(s)"
                for cid in range(1, self.task.client_count() + 1)
                if (held := self.counter.attendance_of(cid)) != (owed := self.expected.get(cid, 0))]
