"""What `verify` checks of a run folder beyond the rounds' chain records: the user-facing config,
the round-1 start model, and the reported accuracy and loss.

**config.yaml.** The file a user reads and edits (and that `--resume` trains with) must describe
the task the chain recorded: `config.build(config.yaml).task_dict()` (the YAML parsed,
validated, with `output`, `chain` and `data.root` dropped) must hash to the config hash the
task contract recorded at deploy: keccak-256 of its RFC 8785 (JCS) form, fl/core/jcs.py. A mismatch
is a setup FAIL naming config.yaml and every key whose value differs from task.json's config
(values compared in their JCS form, so `1` and `1.0` are the same). `--resume` refuses such a
folder (and one whose task.json no longer hashes to the recorded config hash) before it
touches anything: `resume_problem` below.

**Round-1 start model.** The initial global artifact is a pure function of the task config and
the data set's input shape and class count; verify rebuilds it exactly as a run does
(fl/run/experiment.py `prepare`, then fl/run/engine.py `Engine.__init__`):

1. `model = fl.ml.models.build(cfg.model.name, input_shape, num_classes, cfg.seed)`, which calls
   `torch.manual_seed(cfg.seed)` and then the model class's constructor
   (`fl.ml.models.MODELS[name](input_shape, num_classes)`: PyTorch's default initializers drawing
   from the global CPU generator); the `torch.manual_seed(cfg.seed)` that `prepare` calls
   earlier is superseded by this one, and loading the data set draws from its own generators;
2. `algorithm = fl.ml.algorithms.from_config(cfg)`; `algorithm.setup(cfg, model, input_shape)`;
3. `state = algorithm.initial_state(state_of(model))`: the model's state dict (parameters and
   buffers, on the CPU) plus the algorithm's server state: FedAvgM's velocity
   (`server.fedavgm.velocity.*`, zeros), FedAdam/FedYogi/FedAdagrad's moments
   (`server.<name>.m.*` zeros, `.v.*` filled with tau^2), SCAFFOLD's control variate
   (`server.scaffold.c.*`, zeros, parameters only) and client count; the others add nothing;
4. the artifact is `fl.core.codec.encode(state, {"kind": "global", "round": "0"})` and its keccak-256
   must be round 1's start model hash on chain.

`input_shape` and `num_classes` come from the data set named in the config (loaded the way a run
loads it, never downloaded); when its files are not on this machine, from the nominal shapes of
the file-based sets (`NOMINAL_SHAPES`). The recipe depends on PyTorch's initializers, so a
different PyTorch version may draw other weights; the run's torch version is what to use.

**Accuracy and loss.** Every finalized round's global model (from the store, by the hash the
chain finalized) is loaded into the config's model and evaluated on the config's test set
(`data.test_limit` applied) with the training loop's own `fl.ml.training.evaluate` (batches of
`train.eval_batch_size`, `torch.no_grad`, on the CPU). metrics.csv must hold exactly one row per
finalized round (a missing or an extra row fails), whose `global_model` is the finalized hash
and whose `test_accuracy` and `test_loss` match the recomputed ones; summary.json's `rounds`,
`config_hash`, `final_model`, `final_accuracy`, `final_loss`, `best_accuracy` and every
`per_round` entry's `test_accuracy`, `test_loss` and `global_model` must match too.

Tolerance: on the machine that trained, the figures repeat exactly; another machine (another
CPU vector width, thread count or BLAS, or a GPU run checked on a CPU) computes the logits with
different rounding. A prediction can flip only for a test sample whose two largest logits are
within that rounding of each other, so the accuracy may differ by a handful of samples:
`accuracy_tolerance(n) = max(2, n // 1000)` samples of an n-sample test set (10 of
FashionMNIST's 10,000, i.e. 0.1 percentage point; 2 of a 400-sample set). The loss is a mean of
float32 cross-entropies summed per batch and accumulated in float64; reordered float32 sums of a
batch differ by far less than 1e-4 relative, and a flipped near-tie changes its sample's loss
by almost nothing, so the loss must match within `LOSS_RELATIVE_TOLERANCE` = 1e-4 relative.
Measured on the default FashionMNIST CNN (10,000 test samples, 5 rounds): PyTorch's `default`
and `avx2` CPU kernels (ATEN_CPU_CAPABILITY) and 1 or 2 threads flipped no prediction and moved
the loss by at most 2e-8 relative, so these bounds leave wide room for honest machines while an
edited figure (a tenth of a percentage point, a fifth significant digit of the loss) fails.
Not recomputed: the clients' train loss, timings, gas and the attack metrics (they need the
clients' training or the chain's clock).

When the data set is not on this machine the metric check is skipped with a note saying so
(verify still passes on the chain's records); `--no-metrics` skips it knowingly.
"""
from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fl.chain.task import RoundState
from fl.core import codec, config, jcs
from fl.core.errors import UserError
from fl.core.store import ArtifactStore, global_metadata, hex_hash
from fl.ml import algorithms, data, models
from fl.ml.algorithms.api import State, model_part
from fl.ml.training import state_of

