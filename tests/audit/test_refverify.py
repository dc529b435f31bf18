"""The reference verifier (refverify/): its parts on hand-made inputs, and its verdicts against
`fl verify`'s on an honest run and on every tampered run of test_verify.py.

Only the refverify package must stay free of the project's code; these tests use fl freely to
make runs and to reach the chain of a run.
"""
import ast
import json
import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from eth_hash.auto import keccak

from refverify import arith, artifact, chain, jcs

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]


def f32(x: float) -> float:
    """x rounded to binary32 (round to nearest even), back as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# --- refverify is independent ---------------------------------------------------------------------
def test_refverify_imports_nothing_from_fl_or_torch():
    for path in sorted((ROOT / "refverify").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                top = name.split(".")[0]
                assert top not in ("fl", "torch", "brownie"), f"{path.name} imports {name}"
    code = ("import sys, refverify.__main__, refverify.checks; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'fl', 'torch', 'brownie'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- safetensors -----------------------------------------------------------------------------------
def hand_made_artifact() -> bytes:
    header = (b'{"__metadata__":{"client":"2","kind":"update"},'
              b'"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},'
              b'"b":{"data_offsets":[8,16],"dtype":"I64","shape":[]}}')
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.5, -2.0) + struct.pack("<q", 7)


def test_safetensors_parse_and_canonical_encoding_match_hand_made_bytes():
    data = hand_made_artifact()
    parsed = artifact.parse(data)
    assert parsed.metadata == {"client": "2", "kind": "update"}
    assert parsed.codes == {"a": "F32", "b": "I64"}
    assert parsed.tensors["a"].tolist() == [1.5, -2.0] and parsed.tensors["b"].shape == () and int(parsed.tensors["b"]) == 7
    assert artifact.encode(parsed.tensors, parsed.codes, parsed.metadata) == data
    assert artifact.hex_hash(data) == "0x" + keccak(data).hex()


def test_safetensors_encoding_is_the_projects_and_the_librarys():
    import torch
    from safetensors.torch import load

    from fl.core import codec

    tensors = {"w": torch.randn(3, 2), "b": torch.randn(4, dtype=torch.float64), "n": torch.tensor(3),
               "m": torch.tensor([True, False])}
    data = codec.encode(tensors, {"kind": "global", "round": "1"})
    parsed = artifact.parse(data)
    assert artifact.encode(parsed.tensors, parsed.codes, parsed.metadata) == data
    assert all(np.array_equal(parsed.tensors[k], v.numpy()) for k, v in load(data).items())


@pytest.mark.parametrize("bad", [b"", b"\x10" + b"\x00" * 7 + b"{}", hand_made_artifact()[:-1]])
def test_malformed_artifacts_are_refused(bad):
    with pytest.raises(artifact.ArtifactError):
        artifact.parse(bad)


# --- JCS (RFC 8785) --------------------------------------------------------------------------------
RFC8785_NUMBERS = [  # RFC 8785 appendix B: IEEE-754 bits -> ECMAScript string
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize("bits, text", RFC8785_NUMBERS)
def test_jcs_numbers_are_ecmascripts(bits, text):
    assert jcs.number(struct.unpack(">d", bytes.fromhex(bits))[0]) == text


def test_jcs_sorts_by_utf16_and_escapes_as_the_rfc_says():
    value = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001F600": 5, "\u0080": 6, "\u00f6": 7}
    keys = ['"\\r"', '"1"', '"\u0080"', '"\u00f6"', '"\u20ac"', '"\U0001F600"', '"\ufb33"']
    expected = "{" + ",".join(f"{k}:{v}" for k, v in zip(keys, [2, 4, 6, 7, 1, 5, 3])) + "}"
    assert jcs.canonicalize(value) == expected.encode()
    assert jcs.canonicalize({"s": "a\"\\\b\f\n\r\t\x01\x1f\u2028/"}) == b'{"s":"a\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\xe2\x80\xa8/"}'
    assert jcs.canonicalize({"b": [1.0, 0.1, 1e-05, None, True, False], "a": {"y": 2, "x": 1}}) == \
        b'{"a":{"x":1,"y":2},"b":[1,0.1,0.00001,null,true,false]}'
    for bad in (float("nan"), float("inf"), 2 ** 53, {1: 2}):
        with pytest.raises(jcs.JCSError):
            jcs.canonicalize(bad)


# --- EIP-712 and the chain's hash chains -----------------------------------------------------------
TASK = "0x" + "ab" * 20
EXPERIMENT = bytes.fromhex("11" * 32)
UPDATE = bytes.fromhex("22" * 32)


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def test_eip712_digests_match_hand_computed_ones():
    domain = keccak(keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
                    + keccak(b"OnChainFL") + keccak(b"1") + word(1337) + bytes(12) + bytes.fromhex("ab" * 20))
    assert chain.domain_separator(1337, TASK) == domain
    commit = keccak(keccak(b"Commit(bytes32 experiment,uint256 round,bytes32 updateHash)") + EXPERIMENT + word(3) + UPDATE)
    assert chain.commit_digest(domain, EXPERIMENT, 3, UPDATE) == keccak(b"\x19\x01" + domain + commit)
    register = keccak(keccak(b"Register(bytes32 experiment,address client)") + EXPERIMENT + bytes(12) + bytes.fromhex("cd" * 20))
    assert chain.register_digest(domain, EXPERIMENT, "0x" + "cd" * 20) == keccak(b"\x19\x01" + domain + register)
    assert chain.experiment_id(bytes(32), EXPERIMENT) == keccak(bytes(32) + EXPERIMENT)


def test_signatures_are_recovered_and_malformed_ones_refused():
    from eth_keys import keys

    key = keys.PrivateKey(bytes.fromhex("01" * 32))
    digest = keccak(b"message")
    sig = key.sign_msg_hash(digest)
    raw = word(sig.r) + word(sig.s) + bytes([sig.v + 27])
    assert chain.recover(digest, raw) == key.public_key.to_checksum_address()
    assert chain.recover(digest, raw[:64] + b"\x05") is None
    high_s = word(sig.r) + word(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - sig.s) + raw[64:]
    assert chain.recover(digest, high_s) is None


def test_commit_chain_weights_hash_and_bitmaps():
    first = keccak(bytes(32) + word(2) + UPDATE)
    assert chain.commit_chain([(2, UPDATE), (1, EXPERIMENT)]) == keccak(first + word(1) + EXPERIMENT)
    assert chain.commit_chain([]) == bytes(32)
    assert chain.weights_hash([10, 20]) == keccak(word(10) + word(20))
    assert chain.bitmap_ids([0b110, 1 << 4]) == [1, 2, 260]


# --- arithmetic ------------------------------------------------------------------------------------
def test_weighted_mean_is_the_sequential_sum_of_separately_rounded_products():
    x1, x2 = f32(0.1), f32(0.2)
    hand = 0.0 + (1 / 3) * x1
    hand = hand + (2 / 3) * x2
    rows = [np.array([x1]), np.array([x2])]
    assert arith.weighted_mean(rows, [1, 2]).tolist() == [hand]
    assert np.float32(arith.weighted_mean(rows, [1, 2])[0]) == np.float32(f32(hand))
    assert arith.weighted_mean([np.array([-0.0])], [1]).tolist() == [0.0]
    assert math.copysign(1, arith.weighted_mean([np.array([-0.0])], [1])[0]) == 1  # acc starts at +0


def test_exact_sums_are_correctly_rounded_and_overflow_to_infinity():
    assert arith.fsum(np.array([0.1] * 10)) == 1.0  # a sequential sum gives 0.9999999999999999
    assert arith.fsum(np.array([1e308, 1e308, -1e300])) == math.inf
    assert arith.fsum(np.array([-1e308, -1e308])) == -math.inf
    assert arith.squared_norm(np.array([3.0, 4.0])) == 25.0 and arith.fsum(np.zeros(0)) == 0.0


ROWS = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])


def test_krum_picks_the_update_with_the_smallest_neighbour_distances():
    # n = 5, f = 1: 2 neighbours; scores 5, 2, 5, 65, 82
    dist = arith.pairwise_squared_distances(ROWS)
    assert arith.krum_scores(dist, list(range(5)), 1) == {0: 5.0, 1: 2.0, 2: 5.0, 3: 65.0, 4: 82.0}
    assert arith.krum(ROWS, [1] * 5, None, {"f": 1}).tolist() == [1.0]


def test_multi_krum_averages_the_n_minus_f_best():
    assert arith.multi_krum(ROWS, [1] * 5, None, {"f": 1, "m": None}).tolist() == [(0.0 + 1.0 + 2.0 + 10.0) / 4]
    assert arith.multi_krum(ROWS, [1] * 5, None, {"f": 1, "m": 2}).tolist() == [(0.0 + 1.0) / 2]


def test_median_odd_and_even():
    assert arith.median(np.array([[1.0, 5.0], [3.0, -1.0], [2.0, 2.0]]), None, None, {}).tolist() == [2.0, 2.0]
    assert arith.median(np.array([[1.0], [4.0], [2.0], [10.0]]), None, None, {}).tolist() == [3.0]


def test_trimmed_mean_drops_floor_beta_n_at_each_end():
    rows = np.array([[1.0], [10.0], [2.0], [4.0]])
    assert arith.trimmed_mean(rows, None, None, {"beta": 0.25}).tolist() == [3.0]
    assert arith.trimmed_mean(rows, None, None, {"beta": 0.1}).tolist() == [17.0 / 4]
    assert arith.trimmed_count(3, 0.49) == 1 and arith.trimmed_count(10, 0.3) == 3


def test_bulyan_iterates_krum_then_averages_the_values_nearest_the_median():
    # picks 1 (score 2), then 3 (score 1, tie with 4 goes to the lower index), then 0; theta 3, beta 1
    assert arith.bulyan(ROWS, [1] * 5, None, {"f": 1}).tolist() == [1.0]
    rows = np.array([[0.0, 5.0], [1.0, 6.0], [2.0, 7.0], [3.0, 100.0], [4.0, 8.0], [5.0, 9.0], [6.0, -50.0]])
    out = arith.bulyan(rows, [1] * 7, None, {"f": 1})
    assert out.shape == (2,) and np.isfinite(out).all() and 0 <= out[0] <= 6 and 5 <= out[1] <= 9


def test_norm_clipping_scales_long_moves_to_the_bound():
    previous = np.array([0.0, 0.0])
    rows = np.array([[3.0, 4.0], [0.5, 0.0]])
    first = [0.0 + 3.0 * (1.0 / 5.0), 0.0 + 4.0 * (1.0 / 5.0)]
    hand = [0.0 + 0.5 * first[0] + 0.5 * 0.5, 0.0 + 0.5 * first[1] + 0.5 * 0.0]
    assert arith.norm_clipping(rows, [1, 1], previous, {"bound": 1.0}).tolist() == hand


def test_server_steps_follow_their_formulas():
    x, avg = {"w": np.array([1.0])}, {"w": np.array([1.5])}
    new_x, new_v = arith.fedavgm(x, avg, {"w": np.array([0.25])}, {"server_lr": 2.0, "server_momentum": 0.5})
    assert new_v["w"].tolist() == [0.5 * 0.25 + 0.5] and new_x["w"].tolist() == [1.0 + 2.0 * (0.5 * 0.25 + 0.5)]
    params = {"server_lr": 0.1, "beta1": 0.9, "beta2": 0.99, "tau": 1e-3}
    m, v = {"w": np.array([0.0])}, {"w": np.array([1e-6])}
    d = 0.5
    for kind, v_new in [("fedadam", 0.99 * 1e-6 + (1 - 0.99) * (d * d)), ("fedadagrad", 1e-6 + d * d),
                        ("fedyogi", 1e-6 - ((1 - 0.99) * (d * d)) * -1.0)]:
        nx, nm, nv = arith.fedopt(kind, x, avg, m, v, params)
        m_new = 0.9 * 0.0 + (1 - 0.9) * d
        assert nm["w"].tolist() == [m_new] and nv["w"].tolist() == [v_new]
        assert nx["w"].tolist() == [1.0 + (0.1 * m_new) / (math.sqrt(v_new) + 1e-3)]
    ys = [{"w": np.array([2.0])}, {"w": np.array([0.0])}]
    p1, p2 = 1 / 4, 3 / 4
    tau = 0.0 + p1 * 2.0 + p2 * 4.0
    hand = 1.0 + (0.0 + ((p1 * tau) / 2.0) * (2.0 - 1.0) + ((p2 * tau) / 4.0) * (0.0 - 1.0))
    assert arith.fednova(x, ys, [1, 3], [np.float64(2.0), np.float64(4.0)])["w"].tolist() == [hand]
    nx, nc = arith.scaffold(x, avg, {"w": np.array([0.5])}, [{"w": np.array([1.0])}, {"w": np.array([-1.0])}],
                            [1, 3], 2, 4, {"server_lr": 1.0})
    assert nx["w"].tolist() == [1.0 + 1.0 * 0.5]
    assert nc["w"].tolist() == [0.5 + 0.5 * (0.0 + 0.25 * 1.0 + 0.75 * -1.0)]


def test_rule_hash_is_keccak_of_the_jcs_rule():
    from refverify.checks import Task

    task = Task({"algorithm": {"name": "fedavgm", "params": {"server_lr": 0.5}},
                 "aggregation": {"rule": "trimmed-mean", "params": {}}})
    expected = (b'{"aggregation":{"params":{"beta":0.1},"rule":"trimmed-mean"},"algorithm":"fedavgm",'
                b'"params":{"server_lr":0.5,"server_momentum":0.5}}')
    assert jcs.canonicalize(task.rule_object()) == expected
    assert task.rule_hash() == "0x" + keccak(expected).hex()


def test_the_projects_rule_hash_is_refverifys():
    from fl.core import config
    from fl.ml import algorithms
    from refverify.checks import Task

    for name in ("fedavg", "fedprox", "moon", "scaffold", "fedavgm", "fedadam", "fedyogi", "fedadagrad",
                 "fednova", "fedipr"):
        for rule, params in [("mean", {}), ("krum", {"f": 2}), ("multi-krum", {}), ("median", {}),
                             ("trimmed-mean", {"beta": 0.2}), ("bulyan", {}), ("norm-clipping", {"bound": 2.5})]:
            if name == "fednova" and rule != "mean":
                continue  # refused at config time: FedNova's step is no combination of client models
            cfg = config.build(None, {"algorithm.name": name, "aggregation.rule": rule, "aggregation.params": params})
            ours = Task(cfg.task_dict()).rule_hash()
            assert algorithms.from_config(cfg).rule_hash() == ours, (name, rule)


# --- agreement with `fl verify` on real runs -------------------------------------------------------
def rpc_url() -> str:
    from brownie import web3

    return web3.provider.endpoint_uri


def refverify(run_path):
    """refverify's exit code and its verdict per line name ("setup", "round 1", ...) -> OK/FAIL/UNSUPPORTED."""
    out = subprocess.run([sys.executable, "-m", "refverify", str(run_path), "--rpc", rpc_url()], cwd=ROOT,
                         capture_output=True, text=True)
    verdicts = {}
    for line in out.stdout.splitlines():
        name, _, rest = line.partition(": ")
        if name == "setup" or name.startswith("round "):
            verdicts[name] = rest.split(" ")[0]
    return out.returncode, verdicts, out.stdout + out.stderr


