"""The benchmark's peer: the same FedAvg as OnChainFL's chain-off bench run, written as a Flower
user writes it from Flower's PyTorch tutorial (Flower 1.41's message API), no chain anywhere.

Same work as `configs/fedavg.yaml`: the data set (FashionMNIST), the project's `cnn`, N clients on
the project's seeded IID partition (`fl.ml.data.partition.split`, `PartitionConfig(method="iid")`,
seed 0), 1 local epoch of SGD (lr 0.01, momentum 0.9: `TrainConfig`'s defaults) in batches of 32
with the project's own loop (`fl.ml.training.local_sgd`, so only the framework differs), FedAvg
weighted by sample count, the whole test set evaluated on the server after each round.

Flower's way: a `ClientApp` whose `@app.train()` loads the `ArrayRecord` into the model, trains
and replies with an `ArrayRecord` and a `MetricRecord` holding `num-examples`; a `ServerApp` whose
main runs `flwr.serverapp.strategy.FedAvg(fraction_train=1.0, fraction_evaluate=0.0)` through
`strategy.start(..., evaluate_fn=...)`; all run by `flwr.simulation.run_simulation` on Ray, with
`actors` actors of one CPU and `threads` torch threads each. Each actor loads the data set once
(a module-level cache) and takes its shard by `context.node_config["partition-id"]`; only the
model (4,518 numbers for the cnn) travels in the messages.

Measured: start-up (run_simulation called → the first client starts training: Ray, its actors,
the first task), each round (configure_train → aggregate_train done; and with the server's
evaluation), the median of warm rounds (round 1 is the warm-up), the peak of the summed RSS of the
process tree (driver + Ray's processes and workers, sampled every 0.2 s) and the final accuracy.

`python -m fl.tools.bench.plain_flower --clients 10 --rounds 3` prints the dict as JSON.
"""
from __future__ import annotations

import os

os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # read when flwr is imported; no internet here
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # silences Ray 2.55's FutureWarning; no GPU used

import json  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402
import torch  # noqa: E402

from fl.core.config import PartitionConfig, TrainConfig  # noqa: E402
from fl.ml import data, models, training  # noqa: E402
from fl.ml.data import partition  # noqa: E402
from fl.tools.bench.memory import TreeMemory  # noqa: E402

KEYS = ("clients", "rounds", "dataset", "actors", "threads_per_actor", "startup_s", "first_configure_s",
        "round_s", "round_with_eval_s", "round1_from_first_client_s", "client_train_s", "warm_round_s",
        "warm_round_with_eval_s", "peak_rss_mb", "peak_pss_mb", "peak_rss_sum_of_peaks_mb", "processes_seen",
        "largest_processes_mb", "cpu_s_by_process", "accuracy", "accuracy_per_round", "total_s",
        "leftover_processes", "load_before", "load_after")

_DEFAULTS = TrainConfig()

# ---------------------------------------------------------------------------------------------
# What each Ray actor keeps between the messages it handles (one process, many clients)
# ---------------------------------------------------------------------------------------------
_DATA: dict[tuple, tuple[data.Dataset, list[torch.Tensor]]] = {}
_MODELS: dict[tuple, torch.nn.Module] = {}


def _shards(name: str, root: str | None, clients: int, seed: int, train_limit: int | None):
    """The data set and every client's training indices, loaded once per process."""
    key = (name, root, clients, seed, train_limit)
    if key not in _DATA:
        dataset = data.load(name, root=root).limit(train_limit, None)
        _DATA[key] = dataset, partition.split(dataset, clients, PartitionConfig(method="iid"), seed)
    return _DATA[key]


def _model(name: str, dataset: data.Dataset, seed: int) -> torch.nn.Module:
    key = (name, dataset.input_shape, dataset.num_classes)
    if key not in _MODELS:
        _MODELS[key] = models.build(name, dataset.input_shape, dataset.num_classes, seed)
    return _MODELS[key]


def _root(config) -> str | None:
    return config["data-root"] or None


def _train_limit(config) -> int | None:
    return int(config["train-limit"]) or None


# ---------------------------------------------------------------------------------------------
# ClientApp (Flower's tutorial shape)
# ---------------------------------------------------------------------------------------------
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict  # noqa: E402
from flwr.clientapp import ClientApp  # noqa: E402
from flwr.serverapp import Grid, ServerApp  # noqa: E402
from flwr.serverapp.strategy import FedAvg  # noqa: E402

