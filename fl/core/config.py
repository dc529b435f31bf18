"""One dataclass tree for an experiment, loaded from YAML presets and overridden by flags.

The task config hash recorded on chain is keccak-256 of the RFC 8785 (JCS) form of the fields
that change results (`task_dict`: everything but `output`, `chain` and `data.root`), written by
fl/core/jcs.py, so it does not depend on how Python formats numbers (`1.0` and `1` are both `1`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from fl.core.errors import UserError
from fl.core.paths import ROOT

OPTIMIZERS = ("sgd", "adam")
PRESETS_DIR = ROOT / "configs"
DEVICES = ("cpu", "cuda")
#: where a run's per-round figures may also go (`output.log`, `--log`): fl/run/tracking/
TRACKERS = ("tensorboard", "mlflow")
COMMIT_MODES = ("batch", "direct")
COMMITTEE_STRATEGIES = ("robust", "accuracy")  # ICommittee.Strategy, by value


@dataclass
class DataConfig:
    name: str = "fashionmnist"
    root: str | None = None  # where to look for data files first; None = the defaults
    test_limit: int | None = None  # evaluate on the first N test samples only (tests, smoke runs)
    train_limit: int | None = None  # train on the first N training samples only
    params: dict[str, Any] = field(default_factory=dict)  # data set parameters, e.g. synthetic's alpha and beta


@dataclass
class PartitionConfig:
    method: str = "iid"
    alpha: float = 0.5  # Dirichlet concentration; smaller = more label skew
    classes_per_client: int = 2  # shards: how many classes each client holds
    power: float = 1.5  # quantity: tail index of the power law of client sizes; smaller = more unequal


@dataclass
class ModelConfig:
    name: str = "cnn"


@dataclass
class TrainConfig:
    clients: int = 10
    rounds: int = 5
    fraction: float = 1.0  # share of clients sampled each round
    local_epochs: int = 1
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    device: str = "cpu"
    augment: str | None = None  # batch augmentation for image sets: none, crop, flip or crop+flip
    eval_batch_size: int = 500  # test-set forward passes; 500 keeps the small CNN in cache (0.30 s vs 0.56 s at 2000, 1 thread)
    threads: int | None = None  # torch CPU threads; results are bit-identical only for the same count (None: torch's default)


@dataclass
class AlgorithmConfig:
    name: str = "fedavg"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChainConfig:
    enabled: bool = True  # false: simulation only, nothing committed anywhere (benchmarks)
    network: str | None = None  # Brownie network id; None = the project's (brownie-config.yaml)
    commit_mode: str = "batch"  # batch: clients sign (EIP-712), the aggregator relays; direct: one tx per client
    batch_size: int = 32  # signed registrations / commitments per transaction; full batches go out while clients train
    persist: bool = True  # keep a launched Ganache's database in the run folder (for verify and resume)


@dataclass
class AggregationConfig:
    rule: str = "mean"  # mean (FedAvg's weighted mean) or a robust rule of fl/ml/robust/rules
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class AttackConfig:
    name: str = "none"  # an attack of fl/ml/robust/attacks
    fraction: float = 0.0  # share of the clients that are malicious, chosen by seed
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CommitteeConfig:
    size: int = 0  # committee members per round (0 = no committee); see contracts/Committee.sol
    strategy: str = "robust"  # robust: aggregate the highest scores; accuracy: the lowest
    select_fraction: float = 0.5  # share of the scored updates that are aggregated


@dataclass
class RewardsConfig:
    budget: int = 0  # reward tokens minted per finalized round (0 = no reward token)
    committee_share: float = 0.1  # share of the budget paid to the committee members who scored


@dataclass
class AttendanceConfig:
    enabled: bool = False  # count on chain, per client, the finalized rounds it was aggregated in (contracts/Attendance.sol)


@dataclass
class OutputConfig:
    runs_dir: str = "runs"
    run_name: str | None = None
    progress: bool = True
    log: list[str] = field(default_factory=list)  # trackers the run also logs to: tensorboard, mlflow


@dataclass
class PersonalizationConfig:
    evaluate: bool = False  # each client's accuracy on its own test split, per round (always on for personalized algorithms)
    fine_tune_epochs: int = 0  # before that evaluation, each client fine-tunes the global model this many epochs on its data


#: sections added after runs existed (on-chain features, personalized evaluation): they enter the task config (and its
#: hash) only when they differ from their defaults, so that every earlier run keeps its config hash
OPTIONAL_SECTIONS = ("attendance", "personalization")


@dataclass
class ExperimentConfig:
    seed: int = 0
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig)
    data: DataConfig = field(default_factory=DataConfig)
    partition: PartitionConfig = field(default_factory=PartitionConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    chain: ChainConfig = field(default_factory=ChainConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)
    attack: AttackConfig = field(default_factory=AttackConfig)
    committee: CommitteeConfig = field(default_factory=CommitteeConfig)
    rewards: RewardsConfig = field(default_factory=RewardsConfig)
    attendance: AttendanceConfig = field(default_factory=AttendanceConfig)
    personalization: PersonalizationConfig = field(default_factory=PersonalizationConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def task_dict(self) -> dict[str, Any]:
        """The fields that determine the experiment's results (what the chain records)."""
        d = self.to_dict()
        for key in ("output", "chain"):
            d.pop(key)
        d["data"].pop("root")
        for key in OPTIONAL_SECTIONS:  # added after runs existed: hashed only when switched on
            if d[key] == dataclasses.asdict(getattr(ExperimentConfig(), key)):
                d.pop(key)
        return d

    def canonical_json(self) -> bytes:
        """The RFC 8785 (JCS) bytes of `task_dict()`: what the config hash is the keccak-256 of."""
        return task_json(self.task_dict())

    def config_hash(self) -> str:
        """0x-prefixed keccak-256 of `canonical_json()`: the hash the task contract records."""
        return config_hash(self.task_dict())