def fl_verdicts(run_path):
    from fl.audit.verify import verify_task
    from fl.chain import TaskChain

    info = json.loads((run_path / "chain.json").read_text())
    report = verify_task(run_path, TaskChain.attach(info["contract"]))
    verdicts = {"setup": "FAIL" if report.setup_problems else "OK"}
    verdicts.update({f"round {v.round}": "OK" if v.ok else "FAIL" for v in report.rounds})
    return report, verdicts


def assert_agree(run_path, expect_ok: bool):
    report, ours = fl_verdicts(run_path)
    code, theirs, text = refverify(run_path)
    assert theirs == ours, f"fl verify {ours}, refverify {theirs}:\n{text}"
    assert report.ok == expect_ok
    assert code == (0 if expect_ok else 1), text
    return text


def record(run_path, round_):
    from fl.chain import TaskChain

    return TaskChain.attach(json.loads((run_path / "chain.json").read_text())["contract"]).round_record(round_)


def test_agree_on_the_honest_run(run_copy):
    text = assert_agree(run_copy, True)
    assert "round 1: OK" in text and "round 2: OK" in text


def test_agree_on_an_altered_update_file(run_copy):
    path = run_copy / "artifacts" / f"{record(run_copy, 2).commitments[2]}.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    assert "round 2: FAIL update-artifact: client 2: update artifact tampered" in assert_agree(run_copy, False)


