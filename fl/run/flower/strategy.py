"""The server side of a Flower run as a Flower strategy around the run's engine (fl.run.engine).

`configure_train` opens the round on chain (`Engine.begin_round`: the selection, the features'
trainers, the global model's hash) and sends the global model to the selected clients;
`aggregate_train` takes the replies: each update's tensors must hash to the hash its client
signed (else the reply was altered in transit and is dropped, logged), the signed commitments are
relayed to the chain in batches, and `Engine.end_round` does the rest exactly as in the
in-process engine (the chain's verdicts, validation, the features' selection, the deterministic
aggregation with the run's robust rule, the finalization, the evaluation). The server never
signs for a client and never holds a client's key.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord, RecordDict
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Result, Strategy

from fl.core import codec
from fl.core.store import hex_hash
from fl.ml.algorithms.api import Update
from fl.run.engine import Engine
from fl.run.flower import records
from fl.run.flower.protocol import (COMMITMENT, GLOBAL, METRICS, ROUND, TASK, UPDATE, Task, dump_metadata, error_line,
                                    load_metadata)


PULL_SECONDS = 0.05  # how often the server asks for replies that have not come yet


class OnChainStrategy(Strategy):
    """Rounds of `engine` with its clients on Flower nodes (`nodes`: client id -> node id)."""

    def __init__(self, engine: Engine, task: Task, nodes: dict[int, int], log: Callable[[str], None]):
        self.engine, self.task, self.nodes, self.log = engine, task, nodes, log
        self.clients = {node: client_id for client_id, node in nodes.items()}
        self.rows = []  # every round's fl.core.report.RoundMetrics
        self._selected: list[int] = []
        self._sent: dict[int, Message] = {}  # client id -> the round's message to it
        self._by_message: dict[str, int] | None = None  # message id -> client id, once the messages are sent
        self._updates: dict[int, Update] = {}  # the round's usable updates so far
        self._replied: set[int | None] = set()
        self._sent_at = 0.0
        self._chain_at = None

    def summary(self) -> None:
        self.log(f"OnChainStrategy: {self.engine.algorithm.name} on {len(self.nodes)} Flower nodes, "
                 "every round on chain")

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        """Open the round; `arrays` is the engine's global model as a record (the start model's,
        then what `finish` returned)."""
        engine = self.engine
        self._selected = engine.begin_round(server_round)
        _, metadata = engine.store.get(engine.global_hash)
        settings = json.dumps(engine.algorithm.public_settings(), sort_keys=True)
        self._sent, self._by_message, self._updates, self._replied = {}, None, {}, set()
        for client_id in self._selected:
            info = ConfigRecord({"round": server_round, "client-id": client_id, "global-hash": engine.global_hash,
                                 "global-metadata": dump_metadata(metadata), "algorithm-settings": settings})
            self._sent[client_id] = Message(RecordDict({TASK: self.task.record(), GLOBAL: arrays, ROUND: info}),
                                            dst_node_id=self.nodes[client_id], message_type=MessageType.TRAIN,
                                            group_id=str(server_round))
        self._sent_at, self._chain_at = time.perf_counter(), engine.ledger.stats.snapshot()
        return list(self._sent.values())

    def sender(self, reply: Message) -> int | None:
        """The client a reply answers for: by the message it replies to (a SuperLink reports an
        unreachable node's error from its own node id), else by the node it came from."""
        if self._by_message is None:  # Flower gives the messages their ids as it sends them
            self._by_message = {m.metadata.message_id: cid for cid, m in self._sent.items()}
        client_id = self._by_message.get(reply.metadata.reply_to_message_id)
        return client_id if client_id is not None else self.clients.get(reply.metadata.src_node_id)

    def accept(self, round_: int, reply: Message) -> Update | None:
        """The reply's update, stored and its signed commitment relayed; None (logged) if unusable."""
        client_id = self.sender(reply)
        if client_id is None:
            self.log(f"round {round_}: a reply from unknown node {reply.metadata.src_node_id} ignored")
            return None
        if reply.has_error():
            self.log(f"round {round_}: client {client_id} failed ({error_line(reply)}); it did not commit")
            return None
        try:
            commitment = reply.content[COMMITMENT]
            tensors = records.from_record(reply.content[UPDATE])
            metadata = load_metadata(str(commitment["metadata"]))
            signed, signature = str(commitment["update-hash"]), bytes(commitment["signature"])
            train_loss = float(reply.content[METRICS]["train-loss"])
        except (KeyError, ValueError, TypeError) as exc:
            self.log(f"round {round_}: client {client_id}'s reply is malformed ({type(exc).__name__}: {exc}); rejected")
            return None
        if metadata.get("round") != str(round_) or metadata.get("client") != str(client_id):
            self.log(f"round {round_}: client {client_id}'s update is labelled round {metadata.get('round')}, "
                     f"client {metadata.get('client')}; rejected")
            return None
        data = codec.encode(tensors, metadata)
        found = hex_hash(codec.keccak(data))
        if found != signed:
            self.log(f"round {round_}: client {client_id}'s update hashes to {found}, not to the {signed} it signed "
                     "(altered in transit); rejected, not committed")
            return None
        self.engine.store.put_bytes(data)
        self.engine.ledger.relay(round_, client_id, found, signature)
        update = Update.from_artifact(tensors, metadata)
        update.train_loss = train_loss
        return update

    def take(self, round_: int, reply: Message) -> None:
        """One reply of the round, as soon as it arrives: checked, stored, its commitment relayed
        (the chain's batches go out while other clients still train)."""
        self._replied.add(self.sender(reply))
        update = self.accept(round_, reply)
        if update is not None:
            self._updates[update.client_id] = update

    def finish(self, round_: int) -> tuple[ArrayRecord, MetricRecord]:
        """The round's end once its replies are in (or their time is up): Engine.end_round."""
        engine = self.engine
        train_seconds = time.perf_counter() - self._sent_at
        silent = sorted(set(self._selected) - self._replied)
        if silent:
            self.log(f"round {round_}: no reply from clients {silent} in time; they did not commit")
        row = engine.end_round(round_, self._selected, self._updates,
                               train_seconds - engine.ledger.stats.since(self._chain_at).seconds)
        self.rows.append(row)
        return (records.to_record(engine.global_state),
                MetricRecord({"test-accuracy": row.test_accuracy, "test-loss": row.test_loss, "clients": row.clients}))

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        for reply in replies:
            self.take(server_round, reply)
        return self.finish(server_round)

    def start(self, grid: Grid, initial_arrays: ArrayRecord, num_rounds: int = 3, timeout: float = 3600,
              train_config: ConfigRecord | None = None, evaluate_config: ConfigRecord | None = None,
              evaluate_fn=None) -> Result:
        """Flower's round loop (Strategy.start), with each reply taken as it arrives instead of
        all of them at the end, and no client-side evaluation round (the server evaluates)."""
        self.summary()
        result, arrays = Result(), initial_arrays
        for round_ in range(1, num_rounds + 1):
            waiting = set(grid.push_messages(self.configure_train(round_, arrays, train_config or ConfigRecord(),
                                                                  grid)))
            deadline = time.monotonic() + timeout
            while waiting and time.monotonic() < deadline:
                replies = list(grid.pull_messages(waiting))
                for reply in replies:
                    waiting.discard(reply.metadata.reply_to_message_id)
                    self.take(round_, reply)
                if waiting and not replies:
                    time.sleep(PULL_SECONDS)
            arrays, metrics = self.finish(round_)
            result.arrays = arrays
            result.train_metrics_clientapp[round_] = metrics
        return result

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        return []  # the server evaluates the global model on the test set (Engine.end_round)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        return None
