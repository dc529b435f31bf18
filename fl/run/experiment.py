"""One experiment end to end: config → data → clients on chain → rounds → run folder; and resuming one.
Both are put together by the run assembly (fl/run/assembly.py)."""
from __future__ import annotations

import time
from dataclasses import asdict

import torch

from fl.chain.task import RoundState
from fl.core import config
from fl.core.config import ExperimentConfig
from fl.core.errors import UserError
from fl.core.report import RoundMetrics, RunDir, plot_run
from fl.core.store import ArtifactStore
from fl.features.base import FLOWER, SIMULATION
from fl.ml.algorithms.base import Algorithm
from fl.ml.data import partition as partitioning
from fl.ml.data import partition_report
from fl.run.assembly import Assembly, Prepared
from fl.run.engine import Engine


def describe(cfg: ExperimentConfig) -> str:
    t = cfg.train
    return (f"{cfg.algorithm.name} on {cfg.data.name}, {t.clients} clients ({partitioning.describe(cfg.partition)}, "
            f"fraction {t.fraction:g}), "
            f"model {cfg.model.name}, {t.rounds} rounds x {t.local_epochs} local epoch(s), batch {t.batch_size}, "
            f"{t.optimizer} lr {t.lr:g}, seed {cfg.seed}")


def round_line(row: RoundMetrics, rounds: int) -> str:
    excluded = f"  excluded {row.excluded}" if row.excluded else ""
    backdoor = f"  backdoor {100 * row.backdoor_success:.2f}%" if row.backdoor_success == row.backdoor_success else ""
    personal = (f"  personal {100 * row.personal_accuracy:6.2f}% (worst 10% {100 * row.personal_worst10:.2f}%)"
                if row.personal_accuracy == row.personal_accuracy else "")
    return (f"round {row.round:>3}/{rounds}  acc {100 * row.test_accuracy:6.2f}%  loss {row.test_loss:.4f}  "
            f"{row.seconds:6.1f} s (chain {row.chain_seconds:.2f} s)  gas {row.gas:>12,}  txs {row.txs}{excluded}"
            f"{backdoor}{personal}")


def _client_state_path(run: RunDir, round_: int):
    return run.path / "state" / f"clients-round{round_}.pt"


def _save_client_state(run: RunDir, round_: int, state: dict[int, dict]) -> None:
    if any(state.values()):
        path = _client_state_path(run, round_)
        path.parent.mkdir(exist_ok=True)
        torch.save(state, path)


def _load_client_state(run: RunDir, round_: int) -> dict[int, dict]:
    path = _client_state_path(run, round_)
    return torch.load(path, weights_only=False) if round_ > 0 and path.exists() else {}


def _drive(run: RunDir, cfg: ExperimentConfig, engine: Engine, first_round: int, first_open: bool) -> None:
    """Run the remaining rounds; a lost chain becomes a message that says how to resume."""
    from fl.chain import chain_alive

    try:
        engine.run(first_round, first_open)
    except Exception as exc:
        if isinstance(exc, UserError) or not cfg.chain.enabled or chain_alive():
            raise
        raise UserError(f"lost the chain during the run ({type(exc).__name__}); "
                        f"resume with `make experiment RESUME={run.path}`") from None


def _engine(run: RunDir, assembly: Assembly, prepared: Prepared, store: ArtifactStore, ledger, client_ids) -> Engine:
    def report(row: RoundMetrics) -> None:
        run.append_metrics(row)
        print(round_line(row, assembly.cfg.train.rounds), flush=True)
        extra = prepared.algorithm.round_report(engine.global_state)
        if extra:
            print("          " + "  ".join(f"{name} {value:.4f}" for name, value in extra.items()), flush=True)
        if assembly.trackers:
            assembly.trackers.round(row, extra, lambda: {name: value for feature in assembly.features
                                                         for name, value in feature.round_figures().items()})

    engine = assembly.engine(prepared, store, ledger, client_ids, on_round=report,
                             personal_store=ArtifactStore(run.personal) if prepared.algorithm.personalized else None)
    engine.on_trained = lambda round_, state: _save_client_state(run, round_, state)
    return engine