def test_agree_on_a_replaced_global_model(run_copy):
    r = record(run_copy, 1)
    shutil.copy(run_copy / "artifacts" / f"{r.start_model}.safetensors", run_copy / "artifacts" / f"{r.final_model}.safetensors")
    text = assert_agree(run_copy, False)
    assert "round 1: FAIL global-artifact" in text and "round 2: FAIL start-artifact" in text


def test_agree_on_a_missing_update_artifact(run_copy):
    (run_copy / "artifacts" / f"{record(run_copy, 1).commitments[1]}.safetensors").unlink()
    assert "round 1: FAIL update-artifact" in assert_agree(run_copy, False)


def test_agree_on_an_edited_task_config(run_copy):
    task = json.loads((run_copy / "task.json").read_text())
    task["config"]["train"]["lr"] = 0.5
    (run_copy / "task.json").write_text(json.dumps(task))
    text = assert_agree(run_copy, False)
    assert "setup: FAIL config-hash" in text and "chain-config-hash" in text


def _dishonest_algorithms():
    from fl.ml.algorithms.api import Update
    from fl.ml.algorithms.fedavg import FedAvg

    class DropsLastUpdate(FedAvg):
        def aggregate(self, previous, updates):
            return super().aggregate(previous, updates[:-1])

    class MixesInAnExtraUpdate(FedAvg):
        def aggregate(self, previous, updates):
            extra = {k: v + 0.5 if v.is_floating_point() else v for k, v in updates[0].tensors.items()}
            return super().aggregate(previous, updates + [Update(99, 100, extra)])

    return {"drops-last": DropsLastUpdate, "mixes-in-extra": MixesInAnExtraUpdate}


