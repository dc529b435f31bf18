"""The layers of fl/ (.importlinter, ARCHITECTURE.md): each imports only the layers below it,
chain and ml never import each other, and only fl.chain talks to Brownie or web3."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--config", str(root / ".importlinter"), "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)


def test_every_layer_rule_holds():
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 2 kept, 0 broken." in out.stdout


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "fl", tmp_path / "fl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_ml_importing_the_chain_breaks_the_layers(tmp_path):
    root = copy_of_the_package(tmp_path)
    aggregate = root / "fl" / "ml" / "aggregate.py"
    aggregate.write_text(aggregate.read_text() + "\nfrom fl.chain import bitmap  # noqa\n")
    out = lint(root)
    assert out.returncode == 1
    assert "fl.ml is not allowed to import fl.chain" in out.stdout
    assert "fl.ml.aggregate -> fl.chain" in out.stdout


def test_a_feature_calling_brownie_directly_breaks_the_chain_boundary(tmp_path):
    root = copy_of_the_package(tmp_path)
    feature = root / "fl" / "features" / "attendance" / "feature.py"
    feature.write_text(feature.read_text() + "\nimport brownie  # noqa\n")
    out = lint(root)
    assert out.returncode == 1
    assert "fl.features is not allowed to import brownie" in out.stdout