def task_json(task: dict[str, Any]) -> bytes:
    """The canonical (RFC 8785) bytes of a task config dict (task.json's "config")."""
    from fl.core.jcs import JCSError, canonicalize

    try:
        return canonicalize(task)
    except JCSError as exc:
        raise UserError(f"config: cannot be hashed: {exc}") from None


def config_hash(task: dict[str, Any]) -> str:
    """0x-prefixed keccak-256 of the RFC 8785 form of a task config dict."""
    from eth_utils import keccak

    return "0x" + keccak(task_json(task)).hex()


def _from_dict(cls: type, data: Any, where: str):
    if not isinstance(data, dict):
        raise UserError(f"config: {where or 'top level'} must be a mapping, got {type(data).__name__} {data!r}")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in names:
            raise UserError(f"config: unknown key {path!r}; valid keys{' under ' + where if where else ''}: {', '.join(names)}")
        kwargs[key] = _coerce(hints[key], value, path)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, path: str):
    if dataclasses.is_dataclass(hint):
        return _from_dict(hint, value, path)
    text = str(hint)
    optional = "None" in text
    if value is None:
        if optional:
            return None
        raise UserError(f"config: {path} must not be empty")
    if hint is bool or text.startswith("bool"):
        if isinstance(value, bool):
            return value
        raise UserError(f"config: {path} must be true or false, got {value!r}")
    if hint is int or text.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"config: {path} must be an integer, got {value!r}")
        return value
    if hint is float or text.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"config: {path} must be a number, got {value!r}")
        return float(value)
    if hint is str or text.startswith("str"):
        if not isinstance(value, str):
            raise UserError(f"config: {path} must be a string, got {value!r}")
        return value
    if text.startswith("dict"):
        if not isinstance(value, dict):
            raise UserError(f"config: {path} must be a mapping, got {value!r}")
        return dict(value)
    return value


def preset(algorithm: str) -> Path:
    """configs/<algorithm>.yaml: the algorithm's default preset (FashionMNIST, runs offline)."""
    return PRESETS_DIR / f"{algorithm}.yaml"


def from_dict(data: dict[str, Any]) -> ExperimentConfig:
    return _from_dict(ExperimentConfig, data, "")