@pytest.mark.parametrize("dishonest", ["drops-last", "mixes-in-extra"])
def test_agree_on_an_aggregate_not_of_the_committed_updates(dishonest, tiny_config, monkeypatch):
    from fl.ml import algorithms
    from fl.run.experiment import run_experiment

    with monkeypatch.context() as patch:
        patch.setitem(algorithms.ALGORITHMS, "fedavg", _dishonest_algorithms()[dishonest])
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    assert "round 1: FAIL aggregate" in assert_agree(run.path, False)


def test_agree_on_a_commitment_signed_by_another_account(tiny_config, monkeypatch):
    from fl.chain import TaskChain
    from fl.run.experiment import run_experiment

    real_deploy, real_sign = TaskChain.deploy.__func__, TaskChain.sign_commit

    def sign_with_client_3s_key(self, client_id, round_, update_hash):
        return real_sign(self, 3 if client_id == 2 else client_id, round_, update_hash)

    with monkeypatch.context() as patch:
        patch.setattr(TaskChain, "deploy", classmethod(
            lambda cls, *a, **o: real_deploy(cls, *a, contract_name="FLTaskWithoutSignatureCheck", **o)))
        patch.setattr(TaskChain, "sign_commit", sign_with_client_3s_key)
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    assert "round 1: FAIL commit-signer: client 2" in assert_agree(run.path, False)


