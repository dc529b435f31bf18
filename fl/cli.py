"""Command line: `python -m fl run ...` (and the `brownie run scripts/*.py` entry points)."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import yaml

from fl.core import config as configuration
from fl.core.config import DEVICES, OPTIMIZERS
from fl.core.errors import UserError, fail, guarded
from fl.core.paths import ROOT

# option name -> (dotted config path, type); shared by the CLI flags and the FL_* variables of the scripts
KNOBS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "algo": ("algorithm.name", str),
    "dataset": ("data.name", str),
    "data_root": ("data.root", str),
    "partition": ("partition.method", str),
    "alpha": ("partition.alpha", float),
    "classes_per_client": ("partition.classes_per_client", int),
    "power": ("partition.power", float),
    "model": ("model.name", str),
    "clients": ("train.clients", int),
    "rounds": ("train.rounds", int),
    "fraction": ("train.fraction", float),
    "local_epochs": ("train.local_epochs", int),
    "batch_size": ("train.batch_size", int),
    "optimizer": ("train.optimizer", str),
    "lr": ("train.lr", float),
    "momentum": ("train.momentum", float),
    "weight_decay": ("train.weight_decay", float),
    "device": ("train.device", str),
    "threads": ("train.threads", int),
    "augment": ("train.augment", str),
    "seed": ("seed", int),
    "network": ("chain.network", str),
    "runs_dir": ("output.runs_dir", str),
    "name": ("output.run_name", str),
    "rule": ("aggregation.rule", str),
    "attack": ("attack.name", str),
    "attack_fraction": ("attack.fraction", float),
    "committee": ("committee.size", int),
    "rewards": ("rewards.budget", int),
}


def parse_set(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """`key.path=value` pairs, values parsed as YAML scalars (so 0.1 is a number, true a bool)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--set takes key=value (e.g. train.lr=0.05), got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"--set {key}: cannot parse value {value!r}") from None
    return out