client_app = ClientApp()


@client_app.train()
def train(msg: Message, context: Context) -> Message:
    started = time.time()
    config = msg.content["config"]
    torch.set_num_threads(int(config["threads"]))
    seed, clients = int(config["seed"]), int(context.node_config["num-partitions"])
    dataset, parts = _shards(str(config["dataset"]), _root(config), clients, seed, _train_limit(config))
    pid = int(context.node_config["partition-id"])
    model = _model(str(config["model"]), dataset, seed)
    model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=float(config["lr"]), momentum=float(config["momentum"]))
    generator = torch.Generator().manual_seed(seed * 1_000_003 + int(config["server-round"]) * clients + pid)
    t0 = time.perf_counter()
    result = training.local_sgd(model, dataset.train_x, dataset.train_y, parts[pid],
                                epochs=int(config["local-epochs"]), batch_size=int(config["batch-size"]),
                                optimizer=optimizer, generator=generator)
    metrics = MetricRecord({"train-loss": result.mean_loss, "num-examples": len(parts[pid]), "t-start": started,
                            "train-s": time.perf_counter() - t0})
    content = RecordDict({"arrays": ArrayRecord(model.state_dict()), "metrics": metrics})
    return Message(content=content, reply_to=msg)


# ---------------------------------------------------------------------------------------------
# The strategy, timed
# ---------------------------------------------------------------------------------------------
class TimedFedAvg(FedAvg):
    """Flower's FedAvg that notes when each round is configured and aggregated (wall clock,
    comparable with the actors' timestamps) and when its clients first started."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.configured: dict[int, float] = {}
        self.aggregated: dict[int, float] = {}
        self.first_client: dict[int, float] = {}
        self.train_s: dict[int, float] = {}

    def configure_train(self, server_round, arrays, config, grid):
        self.configured[server_round] = time.time()
        return super().configure_train(server_round, arrays, config, grid)

    def aggregate_train(self, server_round, replies):
        replies = list(replies)
        starts = [m.content["metrics"]["t-start"] for m in replies if not m.has_error()]
        if starts:
            self.first_client[server_round] = min(starts)
            self.train_s[server_round] = sum(m.content["metrics"]["train-s"] for m in replies if not m.has_error())
        out = super().aggregate_train(server_round, replies)
        self.aggregated[server_round] = time.time()
        return out


def _quiet_flower() -> None:
    from flwr.supercore.logger import update_console_handler

    # ERROR: hides run_simulation's deprecation notice and FedAvg's "fraction_evaluate is 0" warning
    update_console_handler(level=logging.ERROR, timestamps=False, colored=False)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _leftovers(memory: TreeMemory, wait_s: float = 10.0) -> int:
    """Processes the simulation started still alive after Ray's shutdown (given `wait_s` to exit)."""
    deadline = time.time() + wait_s
    while True:
        alive = []
        for proc in memory.tree()[1:]:
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.time() > deadline:
            return len(alive)
        time.sleep(0.2)


