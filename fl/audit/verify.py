"""Audit a finished run from the chain and the content-addressed store alone.

For every round recorded on chain: each committed update's artifact must exist and hash to
its commitment, and the commitment must have been signed (or sent) by the registered account
of that client; the round must start from the previous round's model; the weights and the
aggregation rule recorded at finalize must be those of the committed updates and the task's
algorithm; and recomputing the aggregation from the stored updates must give, bit for bit,
the global model the aggregator finalized. Nothing the aggregator says off chain is trusted:
the config is checked against the hash the chain recorded at deploy (keccak-256 of its RFC 8785
form, fl/core/jcs.py). What the run folder reports beside the chain's records (config.yaml, the
round-1 start model, the accuracy and loss in metrics.csv and summary.json) is checked by
fl/audit/outputs.py, whose docstring states how and with what tolerance. A round finalized with
no participants must end on its start model (final == start; the contract enforces it too).
Personalized algorithms (fl/ml/algorithms/personal.py): the aggregation checked is that of the
shared tensors; each update must carry the 32-byte hash of the client's personal artifact, and
where the run folder holds the clients' stores (`personal/`) that artifact must be there and intact.
VERIFY.md specifies every check precisely enough to implement without this code (refverify/ is
such an implementation).

Weights and their trust assumption: a participant's aggregation weight is the `num_samples` in
the metadata of its update artifact, which the client signs (or sends) through the update hash
it commits; verify recomputes every weight from those signed artifacts and fails a round whose
on-chain weights differ, so the aggregator cannot re-weight clients. The local work that SCAFFOLD
and FedNova weigh rests on the same claim: an update's signed `steps` may not exceed what its
`num_samples` give in the task's local epochs, and FedNova's `a_norm` must be that of its
`steps` (an update that breaks either is invalid). What no one can check from
the chain and the store is whether a signed count is true: a client may claim more samples than
it holds, and the aggregator may register sybil clients (keys it controls, registered before
round 1 like any other) that sign huge counts. Such an update gets its claimed weight in the
aggregate and its share of the round's reward, and the run still verifies. verify proves that
the rounds were computed as recorded from what the registered clients signed, not that the
registered clients are distinct, honest parties.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import keccak

from fl.chain import signing
from fl.chain.commit_log import CommitLog
from fl.chain.run_chain import run_task
from fl.chain.task import RoundState
from fl.core import codec, config
from fl.core.errors import UserError
from fl.core.store import ArtifactMissing, ArtifactStore, ArtifactTampered, global_metadata, hex_hash
from fl.features import registry
from fl.features.base import RoundEvidence
from fl.ml import algorithms
from fl.ml.algorithms.api import Update, personal_metadata
from fl.ml.algorithms.personal import personal_digest


@dataclass
class RoundVerdict:
    round: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    aggregated: int = 0
    model: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            text = f"round {self.round}: OK ({self.aggregated} updates aggregated, model {self.model})"
        else:
            text = f"round {self.round}: FAIL " + "; ".join(self.problems)
        return text + "".join(f"\n  note: {n}" for n in self.notes)


@dataclass
class Report:
    setup_problems: list[str]
    rounds: list[RoundVerdict]
    #: problems of metrics.csv and summary.json that belong to no single round
    output_problems: list[str] = field(default_factory=list)
    #: checks that could not run here, and why (e.g. the data set is not on this machine)
    notes: list[str] = field(default_factory=list)
    #: problems an on-chain feature finds only over all rounds ("rewards: client 3 holds ...")
    feature_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.setup_problems or self.output_problems or self.feature_problems) \
            and all(r.ok for r in self.rounds)


class _Store:
    """The run's store, turning its errors into verdict lines instead of exceptions."""

    def __init__(self, root: Path):
        self.store = ArtifactStore(root)

    def load(self, digest: str, what: str, problems: list[str]):
        """`ArtifactStore.get`, or None with why added to `problems` (`what` names the artifact)."""
        try:
            return self.store.get(digest)
        except ArtifactMissing:
            problems.append(f"{what} artifact {digest} is missing")
        except ArtifactTampered as exc:
            problems.append(f"{what} artifact tampered: expected hash {digest}, found {exc.found}")
        except UserError as exc:  # malformed bytes
            problems.append(f"{what} artifact {digest}: {exc}")
        return None