def test_agree_on_weights_that_lie(tiny_config, monkeypatch):
    from fl.ml.algorithms.fedavg import FedAvg
    from fl.run.experiment import run_experiment

    with monkeypatch.context() as patch:
        patch.setattr(FedAvg, "weights", lambda self, updates: [1 for _ in updates])
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    assert "round 1: FAIL weights: weights on chain [1, 1, 1]" in assert_agree(run.path, False)


def test_agree_on_an_excluded_nan_update(nan_run):
    run = nan_run(lambda ctx: ctx.client_id == 2, rounds=1)
    assert "round 1: OK (2 updates aggregated" in assert_agree(run.path, True)


def test_agree_on_a_rejected_bad_signature(badly_signed_run):
    assert_agree(badly_signed_run.path, True)


@pytest.mark.parametrize("algorithm, rule, params, extra", [
    ("fedavgm", "mean", {}, {}), ("fedadam", "mean", {}, {}), ("fedyogi", "mean", {}, {}),
    ("fedadagrad", "mean", {}, {}), ("scaffold", "mean", {}, {}), ("fednova", "mean", {}, {}),
    ("moon", "mean", {}, {"model.name": "cnn-proj"}),
    ("fedipr", "mean", {}, {"model.name": "signalexnet-small", "algorithm.params": {"owners": 1, "bits": 8,
                                                                                     "min_distance": 0}}),
    ("fedavg", "mean", {}, {"chain.commit_mode": "direct"}),
    ("fedprox", "median", {}, {}), ("fedavg", "trimmed-mean", {"beta": 0.34}, {}), ("fedavg", "krum", {"f": 0}, {}),
    ("fedavg", "multi-krum", {"f": 0}, {}), ("fedavg", "bulyan", {"f": 0}, {}),
    ("fedavgm", "norm-clipping", {"bound": 0.5}, {}),
    ("fedper", "mean", {}, {"model.name": "niid-cnn"}),
    ("fedrep", "mean", {}, {"model.name": "niid-cnn", "algorithm.params": {"head_epochs": 1}}),
    ("fedbn", "median", {}, {"model.name": "niid-cnn-bn"}), ("ditto", "mean", {}, {"model.name": "niid-cnn"}),
])
def test_agree_on_every_algorithm_and_rule(algorithm, rule, params, extra, tiny_config):
    from fl.run.experiment import run_experiment

    run = run_experiment(tiny_config(**{"algorithm.name": algorithm, "aggregation.rule": rule,
                                        "aggregation.params": params, **extra}))
    assert_agree(run.path, True)


