"""The checks of VERIFY.md, in its order and under its names, over a run folder and its chain."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from refverify import arith, artifact, jcs
from refverify.chain import FINALIZED, ChainError, Node, bitmap_ids, commit_chain, domain_separator, \
    experiment_id, h32, weights_hash

SERVER = "server."
#: algorithm -> its parameters' defaults (VERIFY.md, "Rule hash")
ALGORITHMS = {
    "fedavg": {}, "fedprox": {"mu": 0.01}, "moon": {"mu": 1.0, "temperature": 0.5}, "scaffold": {"server_lr": 1.0},
    "fedavgm": {"server_lr": 1.0, "server_momentum": 0.5},
    "fedadam": {"server_lr": 0.03, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3},
    "fedyogi": {"server_lr": 0.03, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3},
    "fedadagrad": {"server_lr": 0.3, "beta1": 0.9, "tau": 1e-3},
    "fednova": {},
    "fedipr": {"owners": 3, "bits": 32, "min_distance": 12, "sign_weight": 0.5, "margin": 20.0},
    "fedper": {"head_layers": 1}, "fedrep": {"head_layers": 1, "head_epochs": 10}, "fedbn": {},
    "ditto": {"lam": 1.0, "personal_epochs": 1},
}
PERSONALIZED = ("fedper", "fedrep", "fedbn", "ditto")  # VERIFY.md 6.5: some model tensors stay with the clients
MEAN_ONLY = ("fedavg", "fedprox", "moon", "fedipr") + PERSONALIZED  # server step: the combined model itself
LOCAL_NAMES = SERVER + "personal.local_names"
PERSONAL_DIGEST = "personal.digest"
FEDOPT = ("fedadam", "fedyogi", "fedadagrad")
A_NORM_TOLERANCE = 1e-9  # VERIFY.md R16: |a_norm − ‖a‖₁(steps)| ≤ 1e-9 × ‖a‖₁(steps)


@dataclass
class Verdict:
    name: str  # "setup" or "round N"
    failures: list[tuple[str, str]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    info: str = ""

    def fail(self, check: str, message: str) -> None:
        self.failures.append((check, message))

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unsupported

    def line(self) -> str:
        if self.failures:
            return f"{self.name}: FAIL " + "; ".join(f"{c}: {m}" for c, m in self.failures)
        if self.unsupported:
            return f"{self.name}: UNSUPPORTED " + ", ".join(self.unsupported)
        return f"{self.name}: OK" + (f" ({self.info})" if self.info else "")


@dataclass
class Result:
    verdicts: list[Verdict]

    @property
    def exit_code(self) -> int:
        if any(v.failures for v in self.verdicts):
            return 1
        return 2 if any(v.unsupported for v in self.verdicts) else 0


def _floating(a: artifact.Artifact, names) -> dict[str, np.ndarray]:
    return {n: a.tensors[n].astype(np.float64) for n in names if a.codes[n] in artifact.FLOATING}


def _rounded(values: dict[str, np.ndarray], codes: dict[str, str]) -> dict[str, np.ndarray]:
    return {n: v.astype(artifact.DTYPES[codes[n]]) for n, v in values.items()}


def _decimal(text, low: int) -> int | None:
    """A canonical base-10 integer string (no sign, no leading zeros) of at least `low`, else None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or str(int(text)) != text:
        return None
    value = int(text)
    return value if value >= low else None


