"""The server side of one Flower run, connected to a chain: deploy the task, register the clients
that the Flower nodes sign for, set up the run's features, run the rounds with `OnChainStrategy`,
write the run folder. The same code serves Flower's simulation (simulation.py) and a deployment
of SuperLink and SuperNodes (server_app.py)."""
from __future__ import annotations

import time
from collections.abc import Callable

from flwr.app import ConfigRecord, Message, MessageType, RecordDict
from flwr.serverapp import Grid

from fl.core.config import to_yaml
from fl.core.errors import UserError
from fl.core.report import RunDir
from fl.core.store import ArtifactStore
from fl.run.assembly import Assembly, Prepared
from fl.features.base import FLOWER
from fl.run.experiment import _engine, chain_info, finish
from fl.run.flower import records
from fl.run.flower.parties import FlowerParties
from fl.run.flower.protocol import CLIENT, TASK, Task, error_line
from fl.run.flower.strategy import OnChainStrategy

NODE_POLL_SECONDS = 0.5


def wait_for_nodes(grid: Grid, count: int, timeout: float) -> list[int]:
    """The ids of the first `count` Flower nodes to connect, ascending (UserError after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        nodes = sorted(grid.get_node_ids())
        if len(nodes) >= count:
            return nodes[:count]
        if time.monotonic() > deadline:
            raise UserError(f"only {len(nodes)} of {count} Flower nodes connected within {timeout:g} s")
        time.sleep(NODE_POLL_SECONDS)


def register(grid: Grid, task: Task, nodes: list[int], timeout: float) -> list[tuple[int, str, bytes]]:
    """Ask every node for its client's signed registration; (node, address, signature) in partition
    order, so that client i + 1 holds partition i as in the in-process engine."""
    messages = [Message(RecordDict({TASK: task.record()}), dst_node_id=node, message_type=MessageType.QUERY)
                for node in nodes]
    by_partition: dict[int, tuple[int, str, bytes]] = {}
    replies = list(grid.send_and_receive(messages, timeout=timeout))
    to_node = {m.metadata.message_id: m.metadata.dst_node_id for m in messages}
    for reply in replies:
        node = to_node.get(reply.metadata.reply_to_message_id, reply.metadata.src_node_id)
        if reply.has_error():
            raise UserError(f"Flower node {node} could not register its client: {error_line(reply)}")
        record = reply.content[CLIENT]
        partition = int(record["partition"])
        if partition in by_partition:
            raise UserError(f"Flower nodes {by_partition[partition][0]} and {node} both hold partition {partition}")
        by_partition[partition] = (node, str(record["address"]), bytes(record["signature"]))
    missing = sorted(set(range(len(nodes))) - set(by_partition))
    if missing:
        raise UserError(f"no Flower node registered partitions {missing} within {timeout:g} s")
    return [by_partition[p] for p in range(len(nodes))]


class FlowerServer:
    """One run's server: `serve(grid)` inside a Flower ServerApp, with a chain connected."""

    def __init__(self, assembly: Assembly, prepared: Prepared, run: RunDir, keys: str, threads: int,
                 round_timeout: float, nodes_timeout: float, session, log: Callable[[str], None] = print,
                 chain_extra: dict | None = None):
        """`session`: the chain (fl.chain.network.ChainSession), recorded in chain.json with
        `chain_extra` (e.g. the RPC endpoint of a deployment's chain)."""
        self.assembly, self.prepared, self.run = assembly, prepared, run
        self.keys, self.threads = keys, threads
        self.round_timeout, self.nodes_timeout = round_timeout, nodes_timeout
        self.session, self.chain_extra, self.log = session, dict(chain_extra or {}), log
        self.task = None  # the TaskChain, once deployed
        #: called once the clients are registered and the features set up, before round 1
        self.on_ready: Callable[[], None] = lambda: None

    def serve(self, grid: Grid, extra: dict | None = None) -> RunDir:
        from fl.chain import TaskChain

        cfg = self.assembly.cfg
        config_hash = cfg.config_hash()
        t0 = time.perf_counter()
        task = self.task = TaskChain.deploy(config_hash, commit_mode="batch", batch_size=cfg.chain.batch_size)
        message = Task(to_yaml(cfg), task.domain, task.experiment_id, self.keys, self.threads)
        nodes = wait_for_nodes(grid, cfg.train.clients, self.nodes_timeout)
        signed = register(grid, message, nodes, self.nodes_timeout)
        client_ids = task.register_signed([address for _, address, _ in signed], [sig for _, _, sig in signed])
        nodes_of = {cid: node for cid, (node, _, _) in zip(client_ids, signed)}
        parties = FlowerParties(grid, message, nodes_of, self.round_timeout)
        record = {**chain_info(self.session, task, client_ids, config_hash), **self.chain_extra, "engine": FLOWER}
        info = self.assembly.set_up(task, client_ids, self.prepared.algorithm, record, parties=parties)
        setup_gas = task.stats.gas
        self.run.write_json("chain.json", info)
        self.log(f"  chain: FLTask at {task.address}, {len(client_ids)} clients on Flower nodes registered "
                 f"(start-up {time.perf_counter() - t0:.1f} s){self.assembly.describe_setup()}")
        engine = _engine(self.run, self.assembly, self.prepared, ArtifactStore(self.run.artifacts), task, client_ids)
        strategy = OnChainStrategy(engine, message, nodes_of, self.log)
        self.on_ready()
        strategy.start(grid, initial_arrays=records.to_record(engine.global_state), num_rounds=cfg.train.rounds,
                       timeout=self.round_timeout)
        summary = self.assembly.summary(engine, task)
        return finish(self.run, {"engine": FLOWER, "setup_gas": setup_gas, **(extra or {}), **summary},
                      self.prepared.algorithm, self.assembly.trackers)