#: the loss of a round must match within this relative difference
LOSS_RELATIVE_TOLERANCE = 1e-4
#: the accuracy may differ by max(MIN_TOLERANCE_SAMPLES, n // TOLERANCE_PER_SAMPLES) samples of n
MIN_TOLERANCE_SAMPLES = 2
TOLERANCE_PER_SAMPLES = 1000
#: (input shape, classes) of the file-based data sets, for the start-model check without their files
NOMINAL_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "fashionmnist": ((1, 28, 28), 10), "mnist": ((1, 28, 28), 10), "emnist": ((1, 28, 28), 47),
    "cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100),
}


def accuracy_tolerance(test_samples: int) -> int:
    """How many test samples' predictions may differ between two machines' evaluations."""
    return max(MIN_TOLERANCE_SAMPLES, test_samples // TOLERANCE_PER_SAMPLES)


# --- config.yaml ------------------------------------------------------------------------------
def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _same(a: Any, b: Any) -> bool:
    try:
        return jcs.canonicalize(a) == jcs.canonicalize(b)
    except jcs.JCSError:
        return a == b


def config_differences(found: dict, recorded: dict) -> list[str]:
    """`key: <found> here, <recorded> recorded` for every dotted key whose values differ."""
    a, b = _leaves(found), _leaves(recorded)
    missing = object()
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, missing), b.get(key, missing)
        if x is missing or y is missing or not _same(x, y):
            here = "absent" if x is missing else repr(x)
            there = "absent" if y is missing else repr(y)
            out.append(f"{key}: {here} here, {there} recorded")
    return out


def config_file_problem(run: Path, recorded: dict, recorded_hash: str, whose: str = "the chain") -> str | None:
    """Why `run`/config.yaml does not describe the task config `recorded` (task.json's "config",
    which hashes to `recorded_hash`), or None when it does."""
    path = run / "config.yaml"
    if not path.is_file():
        return "config.yaml is missing"
    try:
        found = config.build(path).task_dict()
        digest = config.config_hash(found)
    except UserError as exc:
        return f"config.yaml: {exc}"
    if digest == recorded_hash:
        return None
    differences = config_differences(found, recorded)
    detail = f" (differs from task.json in {'; '.join(differences)})" if differences else ""
    return f"config.yaml: its task config hashes to {digest}, {whose} recorded {recorded_hash}{detail}"


def resume_problem(run: Path, recorded_hash: str) -> str | None:
    """Why `--resume` must refuse the run folder `run` whose recorded config hash (chain.json's,
    checked against the chain once connected) is `recorded_hash`: task.json or config.yaml edited
    since the run started. None when both still hash to it."""
    try:
        task = json.loads((run / "task.json").read_text())
        recorded = task["config"]
        digest = config.config_hash(recorded)
    except (OSError, ValueError, KeyError, TypeError, UserError) as exc:
        return f"task.json is unreadable ({type(exc).__name__}: {exc})"
    if digest != recorded_hash:
        return f"task.json: its config hashes to {digest}, the run recorded {recorded_hash}"
    return config_file_problem(run, recorded, recorded_hash, whose="the run")