class Task:
    """The task config as VERIFY.md reads it from task.json."""

    def __init__(self, config: dict):
        self.config = config
        algorithm = config.get("algorithm", {})
        aggregation = config.get("aggregation", {})
        self.algorithm = algorithm.get("name")
        self.algorithm_params = dict(algorithm.get("params") or {})
        self.rule = aggregation.get("rule", "mean")
        self.rule_params = dict(aggregation.get("params") or {})
        train = config.get("train", {})
        self.clients = int(train.get("clients", 0))
        self.local_epochs = int(train.get("local_epochs", 1))
        self.batch_size = int(train.get("batch_size", 32))
        self.momentum = float(train.get("momentum", 0.9))
        self.committee = int((config.get("committee") or {}).get("size", 0) or 0)

    def unsupported(self) -> list[str]:
        out = []
        if self.algorithm not in ALGORITHMS:
            out.append(f"algorithm {self.algorithm}")
        if self.rule != "mean" and self.rule not in arith.RULES:
            out.append(f"aggregation rule {self.rule}")
        if self.algorithm == "fednova" and self.rule != "mean":
            out.append(f"fednova with aggregation rule {self.rule}")
        if self.committee:
            out.append("committee")
        return out

    def rule_object(self) -> dict:
        rule = {"algorithm": self.algorithm, "params": {**ALGORITHMS.get(self.algorithm, {}), **self.algorithm_params}}
        if self.rule != "mean":
            defaults = arith.RULES[self.rule][1] if self.rule in arith.RULES else {}
            rule["aggregation"] = {"rule": self.rule, "params": {**defaults, **self.rule_params}}
        return rule

    def rule_hash(self) -> str:
        return artifact.hex_hash(jcs.canonicalize(self.rule_object()))

    @property
    def params(self) -> dict:
        return self.rule_object()["params"]

    def aggregation_params(self) -> dict:
        return self.rule_object().get("aggregation", {}).get("params", {})


class Store:
    def __init__(self, root: Path):
        self.root = root

    def load(self, digest: str, what: str, check: str, verdict: Verdict) -> artifact.Artifact | None:
        path = self.root / f"{digest}.safetensors"
        if not path.is_file():
            verdict.fail(check, f"{what} artifact {digest} is missing")
            return None
        data = path.read_bytes()
        found = artifact.hex_hash(data)
        if found != digest:
            verdict.fail(check, f"{what} artifact tampered: expected hash {digest}, found {found}")
            return None
        try:
            return artifact.parse(data)
        except artifact.ArtifactError as exc:
            verdict.fail(check, f"{what} artifact {digest} is malformed: {exc}")
            return None


def local_names(start: artifact.Artifact, task: Task) -> list[str]:
    """The model tensors a personalized algorithm's clients keep (VERIFY.md 6.5); none otherwise."""
    if task.algorithm not in PERSONALIZED or LOCAL_NAMES not in start.tensors:
        return []
    return json.loads(start.tensors[LOCAL_NAMES].tobytes().decode("utf-8"))


def local_names_problem(start: artifact.Artifact) -> str | None:
    """Whether `server.personal.local_names` is a U8 vector holding the sorted JSON list of distinct model tensor names."""
    if start.codes.get(LOCAL_NAMES) != "U8" or start.tensors[LOCAL_NAMES].ndim != 1:
        return f"{LOCAL_NAMES} is not a U8 vector"
    raw = start.tensors[LOCAL_NAMES].tobytes()
    try:
        names = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"{LOCAL_NAMES} is not UTF-8 JSON"
    model = {n for n in start.tensors if not n.startswith(SERVER)}
    if not isinstance(names, list) or not all(isinstance(n, str) and n in model for n in names) \
            or names != sorted(set(names)) or raw != json.dumps(names).encode("utf-8"):
        return f"{LOCAL_NAMES} is not the sorted JSON list of distinct model tensor names"
    return None


