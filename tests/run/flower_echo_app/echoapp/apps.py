"""Test app for tests/run/test_flower_processes.py: the ServerApp sends each SuperNode an array and
writes every reply (what the ClientApp read from its node_config) to the run config's out-file."""
import json
import time

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

server_app = ServerApp()
client_app = ClientApp()


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = context.run_config
    deadline = time.time() + float(cfg["wait-nodes-s"])
    while len(list(grid.get_node_ids())) < int(cfg["num-nodes"]):
        if time.time() > deadline:
            raise RuntimeError(f"fewer than {cfg['num-nodes']} SuperNodes connected")
        time.sleep(0.2)
    nodes = sorted(grid.get_node_ids())
    rounds = []
    for rnd in range(1, int(cfg["num-rounds"]) + 1):
        sent = {}
        for node_id in nodes:
            content = RecordDict({"arrays": ArrayRecord([np.full(3, rnd, dtype=np.float32)]),
                                  "config": ConfigRecord({"round": rnd})})
            msg = Message(content=content, dst_node_id=node_id, message_type="train")
            sent[node_id] = msg
        replies = list(grid.send_and_receive(list(sent.values()), timeout=float(cfg["reply-timeout"])))
        by_msg = {msg.metadata.message_id: node_id for node_id, msg in sent.items()}
        out = []
        for reply in replies:
            node_id = by_msg.get(reply.metadata.reply_to_message_id)
            if reply.has_error():
                out.append({"node_id": node_id, "error": reply.error.code, "reason": reply.error.reason})
            else:
                metrics = dict(reply.content["metrics"])
                arr = reply.content["arrays"].to_numpy_ndarrays()[0].tolist()
                out.append({"node_id": node_id, "error": None, "metrics": metrics, "array": arr})
        rounds.append({"round": rnd, "replies": sorted(out, key=lambda r: str(r["node_id"]))})
    with open(cfg["out-file"], "w") as fh:
        json.dump({"nodes": nodes, "rounds": rounds}, fh, indent=1)


@client_app.train()
def train(msg: Message, context: Context) -> Message:
    partition = int(context.node_config["partition-id"])
    with open(context.node_config["secret-file"]) as fh:
        secret = fh.read().strip()
    try:
        import fl.core.errors  # the repository, importable through PYTHONPATH
        repo = fl.core.errors.__file__
    except ImportError:
        repo = ""
    arr = msg.content["arrays"].to_numpy_ndarrays()[0]
    content = RecordDict({
        "arrays": ArrayRecord([arr + partition]),
        "metrics": ConfigRecord({"partition-id": partition, "secret": secret,
                                 "node-id": context.node_id, "repo": repo}),
    })
    return Message(content=content, reply_to=msg)
