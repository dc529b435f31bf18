"""The server arithmetic gives the same bytes whichever CPU kernels torch picks.

torch chooses its CPU kernels by `ATEN_CPU_CAPABILITY` (default, avx2, avx512; the best the CPU
offers unless set); a fused multiply-add in one of them and not in another changes the last bit
of a sum. Every server step here is computed in subprocesses under each capability this CPU
offers, and `python -m fl verify` is run on a real run under each: the bytes, and the verdict,
must not change. The weighted mean is also checked against a numpy implementation of its spec.
"""
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
CAPABILITIES = ("default", "avx2", "avx512")


def run_all(commands: dict[str, tuple[list[str], str | None]], timeout: int = 300) -> dict[str, subprocess.CompletedProcess]:
    """Run each command (argv, ATEN_CPU_CAPABILITY or None for the native one) at the same time."""
    started = {}
    for key, (argv, capability) in commands.items():
        env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
        env.setdefault("OMP_NUM_THREADS", "1")
        if capability is not None:
            env["ATEN_CPU_CAPABILITY"] = capability
        started[key] = (argv, subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, text=True,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    done = {}
    for key, (argv, process) in started.items():
        stdout, stderr = process.communicate(timeout=timeout)
        done[key] = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    return done


def python(code: str, capability: str | None = None) -> subprocess.CompletedProcess:
    return run_all({"": (["-c", code], capability)})[""]


@functools.lru_cache(maxsize=None)
def native_capability() -> str:
    """The best capability this CPU offers: what torch picks when ATEN_CPU_CAPABILITY is unset."""
    result = python("import torch; print(torch.backends.cpu.get_cpu_capability())")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().lower()


def offered() -> list[str]:
    """The capabilities up to the native one (torch takes a higher one without complaint, but it
    cannot run kernels the CPU lacks: on an AVX2 CPU, avx512 gave avx2's bits)."""
    native = native_capability()
    return list(CAPABILITIES[:CAPABILITIES.index(native) + 1]) if native in CAPABILITIES else ["default", native]


@pytest.fixture(scope="module")
def capabilities():
    supported = offered()
    if len(supported) < 2:
        pytest.skip(f"this CPU offers only {supported}: nothing to compare")
    return supported


# --- the primitives ---------------------------------------------------------------------------
def awkward_sums():
    """Value sets whose exactly rounded sum is easy to get wrong: wide exponents, cancellation,
    subnormals, exact ties between two floats, more terms than one float64 accumulator holds."""
    import numpy as np

    rng = np.random.default_rng(5)
    y = rng.standard_normal(500) * 1e16
    yield rng.standard_normal(4518)
    yield rng.standard_normal(2000) * np.exp2(rng.integers(-1074, 960, 2000).astype(float))
    yield rng.permutation(np.concatenate([y, -y, rng.standard_normal(7) * 1e-300]))
    yield rng.integers(-5, 6, 300) * 5e-324
    yield np.array([1.0, 2.0**-53] * 40 + [2.0**-106])  # half-way cases, broken by the last term
    yield np.array([1.0, 2.0**-53, 2.0**-53, -2.0**-104])
    yield np.full(1 << 21, 1.0 + 2.0**-52)
    yield np.array([-0.0, -0.0])
    yield np.array([])


def test_exact_sum_is_math_fsum():
    import math

    import numpy as np

    from fl.ml.exact import exact_sum

    for values in awkward_sums():
        assert np.float64(exact_sum(values)).tobytes() == np.float64(math.fsum(values.tolist())).tobytes()
    assert exact_sum(np.array([1e308, 1e308])) == math.inf  # where math.fsum raises OverflowError
    assert exact_sum(np.array([math.inf, 1.0])) == math.inf


def test_sqrt_is_correctly_rounded():
    import math

    import numpy as np
    import torch

    from fl.ml.exact import sqrt

    values = np.abs(np.random.default_rng(2).standard_normal(20_000)) * 10.0 ** np.arange(-8, 8).repeat(1250)
    assert sqrt(torch.from_numpy(values)).tolist() == [math.sqrt(v) for v in values]


# --- every server step, on generated updates ------------------------------------------------
CLIENTS = 7  # enough for Bulyan with f = 1


def generated_round(global_state, round_, parameter_names):
    """Seeded updates around `global_state` (numpy draws: torch's own sampling kernels depend on
    the CPU capability), with each algorithm's extra tensors."""
    import numpy as np
    import torch

    from fl.ml.algorithms.api import Update, model_part
    from fl.ml.algorithms.fednova import A_NORM
    from fl.ml.algorithms.scaffold import DELTA_C

    rng = np.random.default_rng(round_)

    def noise(like, scale):
        dtype = np.float32 if like.dtype == torch.float32 else np.float64
        return torch.from_numpy(rng.standard_normal(tuple(like.shape)).astype(dtype) * dtype(scale))

    updates = []
    for client in range(1, CLIENTS + 1):
        tensors = {name: value + noise(value, 0.05 * client) if value.is_floating_point() else value.clone()
                   for name, value in model_part(global_state).items()}
        tensors.update({DELTA_C + name: noise(global_state[name], 0.01) for name in parameter_names})
        tensors[A_NORM] = torch.tensor(float(rng.uniform(1, 20)), dtype=torch.float64)
        updates.append(Update(client, int(rng.integers(1, 500)), tensors, steps=int(rng.integers(1, 40))))
    return updates


def generated_model(name="mlp-proj", shape=(4,)):
    """A model (mlp-proj: MOON needs a projection head; FedBN a model with batch norm) and a start
    state drawn with numpy (torch's own initialization kernels give other bits under other
    capabilities). The tensors are float64 but for one float32 one: a last-bit difference in
    float64 mostly vanishes when rounded to float32."""
    import numpy as np
    import torch

    from fl.ml import models

    model = models.build(name, shape, 3, seed=0)
    rng = np.random.default_rng(0)
    last_bias = [n for n in model.state_dict() if n.endswith(".bias")][-1]
    start = {name: torch.from_numpy(rng.standard_normal(tuple(value.shape)).astype(
                 np.float32 if name == last_bias else np.float64))
             if value.is_floating_point() else value.clone() for name, value in model.state_dict().items()}
    return model, start


def server_step_hashes() -> dict[str, str]:
    """keccak of the encoded result of two rounds of every algorithm's server step, and of one
    round of FedAvg through every robust rule, plus the weighted mean alone."""
    from fl.core import codec, config
    from fl.ml import algorithms
    from fl.ml.aggregate import weighted_average
    from fl.ml.algorithms.api import model_part
    from fl.ml.robust import rules

    cfg = config.build(None, {"train.clients": 10, "model.name": "mlp-proj"})
    model, start = generated_model()
    with_norm = generated_model("niid-cnn-bn", (1, 28, 28))
    digest = {}
    for name in sorted(algorithms.ALGORITHMS):
        model, start = with_norm if name == "fedbn" else generated_model()
        names = [n for n, _ in model.named_parameters()]
        algorithm = algorithms.build(name)
        algorithm.setup(cfg, model, (1, 28, 28) if name == "fedbn" else (4,))
        state = algorithm.initial_state(start)
        for round_ in (1, 2):
            state = algorithm.aggregate(state, generated_round(state, round_, names))
        digest[f"algorithm {name}"] = "0x" + codec.keccak(codec.encode(state)).hex()
    model, start = generated_model()
    updates = generated_round(start, 1, [n for n, _ in model.named_parameters()])
    for name in sorted(rules.RULES):
        algorithm = algorithms.build("fedavg", rule=rules.build(name, {}))
        digest[f"rule {name}"] = "0x" + codec.keccak(codec.encode(algorithm.aggregate(start, updates))).hex()
    mean = weighted_average([model_part(u.tensors) for u in updates], [u.num_samples for u in updates], start)
    digest["weighted mean"] = "0x" + codec.keccak(codec.encode(mean)).hex()
    return digest


HASHES = "import sys, json; sys.path.insert(0, 'tests/audit'); import test_cpu_independence as t; " \
         "print(json.dumps(t.server_step_hashes()))"


@pytest.fixture(scope="module")
def hashes_by_capability(capabilities):
    results = run_all({capability: (["-c", HASHES], capability) for capability in capabilities})
    for capability, result in results.items():
        assert result.returncode == 0, f"ATEN_CPU_CAPABILITY={capability}:\n{result.stderr}"
    return {capability: json.loads(result.stdout.strip().splitlines()[-1]) for capability, result in results.items()}


@pytest.mark.parametrize("capability", CAPABILITIES[1:])
def test_every_server_step_gives_the_bytes_of_the_default_kernels(capability, hashes_by_capability):
    from fl.ml import algorithms
    from fl.ml.robust import rules

    if capability not in hashes_by_capability:
        pytest.skip(f"ATEN_CPU_CAPABILITY={capability} is not offered by this CPU (it offers "
                    f"{native_capability()} at most)")
    expected, found = hashes_by_capability["default"], hashes_by_capability[capability]
    assert sorted(found) == sorted([f"algorithm {a}" for a in algorithms.ALGORITHMS] +
                                   [f"rule {r}" for r in rules.RULES] + ["weighted mean"])
    differ = sorted(k for k in expected if found[k] != expected[k])
    assert not differ, f"ATEN_CPU_CAPABILITY={capability} and default differ in: {', '.join(differ)}"


def numpy_weighted_mean(values, weights):
    """Spec S's weighted mean, in numpy: c_k = w_k / W in float64, acc += c_k * x_k from +0.0 in
    client order, each operation rounded, then rounded once to the inputs' dtype."""
    import numpy as np

    total = float(sum(weights))
    acc = np.zeros(values[0].shape, dtype=np.float64)
    for x, w in zip(values, weights):
        acc = acc + np.float64(float(w) / total) * x.astype(np.float64)
    return acc.astype(values[0].dtype)


def test_the_weighted_mean_is_byte_for_byte_a_numpy_implementation_of_its_spec(hashes_by_capability):
    import torch

    from fl.core import codec
    from fl.ml.algorithms.api import model_part

    model, start = generated_model()
    updates = generated_round(start, 1, [name for name, _ in model.named_parameters()])
    expected = {name: torch.from_numpy(numpy_weighted_mean([u.tensors[name].numpy() for u in updates],
                                                           [u.num_samples for u in updates]))
                if value.is_floating_point() else value for name, value in model_part(start).items()}
    digest = "0x" + codec.keccak(codec.encode(expected)).hex()
    assert {c: h["weighted mean"] for c, h in hashes_by_capability.items()} == {c: digest for c in hashes_by_capability}


# --- verify on a real run --------------------------------------------------------------------
def test_verify_passes_under_every_cpu_capability(tmp_path, capabilities):
    """A run made under the native capability verifies under each (each on its own copy of the
    run folder: two chains cannot open one chain database at once)."""
    made = run_all({"": (["-m", "fl", "run", "--dataset", "synthetic-images", "--clients", "3", "--rounds", "1",
                          "--no-progress", "--runs-dir", str(tmp_path), "--name", "run"], None)})[""]
    assert made.returncode == 0, made.stderr
    runs = {capability: tmp_path / f"run-{capability}" for capability in capabilities}
    for run in runs.values():
        shutil.copytree(tmp_path / "run", run)
    verified = run_all({capability: (["-m", "fl", "verify", str(run)], capability) for capability, run in runs.items()})
    for capability, result in verified.items():
        assert result.returncode == 0, f"ATEN_CPU_CAPABILITY={capability}:\n{result.stdout}{result.stderr}"
        assert result.stdout.strip().splitlines()[-1] == f"verify: OK: 1 round(s) of {runs[capability]}"


# --- the round-0 model ---------------------------------------------------------------------------
INITIAL = ("import sys, json, hashlib; from fl.ml import models; "
           "print(json.dumps({n: hashlib.sha256(b''.join(v.numpy().tobytes() for _, v in "
           "sorted(models.build(n, (1, 28, 28) if n.startswith(('mlp', 'logreg')) else (3, 32, 32), 10, 3)"
           ".state_dict().items()))).hexdigest() for n in sorted(models.MODELS)}))")


def test_every_model_starts_from_the_same_bytes_under_every_capability(capabilities):
    results = run_all({capability: (["-c", INITIAL], capability) for capability in capabilities})
    hashes = {}
    for capability, result in results.items():
        assert result.returncode == 0, f"ATEN_CPU_CAPABILITY={capability}:\n{result.stderr}"
        hashes[capability] = json.loads(result.stdout.strip().splitlines()[-1])
    differ = sorted(name for name in hashes["default"] for c in capabilities if hashes[c][name] != hashes["default"][name])
    assert not differ, f"initial weights differ between capabilities for: {', '.join(differ)}"


def test_initial_weights_are_a_numpy_implementation_of_their_spec():
    """fl.ml.models.portable_init's recipe, written again from its docstring with numpy alone."""
    import math

    import numpy as np

    from fl.ml import models

    model = models.build("mlp", (1, 28, 28), 10, 7)
    for name, value in model.state_dict().items():
        if not name.endswith(("weight", "bias")):
            continue
        layer = dict(model.named_modules())[name.rsplit(".", 1)[0]]
        bound = 1.0 / math.sqrt(layer.weight.shape[1])
        raw = np.random.PCG64(np.random.SeedSequence([7, 0x494E4954, *name.encode()])).random_raw(value.numel())
        u = (raw >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
        expected = ((u * 2.0 - 1.0) * bound).astype(np.float32).reshape(tuple(value.shape))
        assert value.numpy().tobytes() == expected.tobytes(), name