def update_problem(update: artifact.Artifact, start: artifact.Artifact, task: Task) -> str | None:
    """Why a participant's update cannot be aggregated into the start model (check participants-valid)."""
    local = set(local_names(start, task))
    needed = {n: (start.codes[n], start.tensors[n].shape) for n in start.tensors
              if not n.startswith(SERVER) and n not in local}
    if task.algorithm in PERSONALIZED:
        needed[PERSONAL_DIGEST] = ("U8", (32,))
    if task.algorithm == "scaffold":
        prefix = SERVER + "scaffold.c."
        needed.update({"scaffold.delta_c." + n[len(prefix):]: (start.codes[n], start.tensors[n].shape)
                       for n in start.tensors if n.startswith(prefix)})
    if task.algorithm == "fednova":
        needed["fednova.a_norm"] = ("F64", ())
    for name, (code, shape) in sorted(needed.items()):
        if name not in update.tensors:
            return f"tensor {name!r} is missing"
        if update.codes[name] != code or update.tensors[name].shape != shape:
            return (f"tensor {name!r} is {update.codes[name]} {list(update.tensors[name].shape)}, "
                    f"expected {code} {list(shape)}")
    for name in sorted(update.tensors):
        if update.codes[name] in artifact.FLOATING and not np.isfinite(update.tensors[name]).all():
            return f"tensor {name!r} holds NaN or Inf"
    if task.algorithm == "fednova" and not float(update.tensors["fednova.a_norm"]) > 0:
        return "fednova.a_norm is not positive"
    if task.algorithm in ("scaffold", "fednova"):
        steps, samples = int(update.metadata["steps"]), int(update.metadata["num_samples"])
        most = task.local_epochs * -(-samples // task.batch_size)
        if steps > most:
            return f"steps {steps} exceeds the {most} that {samples} samples give in the task's local epochs"
        if task.algorithm == "fednova":
            claimed, done = float(update.tensors["fednova.a_norm"]), arith.effective_steps(steps, task.momentum)
            if not abs(claimed - done) <= A_NORM_TOLERANCE * done:
                return f"fednova.a_norm {claimed!r} is not the {done!r} of {steps} steps at momentum {task.momentum}"
    return None


def initial_state_problem(start: artifact.Artifact, task: Task) -> str | None:
    """Whether round 1's start artifact holds the algorithm's initial server state (check initial-state)."""
    model = sorted(n for n in start.tensors if not n.startswith(SERVER))
    floating = [n for n in model if start.codes[n] in artifact.FLOATING]
    server = sorted(n for n in start.tensors if n.startswith(SERVER))
    p = task.params
    expected: dict[str, tuple[str, tuple, float]] = {}  # name -> (code, shape, value)
    if task.algorithm == "fedavgm":
        expected = {f"{SERVER}fedavgm.velocity.{n}": (start.codes[n], start.tensors[n].shape, 0.0) for n in floating}
    elif task.algorithm in FEDOPT:
        tau = float(p["tau"])
        for n in floating:
            expected[f"{SERVER}{task.algorithm}.m.{n}"] = (start.codes[n], start.tensors[n].shape, 0.0)
            expected[f"{SERVER}{task.algorithm}.v.{n}"] = (start.codes[n], start.tensors[n].shape, tau * tau)
    elif task.algorithm == "scaffold":
        prefix = SERVER + "scaffold.c."
        for n in server:
            if n.startswith(prefix):
                base = n[len(prefix):]
                if base not in floating:
                    return f"{n} belongs to no floating model tensor"
                expected[n] = (start.codes[base], start.tensors[base].shape, 0.0)
        expected[SERVER + "scaffold.clients"] = ("I64", (), task.clients)
    elif task.algorithm in PERSONALIZED:
        if server != [LOCAL_NAMES]:
            return f"server tensors {server}, expected {[LOCAL_NAMES]}"
        return local_names_problem(start)
    if sorted(expected) != server:
        return f"server tensors {server}, expected {sorted(expected)}"
    for name, (code, shape, value) in expected.items():
        tensor = start.tensors[name]
        if start.codes[name] != code or tensor.shape != shape:
            return f"{name} is {start.codes[name]} {list(tensor.shape)}, expected {code} {list(shape)}"
        want = np.asarray(value, dtype=np.float64).astype(artifact.DTYPES[code])
        if tensor.tobytes() != np.full(shape, want, dtype=artifact.DTYPES[code]).tobytes():
            return f"{name} is not filled with {want!r}"
    return None


def server_step(task: Task, start: artifact.Artifact, updates: list[artifact.Artifact],
                weights: list[int]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The new global artifact's tensors and dtype codes, from the start artifact and the
    participants' updates (ascending client id), as VERIFY.md's arithmetic section says."""
    local = set(local_names(start, task))
    model = [n for n in start.tensors if not n.startswith(SERVER)]
    floating = sorted(n for n in model if start.codes[n] in artifact.FLOATING and n not in local)
    codes = dict(start.codes)
    out = {n: start.tensors[n].copy() for n in model if n not in floating}  # integer and local tensors carried over
    if task.algorithm in PERSONALIZED:
        out[LOCAL_NAMES] = start.tensors[LOCAL_NAMES].copy()
    x = _floating(start, floating)
    p = task.params
    if task.algorithm == "fednova":
        ys = [_floating(u, floating) for u in updates]
        a_norms = [np.float64(u.tensors["fednova.a_norm"]) for u in updates]
        out.update(_rounded(arith.fednova(x, ys, [int(w) for w in weights], a_norms), codes))
        return out, codes
    avg = arith.combine([_floating(u, floating) for u in updates], weights, x, task.rule, task.aggregation_params())
    if task.algorithm in MEAN_ONLY:
        out.update(_rounded(avg, codes))
        return out, codes
    # the server steps start from the combined model rounded to each tensor's dtype (VERIFY.md 6.2)
    avg = {n: a.astype(np.float64) for n, a in _rounded(avg, codes).items()}
    if task.algorithm == "fedavgm":
        prefix = SERVER + "fedavgm.velocity."
        velocity = {n: start.tensors[prefix + n].astype(np.float64) for n in floating}
        new_x, new_v = arith.fedavgm(x, avg, velocity, p)
        out.update(_rounded(new_x, codes))
        out.update({prefix + n: v.astype(artifact.DTYPES[codes[prefix + n]]) for n, v in new_v.items()})
    elif task.algorithm in FEDOPT:
        pm, pv = f"{SERVER}{task.algorithm}.m.", f"{SERVER}{task.algorithm}.v."
        m = {n: start.tensors[pm + n].astype(np.float64) for n in floating}
        v = {n: start.tensors[pv + n].astype(np.float64) for n in floating}
        new_x, new_m, new_v = arith.fedopt(task.algorithm, x, avg, m, v, p)
        out.update(_rounded(new_x, codes))
        out.update({pm + n: t.astype(artifact.DTYPES[codes[pm + n]]) for n, t in new_m.items()})
        out.update({pv + n: t.astype(artifact.DTYPES[codes[pv + n]]) for n, t in new_v.items()})
    elif task.algorithm == "scaffold":
        pc, clients = SERVER + "scaffold.c.", SERVER + "scaffold.clients"
        c = {n[len(pc):]: start.tensors[n].astype(np.float64) for n in start.tensors if n.startswith(pc)}
        deltas = [{n: u.tensors["scaffold.delta_c." + n].astype(np.float64) for n in c} for u in updates]
        work = [int(w) * int(u.metadata["steps"]) for w, u in zip(weights, updates)]
        new_x, new_c = arith.scaffold(x, avg, c, deltas, work, len(updates), int(start.tensors[clients]), p)
        out.update(_rounded(new_x, codes))
        out.update({pc + n: t.astype(artifact.DTYPES[codes[pc + n]]) for n, t in new_c.items()})
        out[clients] = start.tensors[clients].copy()
    else:
        raise arith.Unsupported(f"algorithm {task.algorithm}")
    return out, codes


def verify(run: Path, url: str) -> Result:
    """Every check of VERIFY.md over the run folder `run` against the chain at `url`."""
    setup = Verdict("setup")
    verdicts = [setup]
    try:
        task_file = json.loads((run / "task.json").read_text())
        chain_file = json.loads((run / "chain.json").read_text())
    except (OSError, ValueError) as exc:
        setup.fail("run-folder", f"cannot read task.json and chain.json: {exc}")
        return Result(verdicts)
    if chain_file.get("simulation_only") or not chain_file.get("contract"):
        setup.fail("run-folder", "the run ran with the chain off: nothing was committed")
        return Result(verdicts)
    task = Task(task_file.get("config") or {})
    node = Node(url, chain_file["contract"])
    try:
        if not node.code():
            setup.fail("run-folder", f"no contract at {node.address} on the chain at {url}")
            return Result(verdicts)
        _setup_checks(setup, task_file, chain_file, task, node)
        setup.unsupported.extend(task.unsupported())
        rounds = int(node.call("currentRound"))
        store = Store(run / "artifacts")
        context = _Context(node, store, task)
        for round_ in range(1, rounds + 1):
            verdict = Verdict(f"round {round_}")
            verdicts.append(verdict)
            context.round(round_, verdict)
    except ChainError as exc:
        setup.fail("chain", str(exc))
    return Result(verdicts)


def _setup_checks(setup: Verdict, task_file: dict, chain_file: dict, task: Task, node: Node) -> None:
    try:
        digest = artifact.hex_hash(jcs.canonicalize(task_file.get("config")))
    except jcs.JCSError as exc:
        setup.fail("config-hash", f"task.json's config has no JCS form: {exc}")
        digest = None
    if digest is not None and digest != task_file.get("config_hash"):
        setup.fail("config-hash", f"task.json's config hashes to {digest}, it claims {task_file.get('config_hash')}")
    on_chain = h32(node.call("configHash"))
    if on_chain != digest:
        setup.fail("chain-config-hash", f"the chain recorded config hash {on_chain}, the run folder's config hashes to {digest}")
    salt = chain_file.get("salt")
    try:
        salt_bytes = bytes.fromhex(salt[2:]) if isinstance(salt, str) and salt.startswith("0x") else None
    except ValueError:
        salt_bytes = None
    try:
        experiment = bytes(node.call("experimentId"))
    except ChainError as exc:
        setup.fail("experiment-id", f"the task has no experimentId() view ({exc})")
        experiment = bytes(32)
    if experiment == bytes(32):
        pass
    elif salt_bytes is None or len(salt_bytes) != 32:
        setup.fail("experiment-id", f"chain.json's salt {salt!r} is not 32 bytes of 0x-hex")
    elif experiment_id(bytes.fromhex(on_chain[2:]), salt_bytes) != experiment:
        setup.fail("experiment-id", f"keccak256(abi.encode(configHash, salt)) differs from the chain's experimentId {h32(experiment)}")
    recorded = chain_file.get("experiment_id")
    if recorded is not None and str(recorded).lower() != h32(experiment):
        setup.fail("experiment-id", f"chain.json's experiment_id {recorded} is not the chain's {h32(experiment)}")
    node.experiment = experiment
    node.domain = domain_separator(node.chain_id(), node.address)
    if bytes(node.call("domainSeparator")) != node.domain:
        setup.fail("domain", f"the task's domainSeparator() differs from the one computed for chain {node.chain_id()}")


class _Context:
    """What carries over from round to round: the registry of client accounts, the previous model."""

    def __init__(self, node: Node, store: Store, task: Task):
        self.node, self.store, self.task = node, store, task
        self.accounts: dict[int, str] = {}
        self.previous: str | None = None
        self.finalized = {}
        for log in node.logs("RoundFinalized"):
            self.finalized.setdefault(int(log.args["round"]), []).append(log)

    def account(self, client_id: int) -> str | None:
        if client_id not in self.accounts:
            try:
                self.accounts[client_id] = self.node.call("clientAt", client_id)
            except ChainError:
                self.accounts[client_id] = None
        return self.accounts[client_id]

    def round(self, r: int, v: Verdict) -> None:
        node, task = self.node, self.task
        state, start_hash, final_hash, *_ = node.call("roundInfo", r)
        start_hash, final_hash = h32(start_hash), h32(final_hash)
        # 1 finalized
        if int(state) != FINALIZED:
            v.fail("finalized", f"round state is {int(state)}, not finalized (2)")
            return
        # 2 start-model
        if self.previous is not None and start_hash != self.previous:
            v.fail("start-model", f"started from model {start_hash}, but round {r - 1} finalized {self.previous}")
        self.previous = final_hash
        # 3 committed-set, 4 commit-digest
        logs = node.logs("UpdateCommitted", r)
        ids = [int(log.args["clientId"]) for log in logs]
        committed = bitmap_ids(node.call("committedOf", r))
        if sorted(ids) != committed or len(set(ids)) != len(ids):
            v.fail("committed-set", f"the UpdateCommitted events name clients {ids}, the contract's committed set is {committed}")
        chained = commit_chain([(int(log.args["clientId"]), bytes(log.args["updateHash"])) for log in logs])
        if chained != bytes(node.call("roundCommitDigest", r)):
            v.fail("commit-digest", f"the commitment events hash to {h32(chained)}, the contract's roundCommitDigest differs")
        # 5 commit-signer, 6 update-artifact, 7 update-label
        updates: dict[int, artifact.Artifact] = {}
        for log in logs:
            cid = int(log.args["clientId"])
            who, digest = f"client {cid}", h32(log.args["updateHash"])
            registered = self.account(cid)
            signer, how = node.committer(log, node.domain, node.experiment)
            if registered is None or signer is None or signer.lower() != registered.lower() \
                    or str(log.args["client"]).lower() != registered.lower():
                v.fail("commit-signer", f"{who}: commitment {how} {signer}, event account {log.args['client']}, "
                                        f"registered account is {registered}")
            loaded = self.store.load(digest, f"{who}: update", "update-artifact", v)
            if loaded is None:
                continue
            md = loaded.metadata
            if (md.get("kind"), md.get("round"), md.get("client")) != ("update", str(r), str(cid)) \
                    or _decimal(md.get("num_samples"), 1) is None or _decimal(md.get("steps"), 0) is None:
                v.fail("update-label", f"{who}: artifact {digest} has metadata {md}")
                continue
            updates[cid] = loaded
        # 8 participants-committed
        participants = bitmap_ids(node.call("participantsOf", r))
        missing = [c for c in participants if c not in ids]
        if missing:
            v.fail("participants-committed", f"aggregated clients {missing} never committed")
        # 9 start-artifact (+ initial-state in round 1), 10 global-artifact
        start = self.store.load(start_hash, "start model", "start-artifact", v)
        if start is not None and start.metadata.get("kind") != "global":
            v.fail("start-artifact", f"start model {start_hash} has metadata {start.metadata}")
        if start is not None and r == 1:
            if start.metadata.get("round") != "0":
                v.fail("initial-state", f"round 1's start model is labelled round {start.metadata.get('round')}, not 0")
            problem = None if task.unsupported() else initial_state_problem(start, task)
            if problem:
                v.fail("initial-state", problem)
        self.store.load(final_hash, "global model", "global-artifact", v)
        # 11 finalized-event, 12 weights-hash, 13 weights, 14 rule-hash
        events = self.finalized.get(r, [])
        weights_hash_on_chain, rule_hash_on_chain = (h32(x) for x in node.call("roundRule", r))
        weights: list[int] = []
        if len(events) != 1:
            v.fail("finalized-event", f"{len(events)} RoundFinalized events for this round, expected 1")
        else:
            e = events[0].args
            weights = [int(w) for w in e["weights"]]
            if h32(e["globalModelHash"]) != final_hash or bitmap_ids(e["participants"]) != participants \
                    or h32(e["ruleHash"]) != rule_hash_on_chain:
                v.fail("finalized-event", "the RoundFinalized event's model hash, participants or rule hash "
                                          "differ from the contract's round record")
        if h32(weights_hash(weights)) != weights_hash_on_chain:
            v.fail("weights-hash", "the RoundFinalized event's weights do not match the recorded weights hash")
        have_all = all(c in updates for c in participants)
        if have_all:
            expected = [int(updates[c].metadata["num_samples"]) for c in participants]
            if weights != expected:
                v.fail("weights", f"weights on chain {weights} differ from the updates' signed sample counts {expected}")
        if not task.unsupported() and rule_hash_on_chain != task.rule_hash():
            v.fail("rule-hash", f"rule hash on chain {rule_hash_on_chain} is not the task's {task.rule_hash()}")
        # 15 participants-valid
        if start is not None:
            for c in participants:
                if c in updates:
                    problem = update_problem(updates[c], start, task)
                    if problem:
                        v.fail("participants-valid", f"client {c}'s update cannot be aggregated: {problem}")
        # 16 empty-round / 17 aggregate
        if not participants:
            if final_hash != start_hash:
                v.fail("empty-round", f"no participants, but the model changed from {start_hash} to {final_hash}")
            v.info = "no updates aggregated"
            return
        if start is None or not have_all or any(c == "participants-valid" for c, _ in v.failures):
            return
        if task.unsupported():
            v.unsupported.extend(task.unsupported())
            return
        used = [updates[c] for c in participants]
        try:
            tensors, codes = server_step(task, start, used, [int(u.metadata["num_samples"]) for u in used])
        except arith.Unsupported as exc:
            v.unsupported.append(str(exc))
            return
        except (ValueError, ZeroDivisionError, KeyError) as exc:  # e.g. SCAFFOLD with no local step at all
            v.fail("aggregate", f"the aggregate of clients {participants} cannot be computed: {exc}")
            return
        recomputed = artifact.hex_hash(artifact.encode(tensors, codes, {"kind": "global", "round": str(r)}))
        if recomputed != final_hash:
            v.fail("aggregate", f"aggregate recomputed from the committed updates of clients {participants} "
                                f"hashes to {recomputed}, the chain finalized {final_hash}")
        v.info = f"{len(used)} updates aggregated, model {final_hash}"
