"""Flower's `ClientApp` of an OnChainFL run (`fl.run.flower.client_app:app`): the handlers turn
Flower messages into calls of fl.run.flower.client and back. What an algorithm keeps for the
client between rounds (SCAFFOLD's control variate, MOON's previous model) stays in the node's
Flower context, never with the server."""
from __future__ import annotations

import json

from flwr.app import ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from fl.run.flower import client, records
from fl.run.flower.parties import COMMITTEE_SCORES, WATERMARK_NEGOTIATION
from fl.run.flower.protocol import (ACT, CANDIDATE, CLIENT, COMMITMENT, GLOBAL, METRICS, OWN, ROUND, SIGNED, TASK,
                                    UPDATE, Task, dump_metadata, load_metadata)

OWN_STATE = "onchainfl"  # the node context's record of the client's own state

app = ClientApp()


@app.query()
def register(message: Message, context: Context) -> Message:
    """A registration, or (with an "act" record) a transaction the party signs from its own account."""
    task = Task.from_record(message.content[TASK])
    if ACT in message.content:
        return act(task, message, context)
    partition, address, signature = client.registration(task, context.node_config)
    return Message(RecordDict({CLIENT: ConfigRecord({"partition": partition, "address": address,
                                                     "signature": signature})}), reply_to=message)


def act(task: Task, message: Message, context: Context) -> Message:
    info = message.content[ACT]
    if str(info["kind"]) == WATERMARK_NEGOTIATION:
        raw = client.watermark_negotiation(task, context.node_config, str(info["task"]),
                                           json.loads(str(info["transaction"])))
        return Message(RecordDict({SIGNED: ConfigRecord({"raw": raw})}), reply_to=message)
    if str(info["kind"]) != COMMITTEE_SCORES:
        raise ValueError(f"unknown action {info['kind']!r}; this party knows: {COMMITTEE_SCORES}, "
                         f"{WATERMARK_NEGOTIATION}")
    candidates = {int(name[len(CANDIDATE):]): records.from_record(record)
                  for name, record in message.content.items() if name.startswith(CANDIDATE)}
    raw = client.committee_scores(task, context.node_config, int(info["round"]), json.loads(str(info["committed"])),
                                  candidates, records.from_record(message.content[OWN]),
                                  records.from_record(message.content[GLOBAL]), json.loads(str(info["transaction"])))
    return Message(RecordDict({SIGNED: ConfigRecord({"raw": raw})}), reply_to=message)


@app.train()
def train(message: Message, context: Context) -> Message:
    task = Task.from_record(message.content[TASK])
    info = message.content[ROUND]
    own = context.state.get(OWN_STATE)
    own_state = records.unpack(own["state"]) if own is not None else {}
    trained = client.train(task, context.node_config, int(info["round"]), int(info["client-id"]),
                           records.from_record(message.content[GLOBAL]), str(info["global-hash"]),
                           load_metadata(str(info["global-metadata"])), own_state,
                           json.loads(str(info["algorithm-settings"])))
    if own_state:
        context.state[OWN_STATE] = ConfigRecord({"state": records.pack(own_state)})
    update = trained.update
    return Message(RecordDict({
        UPDATE: records.to_record(update.tensors),
        COMMITMENT: ConfigRecord({"metadata": dump_metadata(trained.metadata), "update-hash": trained.digest,
                                  "signature": trained.signature}),
        METRICS: MetricRecord({"train-loss": float(update.train_loss), "num-examples": int(update.num_samples)}),
    }), reply_to=message)
