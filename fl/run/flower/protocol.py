"""What the server and a client say to each other, record by record.

Every message carries the run ("task"): the experiment's config (YAML), the EIP-712 domain and
experiment id a client signs under, how clients get their keys, and the torch threads a client
trains with.

- query (registration) -> reply "client": {partition, address, signature of Register(experiment, address)}
- query "act" (a committee member's scores) -> reply "signed": {raw: the member's own signed transaction}
- train -> "global" (the global model, an ArrayRecord) + "round": {round, client-id, global-hash,
  global-metadata}; reply "update" (an ArrayRecord) + "commitment": {metadata, update-hash,
  signature of Commit(experiment, round, update-hash)} + "train" metrics {train-loss, num-examples}
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flwr.app import ConfigRecord

TASK, CLIENT, GLOBAL, ROUND, UPDATE, COMMITMENT, METRICS = (
    "task", "client", "global", "round", "update", "commitment", "train")
#: a party asked to act from its own account: "act" {kind, round, ...}, its own update ("own"), the
#: candidates' ("candidate-<id>"); it replies "signed" {raw: its signed transaction}
ACT, OWN, CANDIDATE, SIGNED = "act", "own", "candidate-", "signed"
#: how a client gets its Ethereum key: derived from the seed (simulated parties, as the in-process
#: engine does), or from its SuperNode's node config ("key-file")
SEEDED, NODE = "seeded", "node"
KEY_SOURCES = (SEEDED, NODE)


@dataclass(frozen=True)
class Task:
    config_yaml: str
    domain: bytes
    experiment: str
    keys: str
    threads: int

    def record(self) -> ConfigRecord:
        return ConfigRecord({"config": self.config_yaml, "domain": self.domain, "experiment": self.experiment,
                             "keys": self.keys, "threads": self.threads})

    @classmethod
    def from_record(cls, record: ConfigRecord) -> "Task":
        return cls(str(record["config"]), bytes(record["domain"]), str(record["experiment"]), str(record["keys"]),
                   int(record["threads"]))


def dump_metadata(metadata: dict[str, str]) -> str:
    return json.dumps(metadata, sort_keys=True)


def load_metadata(text: str) -> dict[str, str]:
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("artifact metadata must be an object of strings")
    return value


def error_line(reply) -> str:
    """A Flower error reply's reason, by its last line (the exception, not the traceback)."""
    lines = [line for line in reply.error.reason.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"error code {reply.error.code}"