def chain_info(session, task, client_ids, config_hash: str) -> dict:
    """chain.json's record of the run's chain and task (the features add their entries); `rpc` is
    where the chain answers while the run goes (the explorer's live mode reads it there)."""
    from fl.chain.network import rpc_endpoint

    return {"network": session.network, "contract": task.address, "aggregator": str(task.aggregator),
            "clients": {str(cid): str(task.clients[cid]) for cid in client_ids}, "config_hash": config_hash,
            "salt": task.salt, "experiment_id": task.experiment_id,
            "db_path": session.db_path, "chain_pid": session.pid, "commit_mode": task.commit_mode, "hooks": {},
            "rpc": rpc_endpoint()}


def start_run(assembly: Assembly, prepared: Prepared) -> RunDir:
    """A new run folder: config.yaml, task.json (the config whose hash goes on chain) and the partition
    report; and the run's trackers (`output.log`), each destination checked before the folder is
    written (a one-line error, before the chain starts)."""
    from fl.run import tracking

    cfg = assembly.cfg
    assembly.trackers = tracking.from_names(cfg)
    run = RunDir.create(cfg)
    run.write_json("task.json", {"config_hash": cfg.config_hash(), "config": cfg.task_dict()})
    partition_report.write(run.path, partitioning.label_counts(prepared.dataset.train_y.cpu(), prepared.parts,
                                                               prepared.dataset.num_classes), describe(cfg))
    assembly.trackers.start(run.path)
    return run