def run(clients: int = 10, rounds: int = 3, *, dataset: str = "fashionmnist", model: str = "cnn", seed: int = 0,
        lr: float = _DEFAULTS.lr, momentum: float = _DEFAULTS.momentum, batch_size: int = _DEFAULTS.batch_size,
        local_epochs: int = _DEFAULTS.local_epochs, actors: int = 2, threads: int = 1,
        object_store_mb: int = 300, data_root: str | None = None, train_limit: int | None = None,
        eval_batch_size: int = _DEFAULTS.eval_batch_size, quiet: bool = True) -> dict[str, Any]:
    """One Flower simulation of FedAvg; the measurements (see KEYS) as a dict."""
    import ray
    from flwr.simulation import run_simulation

    if quiet:
        _quiet_flower()
    if ray.is_initialized():
        raise RuntimeError("Ray is already running in this process; the start-up would not be measured")

    test = data.load(dataset, root=data_root)
    global_model = models.build(model, test.input_shape, test.num_classes, seed)
    eval_model = models.build(model, test.input_shape, test.num_classes, seed)
    evaluated: dict[int, float] = {}
    accuracy: dict[int, float] = {}

    def evaluate_fn(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        eval_model.load_state_dict(arrays.to_torch_state_dict())
        acc, loss = training.evaluate(eval_model, test.test_x, test.test_y, eval_batch_size)
        evaluated[server_round], accuracy[server_round] = time.time(), acc
        return MetricRecord({"accuracy": acc, "loss": loss})

    strategy = TimedFedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=clients,
                           min_available_nodes=clients)
    train_config = ConfigRecord({"lr": lr, "momentum": momentum, "batch-size": batch_size,
                                 "local-epochs": local_epochs, "dataset": dataset, "model": model, "seed": seed,
                                 "threads": threads, "data-root": data_root or "", "train-limit": train_limit or 0})
    server_app = ServerApp()

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        strategy.start(grid=grid, initial_arrays=ArrayRecord(global_model.state_dict()), num_rounds=rounds,
                       train_config=train_config, evaluate_fn=evaluate_fn)

    backend_config = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {"num_cpus": actors, "num_gpus": 0, "include_dashboard": False,
                      "object_store_memory": object_store_mb * 1024 * 1024, "log_to_driver": not quiet,
                      "logging_level": logging.ERROR if quiet else logging.INFO, "configure_logging": True},
    }
    load_before = os.getloadavg()[0]
    with TreeMemory() as memory:
        called = time.time()
        try:
            run_simulation(server_app=server_app, client_app=client_app, num_supernodes=clients,
                           backend_config=backend_config)
        finally:
            if ray.is_initialized():  # Flower's backend shuts Ray down itself; this is the fallback
                ray.shutdown()
        finished = time.time()
    leftover = _leftovers(memory)

    done = sorted(strategy.aggregated)
    if done != list(range(1, rounds + 1)):
        raise RuntimeError(f"the simulation finished rounds {done} of {rounds} (see Flower's errors above)")
    round_s = [strategy.aggregated[r] - strategy.configured[r] for r in done]
    with_eval = [evaluated[r] - strategy.configured[r] for r in done]
    warm = round_s[1:] or round_s
    warm_eval = with_eval[1:] or with_eval
    return {
        "clients": clients, "rounds": rounds, "dataset": dataset, "actors": actors, "threads_per_actor": threads,
        "startup_s": strategy.first_client[1] - called,
        "first_configure_s": strategy.configured[1] - called,
        "round_s": round_s, "round_with_eval_s": with_eval,
        "round1_from_first_client_s": strategy.aggregated[1] - strategy.first_client[1],
        "client_train_s": [strategy.train_s[r] for r in done],
        "warm_round_s": statistics.median(warm), "warm_round_with_eval_s": statistics.median(warm_eval),
        "peak_rss_mb": memory.peak_sum / 2**20, "peak_pss_mb": memory.peak_pss_sum / 2**20,
        "peak_rss_sum_of_peaks_mb": sum(memory.peaks.values()) / 2**20,
        "processes_seen": len(memory.peaks), "largest_processes_mb": memory.largest(),
        "cpu_s_by_process": memory.cpu_seconds(),
        "accuracy": accuracy[rounds], "accuracy_per_round": [accuracy[r] for r in range(rounds + 1)],
        "total_s": finished - called, "leftover_processes": leftover,
        # other work on the machine skews every number: the 1-minute load before and after
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fl.tools.bench.plain_flower", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dataset", default="fashionmnist")
    parser.add_argument("--actors", type=int, default=2, help="Ray actors (CPUs given to Ray)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per actor")
    parser.add_argument("--object-store-mb", type=int, default=300)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--floor", action="store_true", help="also time one centralized epoch (fl.tools.bench.floor)")
    parser.add_argument("--verbose", action="store_true", help="Flower's and Ray's logs")
    args = parser.parse_args(argv)
    result = run(args.clients, args.rounds, dataset=args.dataset, actors=args.actors, threads=args.threads,
                 object_store_mb=args.object_store_mb, train_limit=args.train_limit, quiet=not args.verbose)
    if args.floor:
        from fl.tools.bench.floor import centralized_epochs

        floor = centralized_epochs(args.dataset, epochs=2)
        result["floor_epochs_s"], result["floor_s"] = floor, floor[-1]
        result["warm_round_over_floor"] = result["warm_round_s"] / floor[-1]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    # run as the imported module, not as __main__: cloudpickle ships __main__'s functions to the
    # actors by value, each message with fresh globals, so the per-actor data cache would be lost
    # and every client would load the data set again
    from fl.tools.bench import plain_flower

    plain_flower.main()
