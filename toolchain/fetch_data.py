"""Make FashionMNIST available offline, once: Debian's package where apt works, else a download.

Order: files already present (data.root-less defaults of fl.ml.data.fashionmnist) → `apt-get install
dataset-fashion-mnist` (as root, or with passwordless sudo) → torchvision's download into data/.
If all fail it warns and exits 0: tests do not need the data, and an experiment that does
stops with a message saying how to get it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fl.core.errors import UserError  # noqa: E402
from fl.ml.data import fashionmnist  # noqa: E402

PACKAGE = "dataset-fashion-mnist"


def present() -> bool:
    return fashionmnist.find_files([fashionmnist.DEBIAN_DIR, fashionmnist.PROJECT_DATA_DIR]) is not None


def apt_install() -> bool:
    if shutil.which("apt-get") is None:
        return False
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-qq", PACKAGE]
    print(f"data: installing FashionMNIST with apt ({PACKAGE})")
    if subprocess.run(install, env=env, capture_output=True).returncode == 0:
        return present()
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True)
    return subprocess.run(install, env=env, capture_output=True).returncode == 0 and present()


def main() -> None:
    if present() or apt_install():
        return
    print("data: downloading FashionMNIST with torchvision into data/")
    try:
        fashionmnist.fetch()
    except UserError as exc:
        print(f"warning: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main()
