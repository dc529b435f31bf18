"""Tokenized models: minting a run's final model as an ERC-721, checking a model file against a
token's watermark owners, and trading the token ("Tokenized Model", Li, Lai, Liao, Chen, Zheng, 2023).

A token is the token of one round of one task (`tokenOf(task, round)`): it proves that task
finalized that model hash with those contributors, not that the task was the first or only one to
produce it (see contracts/ModelToken.sol). `verify-ownership` therefore prints the token's task,
notes when that is not the run's task, and lists any other tokens of the same ModelToken that name
the same model hash (each with its task and round).

A run's ownership contracts are recorded in `ownership.json` of its run folder; every step here
works on the run's own chain (relaunched from the run folder when it kept its state, like `verify`).
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import torch

from fl.chain.run_chain import run_chain
from fl.chain.task import RoundState
from fl.core import codec
from fl.core.errors import UserError
from fl.core.store import hex_hash
from fl.ml.watermark.key import Watermark, commitment, parse_key
from fl.ml.watermark.signature import bit_accuracy, false_positive_probability, scale_vector

OWNERSHIP_FILE = "ownership.json"
DEFAULT_THRESHOLD = 0.9
DEFAULT_ROYALTY_BPS = 1000
MAX_ROYALTY_BPS = 5000  # ModelToken.MAX_ROYALTY_BPS


def read_ownership(run: Path) -> dict:
    path = run / OWNERSHIP_FILE
    if not path.is_file():
        raise UserError(f"run {run} has no tokenized model ({OWNERSHIP_FILE} is missing); "
                        "mint one first: `brownie run scripts/fedipr.py` mints the final model of its run")
    return json.loads(path.read_text())


def latest_run(runs_dir: Path = Path("runs")) -> Path:
    """The most recent run folder with a tokenized model."""
    minted = sorted(runs_dir.glob(f"*/{OWNERSHIP_FILE}"), key=lambda p: p.stat().st_mtime)
    if not minted:
        raise UserError(f"no run in {runs_dir}/ has a tokenized model; run `brownie run scripts/fedipr.py` first "
                        "or name the run folder")
    return minted[-1].parent


# --- minting ----------------------------------------------------------------------------------------
def model_round(task) -> int:
    """The round that produced the task's latest global model: the last finalized round, or the
    round before it for as long as a round finalized the model it started from (a round without
    participants keeps its start model, and the token contract mints no token for such a round:
    the model is the earlier round's). 0 if no finalized round changed the model."""
    round_ = task.current_round()
    if round_ and task.round_record(round_).state != RoundState.FINALIZED:
        round_ -= 1
    while round_ >= 1:
        record = task.round_record(round_)
        if record.final_model != record.start_model:
            break
        round_ -= 1
    return round_


def tokenize(run: Path, royalty_bps: int = DEFAULT_ROYALTY_BPS, print_line=print) -> dict:
    """Deploy the run's ModelToken and marketplace and mint its latest model (the token of the round that
    produced it, `model_round`); writes ownership.json."""
    from fl.chain import TaskChain
    from fl.chain.ownership import Ownership
    from fl.chain.watermark import RegistryChain

    if not 0 <= royalty_bps <= MAX_ROYALTY_BPS:
        raise UserError(f"royalty must be 0 to {MAX_ROYALTY_BPS} basis points, got {royalty_bps}")
    if (run / OWNERSHIP_FILE).is_file():
        raise UserError(f"run {run} is already tokenized (see {run / OWNERSHIP_FILE})")
    with run_chain(run) as info:
        task = TaskChain.attach(info["contract"])
        registry = (info.get("algorithm") or {}).get("watermark_registry") or \
            RegistryChain.deploy(task.aggregator).address
        ownership = Ownership.deploy(registry, task.aggregator)
        deployed = ownership.stats.snapshot()
        round_ = model_round(task)
        if round_ < 1:
            raise UserError(f"run {run} has no finalized round that produced a model to tokenize")
        token_id = ownership.mint(task, round_, royalty_bps)
        if ownership.token_of(task.address, round_) != token_id:
            raise UserError(f"the ModelToken at {ownership.token.address} does not list token {token_id} "
                            f"as round {round_} of task {task.address}")
        record = ownership.record(token_id)
        result = {"registry": registry, "token": ownership.token.address, "market": ownership.market.address,
                  "token_id": token_id, "round": round_, "model_hash": record.model_hash, "royalty_bps": royalty_bps,
                  "gas": {"deploy_token_and_market": deployed.gas, "mint": ownership.stats.since(deployed).gas}}
    (run / OWNERSHIP_FILE).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    owners = sum(c.watermarked for c in record.contributors)
    print_line(f"minted token {token_id} for model {record.model_hash} (round {round_}): "
               f"{len(record.contributors)} contributors, {owners} watermark owner(s); ModelToken at {result['token']}")
    return result


# --- checking a model file --------------------------------------------------------------------------
def _declared_size(data: bytes) -> int:
    """The byte count a safetensors file's header describes."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    ends = [info["data_offsets"][1] for name, info in header.items() if name != "__metadata__"]
    return 8 + length + max(ends, default=0)


def load_model_file(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """A model file's tensors and the keccak-256 of its bytes; UserError for anything not a whole model."""
    if not path.is_file():
        raise UserError(f"model file {str(path)!r} does not exist")
    data = path.read_bytes()
    try:
        tensors, _ = codec.decode(data)
        declared = _declared_size(data)
    except (UserError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise UserError(f"model file {str(path)!r} is not a model in safetensors format ({exc})") from None
    if declared != len(data):
        raise UserError(f"model file {str(path)!r} is tampered or truncated: {len(data)} bytes, "
                        f"its header describes {declared}")
    return tensors, hex_hash(codec.keccak(data))


@dataclass
class OwnerCheck:
    owner: str
    commitment: str
    matched: int
    bits: int
    threshold: float

    @property
    def accuracy(self) -> float:
        return self.matched / self.bits

    @property
    def owned(self) -> bool:
        return self.accuracy >= self.threshold

    def line(self) -> str:
        chance = false_positive_probability(self.bits, self.accuracy)
        return (f"owner {self.owner} (key {self.commitment[:10]}…): {self.matched}/{self.bits} bits "
                f"({100 * self.accuracy:.1f}%; by chance: {chance:.1e}): {'OWNED' if self.owned else 'not owned'}")


@dataclass
class OwnershipReport:
    token_id: int
    model_hash: str
    file_hash: str
    checks: list[OwnerCheck] = field(default_factory=list)

    @property
    def owned(self) -> bool:
        return any(c.owned for c in self.checks)


def check_owner(gamma: torch.Tensor, owner: str, key: bytes, bits: int, threshold: float) -> OwnerCheck:
    watermark = Watermark(key, bits)
    matched = round(bit_accuracy(gamma, watermark) * bits)
    return OwnerCheck(owner, commitment(key), matched, bits, threshold)


def verify_ownership(model_file: str | Path, token_id: int, run: str | Path | None = None,
                     threshold: float = DEFAULT_THRESHOLD, key: str | None = None,
                     print_line=print) -> OwnershipReport:
    """Check `model_file` for the watermarks of token `token_id`'s owners (or for the single
    registered `key`), each against `threshold` bit accuracy."""
    from fl.chain.ownership import Ownership
    from fl.chain.watermark import RegistryChain

    if not 0.5 < threshold <= 1.0:
        raise UserError(f"threshold must be in (0.5, 1], got {threshold}")
    wanted = parse_key(key) if key is not None else None
    tensors, file_hash = load_model_file(Path(model_file))
    gamma = scale_vector(tensors).float()
    run = Path(run) if run is not None else latest_run()
    deployed = read_ownership(run)
    with run_chain(run) as info:
        ownership = Ownership.attach(deployed["token"], deployed["market"])
        registry = RegistryChain.attach(deployed["registry"])
        record = ownership.record(token_id)
        others = [t for t in ownership.tokens_of_model(record.model_hash) if t[0] != token_id]
        report = OwnershipReport(token_id, record.model_hash, file_hash)
        commitments = [commitment(wanted)] if wanted else [c.watermark for c in record.contributors if c.watermarked]
        label = f"watermark key 0x{wanted.hex()}" if wanted else None
        for digest in commitments:
            entry = registry.record(digest, label)
            if commitment(entry.key) != digest:
                raise UserError(f"the registry's key for commitment {digest} does not hash to it")
            report.checks.append(check_owner(gamma, entry.owner, entry.key, entry.bits, threshold))
    same = "the tokenized model itself" if file_hash == record.model_hash else "not the tokenized model byte for byte"
    print_line(f"token {token_id}: model {record.model_hash}, round {record.round} of task {record.task}, "
               f"{len(record.contributors)} contributors")
    print_line(f"model file {model_file}: {file_hash} ({same})")
    if record.task.lower() != str(info["contract"]).lower():
        print_line(f"note: token {token_id} names task {record.task}, not this run's task {info['contract']}")
    if others:
        listed = ", ".join(f"token {t} (round {r} of task {task})" for t, task, r in others)
        print_line(f"note: other tokens name the same model hash: {listed}; a token proves only that its own "
                   "task finalized the model, so check which task you trust")
    if wanted and all(c.watermark != report.checks[0].commitment for c in record.contributors):
        print_line(f"note: key {report.checks[0].commitment[:10]}… is registered but belongs to none of the token's owners")
    if not report.checks:
        print_line("the token has no watermark owners: nothing to check")
    for check in report.checks:
        print_line(check.line())
    owners = sum(c.owned for c in report.checks)
    print_line(f"verdict: {'OWNED' if report.owned else 'NOT OWNED'} "
               f"({owners} of {len(report.checks)} key(s) detected at threshold {100 * threshold:.0f}%)")
    return report