def test_what_needs_the_model_code_is_fl_verifys_alone(run_copy):
    """config.yaml and the reported metrics are outside refverify's scope (VERIFY.md section 8):
    editing them fails `fl verify` and leaves refverify's verdict OK."""
    import csv

    import yaml

    path = run_copy / "config.yaml"
    data = yaml.safe_load(path.read_text())
    data["train"]["lr"] = 0.5
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    metrics = run_copy / "metrics.csv"
    with metrics.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["test_loss"] = repr(float(rows[0]["test_loss"]) * 1.01)
    with metrics.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report, ours = fl_verdicts(run_copy)
    assert ours["setup"] == "FAIL" and ours["round 1"] == "FAIL"
    code, theirs, text = refverify(run_copy)
    assert code == 0 and set(theirs.values()) == {"OK"}, text


def test_what_refverify_cannot_check_is_unsupported_never_ok():
    from refverify.checks import Result, Task, Verdict

    assert Task({"algorithm": {"name": "fedavg"}, "aggregation": {"rule": "mean"}}).unsupported() == []
    assert Task({"algorithm": {"name": "fedsgd"}, "aggregation": {"rule": "mean"}}).unsupported() == ["algorithm fedsgd"]
    assert Task({"algorithm": {"name": "fednova"}, "aggregation": {"rule": "krum"}}).unsupported() == [
        "fednova with aggregation rule krum"]
    assert Task({"algorithm": {"name": "fedavg"}, "aggregation": {"rule": "geomed"},
                 "committee": {"size": 3}}).unsupported() == ["aggregation rule geomed", "committee"]
    unsupported = Verdict("round 1", unsupported=["committee"])
    assert unsupported.line() == "round 1: UNSUPPORTED committee" and not unsupported.ok
    assert Result([Verdict("setup"), unsupported]).exit_code == 2
    failed = Verdict("round 2")
    failed.fail("aggregate", "differs")
    assert Result([Verdict("setup"), unsupported, failed]).exit_code == 1
    assert Result([Verdict("setup"), Verdict("round 1")]).exit_code == 0


def test_agree_on_an_empty_round(nan_run):
    """Every update of round 1 is invalid: the round is finalized with no participants on its start model."""
    run = nan_run(lambda ctx: ctx.round == 1, rounds=2)
    text = assert_agree(run.path, True)
    assert "round 1: OK (no updates aggregated)" in text and "round 2: OK (3 updates aggregated" in text