def parse_params(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """--param mu=0.01 ... as --set algorithm.params.mu=0.01 ..."""
    return {f"algorithm.params.{key}": value for key, value in parse_set(items).items()}


def build_config(config_file: str | None, knobs: dict[str, Any], sets: dict[str, Any]) -> configuration.ExperimentConfig:
    overrides = {KNOBS[name][0]: value for name, value in knobs.items() if value is not None}
    overrides.update(sets)
    if knobs.get("alpha") is not None and knobs.get("partition") is None:
        base = configuration.load(config_file).get("partition", {}) or {}
        if base.get("method", "iid") == "iid":
            overrides["partition.method"] = "dirichlet"  # an alpha only means something for Dirichlet
    return configuration.build(config_file, overrides)


def knobs_from_env(environ: dict[str, str] | None = None) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """FL_CONFIG, FL_ROUNDS, FL_CLIENTS, ... (one per CLI flag) and FL_SET="a.b=1 c=2" for the scripts."""
    env = os.environ if environ is None else environ
    knobs = {}
    for name, (_, kind) in KNOBS.items():
        raw = env.get(f"FL_{name.upper()}")
        if raw is not None and raw != "":
            try:
                knobs[name] = kind(raw)
            except ValueError:
                raise UserError(f"FL_{name.upper()}={raw!r} is not a valid {kind.__name__}") from None
    sets = parse_set(env.get("FL_SET", "").split()) if env.get("FL_SET") else {}
    return env.get("FL_CONFIG") or None, knobs, sets




def _choices(kind: str) -> str:
    from fl.ml import algorithms, data, models
    from fl.ml.data import augment, partition

    from fl.ml.robust import attacks, rules

    names = {"algo": algorithms.ALGORITHMS, "dataset": data.LOADERS, "model": models.MODELS,
             "partition": partition.PARTITIONERS, "optimizer": OPTIMIZERS, "device": DEVICES,
             "rule": rules.CHOICES, "attack": attacks.CHOICES, "augment": ["none", *augment.STEPS]}[kind]
    return ", ".join(sorted(names))


def _algorithm_params() -> str:
    from fl.ml import algorithms

    return "; ".join(f"{name}: {', '.join(f'{k}={v:g}' for k, v in cls.defaults.items())}"
                     for name, cls in algorithms.ALGORITHMS.items() if cls.defaults)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """OnChainFL: federated learning with every round committed to an Ethereum chain."""


ENGINES = ("inprocess", "flower")
#: how long `run --explore` waits after the run for the explorer's final page (it re-verifies every round)
EXPLORER_FINAL_SECONDS = 600


@cli.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML preset (see configs/).")
@click.option("--algo", help=f"Federated algorithm: {_choices('algo')}.")
@click.option("--dataset", help=f"Data set: {_choices('dataset')}.")
@click.option("--data-root", help="Folder searched first for data files.")
@click.option("--partition", help=f"How training data is split among clients: {_choices('partition')}.")
@click.option("--alpha", type=float, help="Dirichlet concentration (implies --partition dirichlet unless given).")
@click.option("--classes-per-client", type=int, help="shards: how many classes each client holds.")
@click.option("--power", type=float, help="quantity: tail index of the power law of client sizes (smaller = more unequal).")
@click.option("--model", help=f"Model architecture: {_choices('model')}.")
@click.option("--clients", type=int, help="Number of clients (each an account on chain).")
@click.option("--rounds", type=int, help="Number of federated rounds.")
@click.option("--fraction", type=float, help="Share of clients sampled each round, in (0, 1].")
@click.option("--local-epochs", type=int, help="Local epochs per round.")
@click.option("--batch-size", type=int, help="Local mini-batch size.")
@click.option("--optimizer", help=f"Local optimizer: {_choices('optimizer')}.")
@click.option("--lr", type=float, help="Local learning rate.")
@click.option("--momentum", type=float, help="SGD momentum.")
@click.option("--weight-decay", type=float, help="Weight decay.")
@click.option("--device", help=f"Where to train: {_choices('device')}.")
@click.option("--threads", type=int, help="torch CPU threads (results are bit-identical only for the same count).")
@click.option("--augment", help=f"Batch augmentation of image sets: {_choices('augment')}, or crop+flip.")
@click.option("--seed", type=int, help="Seed for data split, initial model, sampling and client keys.")
@click.option("--network", help="Brownie network id (default: the project's, ganache-local).")
@click.option("--runs-dir", help="Where run folders are created (default runs/).")
@click.option("--name", help="Run folder name (default: time-algo-dataset-seed).")
@click.option("--rule", help=f"Aggregation rule: {_choices('rule')} (parameters: --set aggregation.params.f=4).")
@click.option("--attack", help=f"Attack of the malicious clients: {_choices('attack')}.")
@click.option("--attack-fraction", type=float, help="Share of the clients that are malicious, in [0, 1).")
@click.option("--committee", type=int, help="Committee size (0: no committee); see committee.* with --set.")
@click.option("--rewards", type=int, help="Reward tokens minted per round (0: no reward token).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help=f"An algorithm parameter (defaults: {_algorithm_params()}).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any config field, e.g. --set data.params.alpha=0.5.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.option("--resume", type=click.Path(file_okay=False), help="Continue a killed run from its folder (runs/<id>).")
@click.option("--engine", type=click.Choice(ENGINES), default="inprocess", show_default=True,
              help="inprocess: every client in this process; flower: clients as Flower ClientApps on Flower's "
                   "simulation engine (Ray), in parallel.")
@click.option("--client-cpus", type=float, default=1.0, show_default=True,
              help="Flower engine: CPUs each ClientApp gets (clients in parallel = CPUs / this).")
@click.option("--client-gpus", type=float, default=0.0, show_default=True,
              help="Flower engine: GPUs each ClientApp gets (e.g. 0.25: four clients share a GPU).")
@click.option("--log", "trackers", multiple=True, metavar="TRACKER",
              help="Also log each round's figures to tensorboard (runs/<id>/tensorboard/) or mlflow "
                   "(MLFLOW_TRACKING_URI, default ./mlruns); both: --log tensorboard --log mlflow.")
@click.option("--explore", "explore_port", type=int, default=None, is_flag=False, flag_value=8050,
              help="Serve the explorer beside the run, live while it trains (on port 8050, or the one given; "
                   "a free one when 8050 is taken).")
def run(config_file, params, sets, no_progress, resume, engine, client_cpus, client_gpus, explore_port, trackers,
        **knobs) -> None:
    """Run one experiment on the chain and write runs/<run-id>/."""
    from fl.run.experiment import resume_experiment, run_experiment

    flower_given = [flag for flag, value, default in (("--client-cpus", client_cpus, 1.0),
                                                      ("--client-gpus", client_gpus, 0.0)) if value != default]
    if engine != "flower" and flower_given:
        raise UserError(f"{', '.join(flower_given)} set(s) the Flower engine's resources; add --engine flower")
    if resume:
        given = [f"--{k.replace('_', '-')}" for k, v in knobs.items() if v is not None] + \
            (["--config"] if config_file else []) + (["--set"] if sets else []) + (["--param"] if params else []) + \
            (["--engine"] if engine != "inprocess" else []) + (["--log"] if trackers else [])
        if given:
            raise UserError(f"--resume continues a run with its own config.yaml; drop {', '.join(given)}")
        with _explorer_beside(Path(resume), explore_port):
            resume_experiment(resume)
        return
    set_values = {**parse_params(params), **parse_set(sets)}
    if no_progress:
        set_values["output.progress"] = False
    if trackers:
        set_values["output.log"] = [name for given in trackers for name in given.replace(",", " ").split()]
    cfg = build_config(config_file, knobs, set_values)
    if explore_port is not None:
        if not cfg.chain.enabled:
            raise UserError("--explore shows the run's chain; it needs chain.enabled true")
        from fl.core.report import RunDir

        cfg.output.run_name = RunDir.plan(cfg).name  # the folder the explorer watches
    with _explorer_beside(Path(cfg.output.runs_dir) / cfg.output.run_name if explore_port is not None else None,
                          explore_port):
        if engine == "flower":
            from fl.run.flower.simulation import run_flower_experiment

            run_flower_experiment(cfg, client_cpus, client_gpus)
        else:
            run_experiment(cfg)


@contextmanager
def _explorer_beside(run_dir: Path | None, port: int | None):
    """`python -m fl explore --serve` on `run_dir` in its own process while the block runs; at the end
    it waits (at most EXPLORER_FINAL_SECONDS) for the explorer's final page, then stops it."""
    import subprocess
    import time

    from fl.core.ports import free_port, listening

    if run_dir is None or port is None:
        yield
        return
    if port and listening(port):
        print(f"note: port {port} is taken; the explorer uses another")
        port = free_port()
    started = time.time()
    process = subprocess.Popen([sys.executable, "-m", "fl", "explore", "--serve", "--wait", "--port", str(port),
                                str(run_dir)], cwd=os.getcwd())
    try:
        yield
        from fl.tools.explore.page import PAGE

        page = run_dir / PAGE
        deadline = time.time() + EXPLORER_FINAL_SECONDS
        while time.time() < deadline and process.poll() is None and not (
                page.is_file() and page.stat().st_mtime >= started):
            time.sleep(0.5)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@cli.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--network", help="Chain holding the run's task, if not the run's own kept chain state.")
@click.option("--no-metrics", is_flag=True,
              help="Do not re-evaluate each round's model to check metrics.csv and summary.json (no data set needed).")
def verify(run_dir: str, network: str | None, no_metrics: bool) -> None:
    """Audit a finished run from the chain and its artifacts; exit 1 on any failure."""
    from fl.audit.verify import verify_run

    if not verify_run(run_dir, network, metrics=not no_metrics).ok:
        sys.exit(1)


@cli.command()
@click.argument("runs", metavar="RUN...", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--serve", is_flag=True, help="Serve the page on 127.0.0.1 and refresh it as rounds finish (one run).")
@click.option("--port", type=int, default=8050, show_default=True, help="--serve: the port (0: any free one).")
@click.option("--out", help="Where the page goes (default RUN/explorer.html; for several runs runs/explorer.html).")
@click.option("--no-metrics", is_flag=True,
              help="Verify without re-evaluating each round's model (no data set needed; faster).")
@click.option("--wait", is_flag=True, hidden=True, help="--serve: the run folder appears later (run --explore).")
def explore(runs, serve, port, out, no_metrics, wait) -> None:
    """The chain and the run folder of RUN as one page in the browser (RUN/explorer.html, opens offline);
    several runs: also a page that puts them side by side."""
    if serve:
        from fl.tools.explore.serve import serve as serve_run

        if len(runs) != 1 or out:
            raise UserError("--serve shows one run and writes RUN/explorer.html when it is over; "
                            f"got {len(runs)} run(s){' and --out' if out else ''}")
        serve_run(Path(runs[0]), port, metrics=not no_metrics, wait=wait)
        return
    if wait:
        raise UserError("--wait only goes with --serve")
    from fl.tools.explore.command import explore as write_pages

    write_pages(list(runs), out, metrics=not no_metrics)


@cli.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--network", help="Chain holding the run's task, if not the run's own kept chain state.")
def rewards(run_dir: str, network: str | None) -> None:
    """Each client's balance of a run's reward token, read from the chain."""
    from fl.features.rewards.report import reward_report

    reward_report(run_dir, network)


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", default="runs/compare.png", show_default=True, help="Where the PNG of the accuracy curves goes.")
def compare(runs, out) -> None:
    """Accuracy curves of several run folders in one PNG, and a table of their results."""
    from fl.tools.compare import compare as compare_runs

    text, png = compare_runs(list(runs), out)
    click.echo(text + f"curves: {png}")


REUSE_HELP = "Keep finished runs of the same config in --runs-dir instead of rerunning them."


def table_options(runs_dir: str, reuse_help: str = REUSE_HELP):
    """The options every README-table command takes: where its runs go, the README, the network, --reuse."""
    def decorate(command):
        for option in reversed((
                click.option("--runs-dir", default=runs_dir, show_default=True),
                click.option("--readme", default="README.md", show_default=True,
                             help="Where the table goes (between its markers)."),
                click.option("--network", help="Brownie network id (default: the project's)."),
                click.option("--reuse", is_flag=True, help=reuse_help))):
            command = option(command)
        return command

    return decorate


@cli.command()
@click.option("--rounds", default=20, show_default=True, help="Rounds of every run.")
@click.option("--clients", default=20, show_default=True)
@click.option("--seed", default=0, show_default=True)
@table_options(runs_dir="runs/table")
def table(rounds, clients, seed, runs_dir, readme, network, reuse) -> None:
    """Every algorithm on FashionMNIST (Dirichlet 0.1 and IID) on the chain; the results table into the README."""
    from pathlib import Path

    from fl.tools.results_table import make_table

    command = f"python -m fl table --rounds {rounds} --clients {clients} --seed {seed}"
    click.echo(make_table(rounds, clients, seed, Path(runs_dir), Path(readme), network, command, reuse))


@cli.command("niid-bench")
@click.option("--rounds", default=50, show_default=True, help="Rounds of every run (the paper's 50; fewer: not comparable).")
@click.option("--rows", help="Comma-separated rows to run (default all): fedavg, fedprox, scaffold, fednova, fedavg-iid.")
@click.option("--seeds", type=int, help="Seeds per row (default: 3 for FedAvg under Dir(0.5), 1 for the others).")
@click.option("--jobs", default=1, show_default=True, type=int,
              help="Runs at a time, each in a process and on a chain of its own (its output in RUNS_DIR/<row>-s<seed>.log); "
                   "one per core with one torch thread each is fastest for this small CNN.")
@table_options(runs_dir="runs/niid-bench", reuse_help=REUSE_HELP.removesuffix(".") + (
    ", or their records in results/niid-bench/ (the paper's rounds)."))
def niid_bench(rounds, rows, seeds, jobs, runs_dir, readme, network, reuse) -> None:
    """NIID-Bench's FashionMNIST table (Li et al., ICDE 2022) on the chain; ours beside the published figures.

    Each finished run of the paper's 50 rounds leaves its record in results/niid-bench/; the table
    shows every row with records, so rows run at different times add up."""
    from pathlib import Path

    from fl.tools import niid_bench as bench

    picked = bench.pick([r.strip() for r in rows.split(",") if r.strip()] if rows else None, seeds)
    command = "python -m fl niid-bench" + (f" --rounds {rounds}" if rounds != bench.PAPER_ROUNDS else "") + \
        (f" --rows {rows}" if rows else "") + (f" --seeds {seeds}" if seeds is not None else "")
    click.echo(bench.make_table(picked, rounds, Path(runs_dir), Path(readme), network, command, reuse, jobs=jobs))


@cli.command("personalized-table")
@click.option("--rounds", default=20, show_default=True, help="Rounds of every run.")
@click.option("--clients", default=20, show_default=True)
@click.option("--seed", default=0, show_default=True)
@table_options(runs_dir="runs/personalized")
def personalized_table(rounds, clients, seed, runs_dir, readme, network, reuse) -> None:
    """FedPer, FedRep, FedBN and Ditto beside FedAvg (and FedAvg fine-tuned) on FashionMNIST Dirichlet(0.1)."""
    from pathlib import Path

    from fl.tools.personalized_table import make_table

    command = f"python -m fl personalized-table --rounds {rounds} --clients {clients} --seed {seed}"
    click.echo(make_table(rounds, clients, seed, Path(runs_dir), Path(readme), network, command, reuse))


def main(argv: list[str] | None = None) -> None:
    """`python -m fl ...`: click's usage errors and UserErrors both become one `error:` line."""
    def go():
        try:
            cli.main(args=argv, prog_name="python -m fl", standalone_mode=False)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            fail("aborted", 130)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)

    guarded(go)


def _run_folder_script(run_dir: str | None, what: str, script: str, action: Callable[[str], Any]) -> None:
    """A `brownie run scripts/<script>.py [main RUN]` entry point acting on a run folder (or FL_RUN)."""
    def go():
        target = run_dir or os.environ.get("FL_RUN")
        if not target:
            raise UserError(f"say which run to {what}: FL_RUN=runs/<id> brownie run scripts/{script}.py")
        action(target)

    guarded(go)


def verify_script_main(run_dir: str | None = None) -> None:
    """Entry point of `brownie run scripts/verify.py [main RUN]` (or FL_RUN=runs/<id>); exit 1 on failure."""
    def verify_or_exit(target: str) -> None:
        from fl.audit.verify import verify_run

        if not verify_run(target).ok:
            sys.exit(1)

    _run_folder_script(run_dir, "verify", "verify", verify_or_exit)


def rewards_script_main(run_dir: str | None = None) -> None:
    """Entry point of `brownie run scripts/rewards.py [main RUN]` (or FL_RUN=runs/<id>)."""
    def report(target: str) -> None:
        from fl.features.rewards.report import reward_report

        reward_report(target)

    _run_folder_script(run_dir, "read the rewards of", "rewards", report)


def script_main(algo: str) -> None:
    """Entry point of `brownie run scripts/<algo>.py`: the preset configs/<algo>.yaml (or FL_CONFIG),
    overridden by FL_* environment variables."""
    def go():
        from fl.run.experiment import run_experiment

        config_file, knobs, sets = knobs_from_env()
        knobs.setdefault("algo", algo)
        if config_file is None and configuration.preset(algo).is_file():
            config_file = str(configuration.preset(algo))
        run_experiment(build_config(config_file, knobs, sets))

    guarded(go)


# --- model ownership: tokenized models, watermark checks, trading ------------------------------------
FEDIPR_CONFIG = ROOT / "configs" / "fedipr.yaml"


def _ownership_exit(report) -> None:
    if not report.owned:
        sys.exit(1)


@cli.command("tokenize")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--royalty-bps", type=int, default=1000, show_default=True,
              help="Share of a resale price paid to the contributors, in basis points (at most 5000).")
def tokenize_command(run_dir: str, royalty_bps: int) -> None:
    """Mint the run's latest model as a ModelToken (ERC-721), the token of the task round that produced it;
    writes RUN/ownership.json."""
    from fl.features.ownership.owners import tokenize

    tokenize(Path(run_dir), royalty_bps)


@cli.command("verify-ownership")
@click.argument("model_file", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("--token", "token_id", type=int, required=True, help="The model token's id.")
@click.option("--run", "run_dir", type=click.Path(file_okay=False),
              help="Run folder holding the token (default: the latest run with ownership.json).")
@click.option("--threshold", type=float, default=0.9, show_default=True, help="Bit accuracy that counts as owned.")
@click.option("--key", help="Check for this one registered watermark key (0x + 64 hex) instead of the token's owners.")
def verify_ownership_command(model_file: str, token_id: int, run_dir: str | None, threshold: float,
                             key: str | None) -> None:
    """Check MODEL for the watermarks of the token's owners; exit 0 if owned, 1 if not."""
    from fl.features.ownership.owners import verify_ownership

    _ownership_exit(verify_ownership(model_file, token_id, run_dir, threshold, key))


@cli.command("trade")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--price-eth", type=float, default=10.0, show_default=True, help="First sale price.")
@click.option("--resale-eth", type=float, default=15.0, show_default=True, help="Resale price.")
def trade_command(run_dir: str, price_eth: float, resale_eth: float) -> None:
    """List → buy → withdraw the run's model token, then resell it (royalties to the contributors)."""
    from fl.features.ownership.trade import trade, to_wei

    trade(Path(run_dir), to_wei(price_eth), to_wei(resale_eth))


def fedipr_script_main() -> None:
    """Entry point of `brownie run scripts/fedipr.py`: FedIPR (configs/fedipr.yaml unless FL_CONFIG says
    otherwise, FL_* variables as for the other scripts), then the final model minted as a token."""
    def go():
        from fl.features.ownership.owners import tokenize
        from fl.run.experiment import run_experiment

        config_file, knobs, sets = knobs_from_env()
        knobs.setdefault("algo", "fedipr")
        run = run_experiment(build_config(config_file or str(FEDIPR_CONFIG), knobs, sets))
        tokenize(run.path)

    guarded(go)


def _env_value(name: str, kind=str, default=None):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise UserError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def verify_ownership_script_main(model_file: str | None = None, token_id: str | None = None,
                                 run_dir: str | None = None) -> None:
    """Entry point of `brownie run scripts/verify_ownership.py` (FL_MODEL, FL_TOKEN, FL_RUN, FL_THRESHOLD, FL_KEY)."""
    def go():
        from fl.features.ownership.owners import verify_ownership

        model = model_file or _env_value("FL_MODEL")
        token = _env_value("FL_TOKEN", int) if token_id is None else int(token_id)
        if not model or token is None:
            raise UserError("say which model file and token: FL_MODEL=path/to/model.safetensors FL_TOKEN=1 "
                            "brownie run scripts/verify_ownership.py")
        _ownership_exit(verify_ownership(model, token, run_dir or _env_value("FL_RUN"),
                                         _env_value("FL_THRESHOLD", float, 0.9), _env_value("FL_KEY")))

    guarded(go)


def trade_script_main(run_dir: str | None = None) -> None:
    """Entry point of `brownie run scripts/trade_model.py` (FL_RUN, FL_PRICE_ETH, FL_RESALE_ETH)."""
    def go():
        from fl.features.ownership.owners import latest_run
        from fl.features.ownership.trade import to_wei, trade

        target = run_dir or _env_value("FL_RUN")
        trade(Path(target) if target else latest_run(), to_wei(_env_value("FL_PRICE_ETH", float, 10.0)),
              to_wei(_env_value("FL_RESALE_ETH", float, 15.0)))

    guarded(go)