def run_experiment(cfg: ExperimentConfig) -> RunDir:
    from fl.chain import TaskChain, connected
    from fl.chain.keys import client_keys

    assembly = Assembly(cfg, SIMULATION)
    prepared = assembly.prepare()
    run = start_run(assembly, prepared)
    config_hash = cfg.config_hash()
    store = ArtifactStore(run.artifacts)
    print(f"OnChainFL run {run.path}\n  {describe(cfg)}{assembly.trackers.describe()}")
    timings = {"data_load_s": prepared.seconds}
    if not cfg.chain.enabled:
        return _run_off_chain(run, assembly, prepared, store, config_hash, timings)

    from fl.chain import load_project

    t0 = time.perf_counter()
    load_project()
    timings["compile_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connected(cfg.chain.network, db_path=run.path / "chain" if cfg.chain.persist else None) as session:
        timings["chain_connect_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        task = TaskChain.deploy(config_hash, commit_mode=cfg.chain.commit_mode, batch_size=cfg.chain.batch_size)
        timings["deploy_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        client_ids = task.register_clients(client_keys(cfg.seed, cfg.train.clients))
        timings["register_s"] = time.perf_counter() - t1
        timings["startup_s"] = timings["compile_s"] + timings["chain_connect_s"] + timings["deploy_s"] + timings["data_load_s"]
        info = assembly.set_up(task, client_ids, prepared.algorithm, chain_info(session, task, client_ids, config_hash))
        setup_gas = task.stats.gas
        run.write_json("chain.json", info)
        print(f"  chain {session.network}: FLTask at {task.address}, {len(client_ids)} clients registered "
              f"(start-up {time.perf_counter() - t0:.1f} s){assembly.describe_setup()}")
        engine = _engine(run, assembly, prepared, store, task, client_ids)
        _drive(run, cfg, engine, 1, False)
        extra = assembly.summary(engine, task)
    return finish(run, {"startup": timings, "setup_gas": setup_gas, **extra}, prepared.algorithm, assembly.trackers)


def _run_off_chain(run: RunDir, assembly: Assembly, prepared: Prepared, store: ArtifactStore, config_hash: str,
                   timings: dict) -> RunDir:
    """chain.enabled = false: the same rounds with nothing committed; said loudly, recorded in the summary.
    (The assembly refused any on-chain feature already.)"""
    from fl.chain.ledger import OffChainLedger

    print("  chain OFF: simulation only, nothing is committed on chain, and this run cannot be verified")
    client_ids = list(range(1, assembly.cfg.train.clients + 1))
    run.write_json("chain.json", {"network": None, "contract": None, "simulation_only": True,
                                  "config_hash": config_hash, "clients": {}, "db_path": None})
    engine = _engine(run, assembly, prepared, store, OffChainLedger(), client_ids)
    _drive(run, assembly.cfg, engine, 1, False)
    extra = assembly.summary(engine, None)
    return finish(run, {"startup": timings, "simulation_only": True, **extra}, prepared.algorithm, assembly.trackers)


def _stop_stale_chain(info: dict) -> None:
    """A chain this project launched for the run and that outlived a killed run holds the database lock."""
    import psutil

    pid, db = info.get("chain_pid"), info.get("db_path")
    if not pid or not db:
        return
    try:
        process = psutil.Process(pid)
        if any(str(db) in part for part in process.cmdline()):
            process.kill()
            process.wait(10)
    except psutil.Error:  # gone, or a zombie whose files are already released
        pass


def _refuse_edited_config(run: RunDir, info: dict) -> None:
    """Resuming trains with config.yaml: it (and task.json) must still be the config whose hash the run
    recorded, else the rounds to come would train with settings the chain does not hold. Checked
    before anything in the folder (its chain database included) is touched."""
    from fl.audit.outputs import resume_problem

    problem = resume_problem(run.path, info.get("config_hash"))
    if problem:
        raise UserError(f"cannot resume {run.path}: {problem}; restore the file (or start a new run)")


def resume_experiment(run_path) -> RunDir:
    """Continue a run that was killed: restart its chain on the same state, skip finalized
    rounds, redo the open one, and carry on to the configured number of rounds."""
    from fl.chain import TaskChain, connected
    from fl.chain.keys import client_keys

    run = RunDir(run_path)
    if not (run.path / "chain.json").exists():
        raise UserError(f"{run.path} is not a run folder with chain records (no chain.json)")
    info = run.read_json("chain.json")
    if info.get("simulation_only"):
        raise UserError(f"run {run.path} ran with the chain off (simulation only): there is no chain state to resume")
    if info.get("engine") == FLOWER:
        raise UserError(f"run {run.path} ran on the Flower engine, whose clients keep their own state on their "
                        "nodes; resuming continues runs of the in-process engine only")
    if not info.get("db_path"):
        raise UserError(f"run {run.path} kept no chain state (chain.persist was off or the chain was not launched "
                        "by OnChainFL), so it cannot be resumed")
    _refuse_edited_config(run, info)
    cfg = config.build(run.path / "config.yaml")
    assembly = Assembly(cfg, SIMULATION)
    prepared = assembly.prepare()
    store = ArtifactStore(run.artifacts)
    from fl.run import tracking

    assembly.trackers = tracking.from_names(cfg, resume=run.path)  # logging goes on where it was
    assembly.trackers.start(run.path)
    _stop_stale_chain(info)
    print(f"OnChainFL resuming {run.path}\n  {describe(cfg)}{assembly.trackers.describe()}")
    t0 = time.perf_counter()
    with connected(info["network"], db_path=run.path / "chain") as session:
        task = TaskChain.attach(info["contract"], commit_mode=info.get("commit_mode", "batch"),
                                batch_size=cfg.chain.batch_size)
        if task.config_hash() != info["config_hash"]:
            raise UserError(f"the task at {task.address} records config {task.config_hash()}, "
                            f"the run folder {info['config_hash']}")
        client_ids = task.attach_clients(client_keys(cfg.seed, cfg.train.clients))
        recorded = {**info, **chain_info(session, task, client_ids, info["config_hash"]),
                    "hooks": info.get("hooks", {})}
        run.write_json("chain.json", assembly.set_up(task, client_ids, prepared.algorithm, recorded, resume=True))
        engine = _engine(run, assembly, prepared, store, task, client_ids)
        last = task.current_round()
        record = task.round_record(last) if last else None
        finalized = last if record is None or record.state == RoundState.FINALIZED else last - 1
        if record is not None:
            engine.restore(record.final_model if record.state == RoundState.FINALIZED else record.start_model,
                           _load_client_state(run, finalized))
        for row in _repair_metrics(run, engine, task, finalized):
            assembly.trackers.round(row, {})  # the row the killed run lost never reached the trackers either
        print(f"  chain {session.network}: FLTask at {task.address}; {finalized} round(s) finalized"
              f"{f', round {last} open: redoing it' if finalized < last else ''} "
              f"(start-up {time.perf_counter() - t0:.1f} s)")
        _drive(run, cfg, engine, finalized + 1, finalized < last)
        extra = assembly.summary(engine, task)
    return finish(run, {"resumed_after_round": finalized, **extra}, prepared.algorithm, assembly.trackers)


def _repair_metrics(run: RunDir, engine: Engine, task, finalized: int) -> list[RoundMetrics]:
    """Keep the metrics of finalized rounds; evaluate any finalized round whose row was lost (those
    rows are returned)."""
    from fl.ml.algorithms.api import model_part
    from fl.ml.training import evaluate

    kept = {r.round: r for r in run.read_metrics() if r.round <= finalized}
    rows, repaired = [], []
    for round_ in range(1, finalized + 1):
        if round_ not in kept:
            record = task.round_record(round_)
            state, _ = engine.store.get(record.final_model)
            engine.global_model.load_state_dict(model_part(state))
            accuracy, loss = evaluate(engine.global_model, engine.data.test_x, engine.data.test_y,
                                      engine.cfg.train.eval_batch_size)
            nan = float("nan")
            kept[round_] = RoundMetrics(round_, accuracy, loss, nan, len(record.participants),
                                        len(record.selected) - len(record.participants), nan, nan, nan, 0, 0,
                                        record.final_model)
            repaired.append(kept[round_])
        rows.append(kept[round_])
    run.rewrite_metrics(rows)
    return repaired


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def finish(run: RunDir, extra: dict, algorithm: Algorithm | None = None, trackers=None) -> RunDir:
    """summary.json and the plot, from the metrics of all rounds (resumed runs included), with the
    algorithm's own per-round metrics of each round's stored global model; then the trackers
    (fl.run.tracking.Trackers) keep the run folder's files."""
    rows = run.read_metrics()
    store = ArtifactStore(run.artifacts)
    reports = [algorithm.round_report(store.get(r.global_model)[0]) if algorithm else {} for r in rows]
    final = rows[-1]
    measured = [r for r in rows if r.seconds == r.seconds]  # rows re-evaluated after a crash have no timings
    info = run.read_json("chain.json")
    summary = {
        "run": run.path.name, "network": info["network"], "contract": info["contract"],
        "config_hash": info["config_hash"], "rounds": len(rows),
        "final_accuracy": final.test_accuracy, "best_accuracy": max(r.test_accuracy for r in rows),
        "final_loss": final.test_loss, "final_model": final.global_model,
        "total_seconds": sum(r.seconds for r in measured),
        "mean_round_seconds": sum(r.seconds for r in measured) / max(len(measured), 1),
        "gas_per_round": sum(r.gas for r in measured) / max(len(measured), 1),
        "torch_threads": torch.get_num_threads(),
        "peak_rss_mb": peak_rss_mb(),
        **extra,
        "per_round": [{**asdict(r), **report} for r, report in zip(rows, reports)],
    }
    if final.backdoor_success == final.backdoor_success:
        summary["final_backdoor_success"] = final.backdoor_success
    run.write_json("summary.json", summary)
    plot = plot_run(run)
    print(f"done: final accuracy {100 * final.test_accuracy:.2f}% after {len(rows)} rounds; "
          f"results in {run.path} (metrics.csv, summary.json, {plot.name})")
    if trackers:
        trackers.finish(run.path)
    return run