# --- the round-1 start model --------------------------------------------------------------------
def initial_artifact(cfg: config.ExperimentConfig, input_shape: tuple[int, ...], num_classes: int) -> tuple[State, str]:
    """The round-0 global artifact a run of `cfg` starts from, and its hash (the recipe in this
    module's docstring)."""
    model = models.build(cfg.model.name, tuple(input_shape), num_classes, cfg.seed)
    algorithm = algorithms.from_config(cfg)
    algorithm.setup(cfg, model, tuple(input_shape))
    state = algorithm.initial_state(state_of(model))
    return state, hex_hash(codec.keccak(codec.encode(state, global_metadata(0))))


def start_model_problem(cfg: config.ExperimentConfig, input_shape, num_classes: int, on_chain: str) -> str | None:
    try:
        _, expected = initial_artifact(cfg, input_shape, num_classes)
    except UserError as exc:
        return f"start model: cannot rebuild the initial model ({exc})"
    if expected == on_chain:
        return None
    return (f"start model {on_chain} is not the initial model of seed {cfg.seed}, model {cfg.model.name!r} and "
            f"algorithm {cfg.algorithm.name!r}: those give {expected}")


# --- accuracy and loss ---------------------------------------------------------------------------
@dataclass
class Evaluated:
    round: int
    model: str
    correct: int
    samples: int
    loss: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.samples


def _accuracy_problem(what: str, claimed: Any, value: Evaluated) -> str | None:
    try:
        claimed = float(claimed)
    except (TypeError, ValueError):
        return f"{what} {claimed!r} is not a number"
    n, allowed = value.samples, accuracy_tolerance(value.samples)
    if math.isfinite(claimed) and abs(claimed * n - value.correct) <= allowed + 1e-6:
        return None
    return (f"{what} {claimed!r} ({claimed * n:g} of {n}) but the finalized model {value.model} scores "
            f"{value.accuracy!r} ({value.correct} of {n}) on the test set; allowed difference {allowed} samples")


def _loss_problem(what: str, claimed: Any, value: Evaluated) -> str | None:
    try:
        claimed = float(claimed)
    except (TypeError, ValueError):
        return f"{what} {claimed!r} is not a number"
    if math.isfinite(claimed) and abs(claimed - value.loss) <= LOSS_RELATIVE_TOLERANCE * abs(value.loss):
        return None
    relative = abs(claimed - value.loss) / abs(value.loss) if value.loss else math.inf
    return (f"{what} {claimed!r} but the finalized model {value.model} gives {value.loss!r} "
            f"(relative difference {relative:.1e}, allowed {LOSS_RELATIVE_TOLERANCE:.0e})")


def evaluate_rounds(cfg: config.ExperimentConfig, dataset, store: ArtifactStore, finals: dict[int, str],
                    progress: bool = True, problems: dict[int, list[str]] | None = None) -> dict[int, Evaluated]:
    """Each round's finalized model (`finals`: round -> hash; those whose artifact is missing or
    tampered are left out, verify has failed them already) evaluated as training evaluates it.
    A model that does not fit the config's architecture is a problem of its round in `problems`."""
    from tqdm import tqdm

    from fl.ml.training import evaluate

    model = models.build(cfg.model.name, dataset.input_shape, dataset.num_classes, cfg.seed)
    out = {}
    for round_, digest in tqdm(sorted(finals.items()), desc="verify: evaluating", unit="round", leave=False,
                               disable=not progress or len(finals) < 2, dynamic_ncols=True):
        try:
            state, _ = store.get(digest)
        except UserError:
            continue
        try:
            model.load_state_dict(model_part(state))
        except (RuntimeError, KeyError) as exc:
            if problems is not None:
                problems[round_].append(f"global model {digest} does not fit model {cfg.model.name!r}: "
                                        f"{str(exc).splitlines()[0]}")
            continue
        accuracy, loss = evaluate(model, dataset.test_x, dataset.test_y, cfg.train.eval_batch_size)
        samples = len(dataset.test_y)
        out[round_] = Evaluated(round_, digest, int(round(accuracy * samples)), samples, loss)
    return out