def load(path: str | Path | None) -> dict[str, Any]:
    """Read a YAML config file into a plain dict (not yet validated)."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"config file {str(path)!r} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"config file {str(path)!r} must hold a mapping at the top level, got {type(data).__name__}")
    return data


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in a nested dict, creating the intermediate mappings."""
    node = data
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise UserError(f"config: {dotted} cannot be set because {key} is not a mapping")
    node[last] = value


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Check value ranges; names (algorithm, data set, model, ...) are checked by their registries."""
    t = cfg.train
    positive = {"train.clients": t.clients, "train.rounds": t.rounds, "train.local_epochs": t.local_epochs,
                "train.batch_size": t.batch_size, "train.eval_batch_size": t.eval_batch_size,
                "chain.batch_size": cfg.chain.batch_size,
                "partition.classes_per_client": cfg.partition.classes_per_client}
    for name, value in positive.items():
        if value <= 0:
            raise UserError(f"{name} must be a positive integer, got {value}")
    if not 0.0 < t.fraction <= 1.0:
        raise UserError(f"train.fraction must be in (0, 1], got {t.fraction}")
    for name, value in {"train.lr": t.lr, "partition.alpha": cfg.partition.alpha,
                        "partition.power": cfg.partition.power}.items():
        if not (value > 0 and math.isfinite(value)):
            raise UserError(f"{name} must be a positive number, got {value}")
    for name, value in {"train.momentum": t.momentum, "train.weight_decay": t.weight_decay}.items():
        if not (value >= 0 and math.isfinite(value)):
            raise UserError(f"{name} must be a non-negative number, got {value}")
    if t.threads is not None and t.threads <= 0:
        raise UserError(f"train.threads must be a positive integer, got {t.threads}")
    if cfg.chain.commit_mode not in COMMIT_MODES:
        raise UserError(f"unknown chain.commit_mode {cfg.chain.commit_mode!r}; choose one of: {', '.join(COMMIT_MODES)}")
    if cfg.seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {cfg.seed}")
    for name in ("test_limit", "train_limit"):
        value = getattr(cfg.data, name)
        if value is not None and value <= 0:
            raise UserError(f"data.{name} must be a positive integer, got {value}")
    if not isinstance(cfg.output.log, list):
        raise UserError(f"output.log must be a list of trackers ({', '.join(TRACKERS)}), got {cfg.output.log!r}")
    for name in cfg.output.log:
        if name not in TRACKERS:
            raise UserError(f"unknown tracker {name!r} in output.log / --log; choose from: {', '.join(TRACKERS)}")
    _validate_robustness(cfg)
    return cfg


def _validate_robustness(cfg: ExperimentConfig) -> None:
    """Ranges of the attack, committee and rewards sections (names are checked by their registries)."""
    if not 0.0 <= cfg.attack.fraction < 1.0:
        raise UserError(f"attack.fraction must be in [0, 1), got {cfg.attack.fraction}")
    c = cfg.committee
    if c.size < 0:
        raise UserError(f"committee.size must be a non-negative integer (0 = no committee), got {c.size}")
    if c.size >= cfg.train.clients:
        raise UserError(f"committee.size {c.size} must be smaller than train.clients {cfg.train.clients} "
                        "(the committee scores the other clients' updates)")
    if c.strategy not in COMMITTEE_STRATEGIES:
        raise UserError(f"unknown committee.strategy {c.strategy!r}; choose one of: {', '.join(COMMITTEE_STRATEGIES)}")
    if not 0.0 < c.select_fraction <= 1.0:
        raise UserError(f"committee.select_fraction must be in (0, 1], got {c.select_fraction}")
    if cfg.rewards.budget < 0:
        raise UserError(f"rewards.budget must be a non-negative integer (0 = no reward token), got {cfg.rewards.budget}")
    if not 0.0 <= cfg.rewards.committee_share < 1.0:
        raise UserError(f"rewards.committee_share must be in [0, 1), got {cfg.rewards.committee_share}")
    for name, value in (("output.run_name", cfg.output.run_name), ("output.runs_dir", cfg.output.runs_dir)):
        if value and any(c.isspace() for c in value):
            raise UserError(f"{name} {value!r} contains whitespace, which the chain's launch command cannot take (its "
                            f"database lives in the run folder); use a name without spaces")
    if cfg.personalization.fine_tune_epochs < 0:
        raise UserError(f"personalization.fine_tune_epochs must be a non-negative integer (0 = no fine-tuning), "
                        f"got {cfg.personalization.fine_tune_epochs}")
    if cfg.personalization.fine_tune_epochs and not cfg.personalization.evaluate:
        raise UserError(f"personalization.fine_tune_epochs {cfg.personalization.fine_tune_epochs} fine-tunes before the "
                        "personalized evaluation: set personalization.evaluate true as well")


def build(config_file: str | Path | None = None, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """Config file (or the defaults), then `overrides` ({'train.rounds': 20, ...}), validated."""
    data = load(config_file)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            set_path(data, dotted, value)
    return validate(from_dict(data))


def to_yaml(cfg: ExperimentConfig) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
