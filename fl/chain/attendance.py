"""The Attendance contract of a task (contracts/Attendance.sol), driven from Python."""
from __future__ import annotations

from fl.chain.contracts import attach, deploy
from fl.chain.task import TaskChain


class AttendanceChain:
    """One deployed Attendance counter."""

    def __init__(self, contract):
        self.contract = contract

    @classmethod
    def deploy(cls, task: TaskChain) -> "AttendanceChain":
        """Deploy the counter of `task` and make it a round hook of the task."""
        contract = deploy("Attendance", task.address, sender=task.aggregator, stats=task.stats)
        task.add_round_hook(contract.address)
        return cls(contract)

    @classmethod
    def attach(cls, address: str) -> "AttendanceChain":
        return cls(attach("Attendance", address))

    @property
    def address(self) -> str:
        return self.contract.address

    def task(self) -> str:
        return str(self.contract.task())

    def attendance_of(self, client_id: int) -> int:
        return int(self.contract.attendanceOf(client_id))

    def rounds_counted(self) -> int:
        return int(self.contract.roundsCounted())

    def attended(self, round_: int) -> list[int]:
        """The clients its Attended events list for round `round_`, ascending."""
        from brownie import web3

        logs = web3.eth.contract(address=self.address, abi=self.contract.abi).events.Attended
        events = logs.get_logs(from_block=0, argument_filters={"round": round_})
        return sorted(int(e.args.clientId) for e in events)
