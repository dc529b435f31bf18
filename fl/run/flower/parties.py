"""The clients of a Flower run as parties that act from their own accounts (fl.features.base.Parties):
what a feature needs signed goes to the party's node in a query message, and the party's own
signed transaction comes back for the server to broadcast."""
from __future__ import annotations

import json

from flwr.app import ConfigRecord, Message, MessageType, RecordDict
from flwr.serverapp import Grid

from fl.ml.algorithms.api import State
from fl.run.flower import records
from fl.run.flower.protocol import ACT, CANDIDATE, GLOBAL, OWN, SIGNED, TASK, Task, error_line

COMMITTEE_SCORES, WATERMARK_NEGOTIATION = "committee-scores", "watermark-negotiation"


def signed(reply: Message) -> bytes | str:
    """The party's signed transaction in `reply`, or why there is none."""
    return error_line(reply) if reply.has_error() else bytes(reply.content[SIGNED]["raw"])


class FlowerParties:
    """The run's clients on their Flower nodes (`nodes`: client id -> node id)."""

    def __init__(self, grid: Grid, task: Task, nodes: dict[int, int], timeout: float):
        self.grid, self.task, self.nodes, self.timeout = grid, task, nodes, timeout

    def sign_scores(self, round_: int, requests: dict[int, dict], global_state: State) -> dict[int, bytes | str]:
        messages = []
        model = records.to_record(global_state)
        for member, request in requests.items():
            content = RecordDict({TASK: self.task.record(), GLOBAL: model, OWN: records.to_record(request["own"]),
                                  ACT: ConfigRecord({"kind": COMMITTEE_SCORES, "round": round_,
                                                     "committed": json.dumps(request["committed"]),
                                                     "transaction": json.dumps(request["transaction"])})})
            for candidate, tensors in request["candidates"].items():
                content[f"{CANDIDATE}{candidate}"] = records.to_record(tensors)
            message = Message(content, dst_node_id=self.nodes[member], message_type=MessageType.QUERY,
                              group_id=str(round_))
            messages.append((member, message))
        out: dict[int, bytes | str] = {member: "no reply in time" for member in requests}
        replies = list(self.grid.send_and_receive([m for _, m in messages], timeout=self.timeout))
        sent = {m.metadata.message_id: member for member, m in messages}
        for reply in replies:
            member = sent.get(reply.metadata.reply_to_message_id)
            if member is None:
                continue
            out[member] = signed(reply)
        return out

    def sign_negotiation(self, client_id: int, task: str, transaction: dict) -> bytes | str:
        content = RecordDict({TASK: self.task.record(), ACT: ConfigRecord({
            "kind": WATERMARK_NEGOTIATION, "round": 0, "task": task, "transaction": json.dumps(transaction)})})
        message = Message(content, dst_node_id=self.nodes[client_id], message_type=MessageType.QUERY)
        for reply in self.grid.send_and_receive([message], timeout=self.timeout):
            return signed(reply)
        return "no reply in time"