def _read_metrics(path: Path) -> tuple[list[dict[str, str]], str | None]:
    try:
        with path.open(newline="") as fh:
            return list(csv.DictReader(fh)), None
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        return [], f"metrics.csv is unreadable ({type(exc).__name__}: {exc})"


def metrics_problems(run: Path, evaluated: dict[int, Evaluated], finals: dict[int, str],
                     round_problems: dict[int, list[str]], output_problems: list[str]) -> None:
    """Compare metrics.csv with the recomputed figures; problems of round r go to round_problems[r]."""
    path = run / "metrics.csv"
    if not path.is_file():
        output_problems.append("metrics.csv is missing")
        return
    rows, unreadable = _read_metrics(path)
    if unreadable:
        output_problems.append(unreadable)
        return
    by_round: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        try:
            key = int(row.get("round") or "")
        except ValueError:
            output_problems.append(f"metrics.csv: a row has round {row.get('round')!r}")
            continue
        by_round.setdefault(key, []).append(row)
    extra = sorted(set(by_round) - set(finals))
    if extra:
        output_problems.append(f"metrics.csv: rows for rounds {extra}, which the chain has not finalized")
    _each_round_entry("metrics.csv:", lambda n: f"metrics.csv has {n or 'no'} row{'s' if n else ''} for this round",
                      by_round, finals, evaluated, round_problems)


def _each_round_entry(source: str, not_one: Callable[[int], str], by_round: dict[Any, list[dict]],
                      finals: dict[int, str], evaluated: dict[int, Evaluated],
                      round_problems: dict[int, list[str]]) -> None:
    """Each finalized round must have exactly one reported entry in `by_round` (`not_one(n)` is the
    problem of a round with n != 1 of them), checked by _entry_problems."""
    for round_ in sorted(finals):
        problems = round_problems[round_]
        found = by_round.get(round_, [])
        if len(found) != 1:
            problems.append(not_one(len(found)))
            continue
        _entry_problems(source, found[0], finals[round_], evaluated.get(round_), problems)


def _entry_problems(source: str, entry: dict, final_model: str, value: Evaluated | None,
                    problems: list[str]) -> None:
    """One round's reported row (metrics.csv) or entry (summary.json per_round) against the chain's
    finalized model and, where it was evaluated, that model's accuracy and loss."""
    if entry.get("global_model") != final_model:
        problems.append(f"{source} global_model {entry.get('global_model')} is not the finalized {final_model}")
    if value is None:
        return
    for problem in (_accuracy_problem(f"{source} test_accuracy", entry.get("test_accuracy"), value),
                    _loss_problem(f"{source} test_loss", entry.get("test_loss"), value)):
        if problem:
            problems.append(problem)


def summary_problems(run: Path, recorded_hash: str, evaluated: dict[int, Evaluated], finals: dict[int, str],
                     round_problems: dict[int, list[str]], output_problems: list[str]) -> None:
    """Compare summary.json's final figures and per-round entries with the recomputed ones."""
    path = run / "summary.json"
    if not path.is_file():
        output_problems.append("summary.json is missing")
        return
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        output_problems.append(f"summary.json is unreadable ({type(exc).__name__}: {exc})")
        return
    if not isinstance(summary, dict):
        output_problems.append("summary.json does not hold an object")
        return
    if summary.get("config_hash") != recorded_hash:
        output_problems.append(f"summary.json: config_hash {summary.get('config_hash')} is not the recorded {recorded_hash}")
    if summary.get("rounds") != len(finals):
        output_problems.append(f"summary.json: rounds {summary.get('rounds')!r}, the chain finalized {len(finals)}")
    if finals:
        last = max(finals)
        if summary.get("final_model") != finals[last]:
            output_problems.append(f"summary.json: final_model {summary.get('final_model')} is not round {last}'s "
                                   f"finalized {finals[last]}")
        if last in evaluated:
            for problem in (_accuracy_problem("summary.json: final_accuracy", summary.get("final_accuracy"),
                                              evaluated[last]),
                            _loss_problem("summary.json: final_loss", summary.get("final_loss"), evaluated[last])):
                if problem:
                    output_problems.append(problem)
        if len(evaluated) == len(finals):
            best = max(evaluated.values(), key=lambda e: (e.correct, -e.round))
            problem = _accuracy_problem("summary.json: best_accuracy", summary.get("best_accuracy"), best)
            if problem:
                output_problems.append(problem.replace("the finalized model", f"the best round's ({best.round}) model"))
    entries = summary.get("per_round")
    if not isinstance(entries, list):
        output_problems.append("summary.json: per_round is missing")
        return
    by_round: dict[Any, list[dict]] = {}
    for entry in entries:
        by_round.setdefault(entry.get("round") if isinstance(entry, dict) else None, []).append(entry)
    extra = sorted(str(r) for r in set(by_round) - set(finals))
    if extra:
        output_problems.append(f"summary.json: per_round entries for rounds {', '.join(extra)}, "
                               "which the chain has not finalized")
    _each_round_entry("summary.json: per_round",
                      lambda n: f"summary.json has {n or 'no'} per_round entries for this round",
                      by_round, finals, evaluated, round_problems)