def _check_personal(personal: _Store | None, round_: int, client_id: int, update: Update, problems: list[str]) -> None:
    """A personalized algorithm's update commits the hash of the client's personal artifact
    (without it the update is invalid, see `Personalized.update_problem`); where the run folder
    holds the clients' stores (`personal/`), that artifact must be there, intact and labelled with
    the round and client."""
    who = f"client {client_id}:"
    name = personal_digest(update.tensors)
    if personal is None or name is None:
        return
    loaded = personal.load(name, f"{who} personal", problems)
    if loaded is not None and loaded[1] != personal_metadata(round_, client_id):
        problems.append(f"{who} personal artifact {name} is labelled {loaded[1]}")


def _decimal(text: str | None, low: int) -> int | None:
    """`text` as a canonical base-10 integer (digits only, no leading zeros) of at least `low`, else None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or str(int(text)) != text:
        return None
    return int(text) if int(text) >= low else None


def _task_config(run: Path) -> tuple[config.ExperimentConfig, str, list[str]]:
    problems = []
    task = json.loads((run / "task.json").read_text())
    digest = config.config_hash(task["config"])
    if digest != task["config_hash"]:
        problems.append(f"task.json: its config hashes to {digest}, but it claims {task['config_hash']}")
    return config.from_dict(task["config"]), digest, problems


def verify_task(run: Path, task, metrics: bool = True, progress: bool = False) -> Report:
    """Check every round of the run folder `run` against the connected chain's task contract;
    `metrics` False skips re-evaluating the reported accuracy and loss."""
    cfg, config_hash, setup = _task_config(run)
    if task.config_hash() != config_hash:
        setup.append(f"config: the chain recorded {task.config_hash()}, the run folder's config hashes to {config_hash}")
    algorithm = algorithms.from_config(cfg)
    info = json.loads((run / "chain.json").read_text())
    audits = {feature.name: feature.audit(cfg, task, info) for feature in registry.enabled(cfg)}
    audits = {name: audit for name, audit in audits.items() if audit is not None}
    for audit in audits.values():
        setup.extend(audit.setup_problems)
    store = _Store(run / "artifacts")
    personal = _Store(run / "personal") if (run / "personal").is_dir() else None
    log = CommitLog(task)
    committers = {(e.args.round, e.args.clientId): e for e in log.events("UpdateCommitted")}
    finalized = {e.args.round: e for e in log.events("RoundFinalized")}
    accounts: dict[int, str] = {}
    verdicts = []
    previous_model = None
    for round_ in range(1, task.current_round() + 1):
        record = task.round_record(round_)
        verdict = RoundVerdict(round_, model=record.final_model)
        verdicts.append(verdict)
        problems = verdict.problems
        if record.state != RoundState.FINALIZED:
            problems.append("not finalized (the run was interrupted: resume it)")
            continue
        if previous_model is not None and record.start_model != previous_model:
            problems.append(f"started from model {record.start_model}, but round {round_ - 1} finalized {previous_model}")
        previous_model = record.final_model

        updates: dict[int, Update] = {}
        for client_id, commitment in sorted(record.commitments.items()):
            who = f"client {client_id}:"
            if client_id not in accounts:
                accounts[client_id] = task.client_address(client_id)
            event = committers.get((round_, client_id))
            signer = log.committer(event) if event is not None else None
            if signer is None or signer.lower() != accounts[client_id].lower():
                problems.append(f"{who} commitment signed by {signer}, registered account is {accounts[client_id]}")
            loaded = store.load(commitment, f"{who} update", problems)
            if loaded is None:
                continue
            tensors, metadata = loaded
            if (metadata.get("round"), metadata.get("client")) != (str(round_), str(client_id)):
                problems.append(f"{who} artifact {commitment} is labelled round {metadata.get('round')} "
                                f"client {metadata.get('client')}")
                continue
            counts = {key: metadata.get(key) for key in ("kind", "num_samples", "steps")}
            if counts["kind"] != "update" or _decimal(counts["num_samples"], 1) is None \
                    or _decimal(counts["steps"], 0) is None:
                problems.append(f"{who} artifact {commitment} is not an update with canonical decimal counts "
                                f"(kind {counts['kind']!r}, num_samples {counts['num_samples']!r}, "
                                f"steps {counts['steps']!r})")
                continue
            updates[client_id] = Update.from_artifact(tensors, metadata)

        if algorithm.personalized:
            for client_id, update in sorted(updates.items()):
                _check_personal(personal, round_, client_id, update, problems)

        if sorted(record.commitments) != record.committed:
            problems.append(f"the UpdateCommitted events name clients {sorted(record.commitments)}, "
                            f"the contract's committed set is {record.committed}")
        chained = signing.commit_chain(list(record.commitments.items()))
        if chained != record.commit_digest:
            problems.append(f"the commitment events hash to {chained}, the contract's commit digest is {record.commit_digest}")
        missing = [c for c in record.participants if c not in record.commitments]
        if missing:
            problems.append(f"aggregated clients {missing} never committed")
        start = store.load(record.start_model, "start model", problems)
        event = finalized.get(round_)
        weights = [int(w) for w in event.args.weights] if event is not None else []
        evidence = RoundEvidence(round_, record, updates, start[0] if start else None, weights)
        for audit in audits.values():
            audit.check(evidence, verdict)
        store.load(record.final_model, "global model", problems)
        if start is None or any(c not in updates for c in record.participants):
            continue
        used = [updates[c] for c in record.participants]
        if "0x" + keccak(b"".join(int(w).to_bytes(32, "big") for w in weights)).hex() != record.weights_hash:
            problems.append("the RoundFinalized event's weights do not match the recorded weights hash")
        expected_weights = algorithm.weights(used)
        if weights != expected_weights:
            problems.append(f"weights on chain {weights} differ from the updates' {expected_weights}")
        if record.rule_hash != algorithm.rule_hash():
            problems.append(f"rule hash on chain {record.rule_hash} is not the task algorithm's {algorithm.rule_hash()}")
        previous_state, _ = start
        invalid = {u.client_id: algorithm.update_problem(u, previous_state, cfg.train) for u in used}
        invalid = {c: reason for c, reason in invalid.items() if reason}
        for client_id, reason in sorted(invalid.items()):
            problems.append(f"client {client_id}: aggregated, but its update is invalid: {reason}")
        if invalid:
            continue
        if not used:  # an empty round keeps its start model
            recomputed = record.start_model
        else:
            recomputed = hex_hash(codec.keccak(codec.encode(algorithm.aggregate(previous_state, used),
                                                            global_metadata(round_))))
        if recomputed != record.final_model:
            problems.append(f"aggregate recomputed from the committed updates of clients {record.participants} "
                            f"hashes to {recomputed}, the chain finalized {record.final_model}")
        verdict.aggregated = len(used)
        for client_id in sorted(set(updates) - set(record.participants)):
            reason = algorithm.update_problem(updates[client_id], previous_state, cfg.train)
            verdict.notes.append(f"client {client_id} committed but was not aggregated"
                                 + (f" (its update is invalid: {reason})" if reason else " (its update is valid)"))
    report = Report(setup, verdicts)
    if algorithm.personalized and personal is None:
        report.notes.append("the clients' personal artifacts not checked (no personal/ in the run folder; each update's "
                            "digest was)")
    for name, audit in audits.items():
        report.feature_problems += [f"{name}: {problem}" for problem in audit.finish()]
    _check_run_folder(run, cfg, task, report, metrics, progress)
    return report


def _check_run_folder(run: Path, cfg: config.ExperimentConfig, task, report: Report, metrics: bool,
                      progress: bool) -> None:
    """config.yaml, the round-1 start model, metrics.csv and summary.json (fl/audit/outputs.py)."""
    from fl.audit.outputs import check_run_folder

    recorded = json.loads((run / "task.json").read_text())["config"]
    check_run_folder(run, cfg, recorded, task, report, metrics=metrics, progress=progress)


def verify_run(run_path, network: str | None = None, print_line=print, metrics: bool = True) -> Report:
    """Connect to the run's chain (relaunching it from the run folder if it kept its state) and check it."""
    run = Path(run_path)
    with run_task(run, network) as task:
        report = verify_task(run, task, metrics=metrics, progress=True)
    for problem in report.setup_problems:
        print_line(f"setup: FAIL {problem}")
    for verdict in report.rounds:
        print_line(verdict.line())
    for problem in report.feature_problems:
        print_line(f"features: FAIL {problem}")
    for problem in report.output_problems:
        print_line(f"outputs: FAIL {problem}")
    for note in report.notes:
        print_line(f"note: {note}")
    print_line(f"verify: {'OK' if report.ok else 'FAILED'}: {len(report.rounds)} round(s) of {run}")
    return report