def test_agree_on_a_personalized_update_without_its_personal_digest(tiny_config, monkeypatch):
    from fl.ml.algorithms.api import PERSONAL_DIGEST
    from fl.ml.algorithms.personal import Personalized
    from fl.run.experiment import run_experiment

    honest = Personalized.with_personal

    def without_digest(self, update, personal, ctx):
        update = honest(self, update, personal, ctx)
        if ctx.client_id == 2:
            del update.tensors[PERSONAL_DIGEST]
        return update

    with monkeypatch.context() as patch:
        patch.setattr(Personalized, "with_personal", without_digest)
        run = run_experiment(tiny_config(**{"algorithm.name": "fedper", "model.name": "niid-cnn", "train.rounds": 1}))
    text = assert_agree(run.path, True)  # the aggregator left the invalid update out, as both verifiers require
    assert "round 1: OK (2 updates aggregated" in text, text



def inflated_local_work_run(tiny_config, monkeypatch, algorithm: str, claim: str, aggregated: bool):
    """A 1-round run of `algorithm` in which client 2 claims more local work than it did: `claim`
    "steps" (1,000 times its steps, and under FedNova the ||a||₁ of those) or "a_norm" (FedNova:
    1,000 times its ||a||₁); `aggregated`: the aggregator takes its update all the same."""
    import torch

    from fl.ml.algorithms.base import Algorithm
    from fl.ml.algorithms.fednova import A_NORM, FedNova
    from fl.ml.algorithms.scaffold import Scaffold
    from fl.ml.training import effective_steps
    from fl.run.experiment import run_experiment

    cls = {"fednova": FedNova, "scaffold": Scaffold}[algorithm]
    honest = cls.client_update

    def inflated(self, ctx):
        update = honest(self, ctx)
        if ctx.client_id != 2:
            return update
        if claim == "steps":
            update.steps *= 1000
        if A_NORM in update.tensors:
            work = effective_steps(update.steps, ctx.train.momentum) * (1000 if claim == "a_norm" else 1)
            update.tensors[A_NORM] = torch.tensor(work, dtype=torch.float64)
        return update

    with monkeypatch.context() as patch:
        patch.setattr(cls, "client_update", inflated)
        if aggregated:
            patch.setattr(cls, "update_problem", Algorithm.update_problem)
        return run_experiment(tiny_config(**{"algorithm.name": algorithm, "train.rounds": 1}))


def test_agree_on_an_excluded_update_claiming_more_local_steps_than_its_samples(tiny_config, monkeypatch):
    run = inflated_local_work_run(tiny_config, monkeypatch, "fednova", "steps", aggregated=False)
    text = assert_agree(run.path, True)
    assert "round 1: OK (2 updates aggregated" in text, text


@pytest.mark.parametrize("algorithm, claim, problem", [
    ("fednova", "steps", "it claims"), ("scaffold", "steps", "it claims"),
    ("fednova", "a_norm", "but its"),
])
def test_agree_on_an_aggregated_update_claiming_more_local_work_than_it_did(algorithm, claim, problem, tiny_config,
                                                                           monkeypatch):
    run = inflated_local_work_run(tiny_config, monkeypatch, algorithm, claim, aggregated=True)
    text = assert_agree(run.path, False)
    assert "round 1: FAIL participants-valid: " in text, text
    report, _ = fl_verdicts(run.path)
    assert any(p.startswith("client 2: aggregated, but its update is invalid: ") and problem in p
               for p in report.rounds[0].problems), report.rounds[0].problems


@pytest.mark.parametrize("key, value", [("num_samples", "0"), ("steps", "-1"), ("steps", "07")])
def test_agree_on_an_update_whose_signed_counts_are_not_canonical_decimals(key, value, tiny_config, monkeypatch):
    from fl.ml.algorithms.api import Update
    from fl.run.experiment import run_experiment

    honest = Update.metadata

    def malformed(self, round_):
        metadata = honest(self, round_)
        if self.client_id == 2:
            metadata[key] = value
        return metadata

    with monkeypatch.context() as patch:
        patch.setattr(Update, "metadata", malformed)
        run = run_experiment(tiny_config(**{"train.rounds": 1}))
    text = assert_agree(run.path, False)
    assert "round 1: FAIL update-label: " in text, text
    report, _ = fl_verdicts(run.path)
    assert any(p.startswith("client 2: artifact ") and f"{key} {value!r}" in p for p in report.rounds[0].problems), \
        report.rounds[0].problems