# --- all of it -----------------------------------------------------------------------------------
def _data_root(run: Path) -> str | None:
    """data.root of config.yaml (where the run looked for files; not part of the task config)."""
    try:
        return config.build(run / "config.yaml").data.root
    except UserError:
        return None


def _load_data(cfg: config.ExperimentConfig, run: Path):
    """The data set as the run loaded it (test_limit and train_limit applied), or (None, why not)."""
    try:
        dataset = data.load(cfg.data.name, _data_root(run), allow_download=False, params=cfg.data.params)
    except UserError as exc:
        return None, str(exc)
    return dataset.limit(cfg.data.train_limit, cfg.data.test_limit), None


def check_run_folder(run: Path, cfg: config.ExperimentConfig, recorded: dict, task, report,
                     metrics: bool = True, progress: bool = True) -> None:
    """Add the problems and notes of config.yaml, the round-1 start model and the reported metrics
    of the run folder `run` to `report` (a fl.audit.verify.Report); `cfg`/`recorded` are the task config
    of task.json, `task` the run's TaskChain."""
    recorded_hash = task.config_hash()
    problem = config_file_problem(run, recorded, recorded_hash)
    if problem:
        report.setup_problems.append(problem)
    verdicts = {v.round: v for v in report.rounds}
    records = {r: task.round_record(r) for r in verdicts}
    finals = {r: rec.final_model for r, rec in records.items() if rec.state == RoundState.FINALIZED}
    if metrics and finals:
        dataset, missing = _load_data(cfg, run)
    elif 1 in records and cfg.data.name not in NOMINAL_SHAPES:  # only the shapes are needed
        dataset, missing = _load_data(cfg, run)
    else:
        dataset, missing = None, None

    if 1 in records:
        if dataset is not None:
            shape = (dataset.input_shape, dataset.num_classes)
        else:
            shape = NOMINAL_SHAPES.get(cfg.data.name)
        if shape is None:
            report.notes.append(f"round 1's start model not checked: {missing}")
        else:
            problem = start_model_problem(cfg, shape[0], shape[1], records[1].start_model)
            if problem:
                verdicts[1].problems.append(problem)

    if not metrics:
        report.notes.append("metrics.csv and summary.json not checked (--no-metrics)")
        return
    if dataset is None and finals:
        report.notes.append(f"metrics.csv and summary.json not checked: the data set is not on this machine "
                            f"({missing}); pass --no-metrics to skip this check knowingly")
        return
    store = ArtifactStore(run / "artifacts")
    round_problems = {r: verdicts[r].problems for r in verdicts}
    evaluated = evaluate_rounds(cfg, dataset, store, finals, progress, round_problems) if finals else {}
    metrics_problems(run, evaluated, finals, round_problems, report.output_problems)
    summary_problems(run, recorded_hash, evaluated, finals, round_problems, report.output_problems)
