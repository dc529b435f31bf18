"""The test session: tests/<layer>/ holds the tests of fl/<layer> (contracts/: the Solidity
contracts), tests/fixtures/ the fixtures by what they build. Every test that may touch the chain
runs isolated (Brownie reverts the chain after each one); those of core/ and ml/ never touch it.
The chain is launched on a free loopback port so that a test run never attaches to some other
process's chain.
"""
import gc
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")])
# The tests train tiny models: one torch thread is as fast, and far faster when other work keeps
# the cores busy (idle OpenMP threads spin). Subprocesses (the CLI tests) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch_on_free_ports() -> None:
    # imported here: Brownie hashes the source of what a conftest imports at top level and
    # cannot read its own compiled modules
    from brownie._config import CONFIG

    for network in ("ganache-local", "anvil-local"):
        if network in CONFIG.networks:
            CONFIG.networks[network]["cmd_settings"]["port"] = _free_port()


def _skip_ganache_version_probe() -> None:
    from fl.chain.network import read_ganache_version_from_its_package

    read_ganache_version_from_its_package()


_launch_on_free_ports()
_skip_ganache_version_probe()

pytest_plugins = ["fixtures.task", "fixtures.ownership", "fixtures.committee", "fixtures.torch_context",
                  "fixtures.data_files", "fixtures.runs", "fixtures.browser"]


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test runs isolated: Brownie reverts the chain after it (tests/core and tests/ml, whose
    tests never touch the chain, override this with a fixture that does nothing)."""


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="module", autouse=True)
def frozen_heap(one_torch_thread):
    """Moves what is alive when a module starts (torch, Brownie's project, the imported modules)
    out of the garbage collector's sight. Brownie runs a full `gc.collect()` on every chain revert,
    that is after every test and between any two Hypothesis examples, and a full collection over
    the ~300k objects of a loaded session takes 0.3 to 0.5 s; over what a test itself creates it
    takes milliseconds. Garbage is collected first, and whatever a test creates stays collectable."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs the files on two workers (pytest-xdist, `--dist loadgroup`), a whole file
    on one worker as Brownie's own xdist support does, except that the files marked
    `xdist_group(name)` share one queue: those that start Flower's simulation engine (Ray) run one
    after the other, since two Ray clusters starting together on two cores each take several
    times longer."""
    from xdist.scheduler import LoadFileScheduling

    class FilesAndGroups(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid.rsplit("@", 1)[-1] if "@" in nodeid else super()._split_scope(nodeid)

    return FilesAndGroups(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The files marked `end_to_end` (whole runs on the chain, the longest) go first, so that two
    workers do not end on one long file each. On an xdist worker under `--dist loadgroup`, xdist
    has by now added `@group` to the ids of grouped tests, after Brownie mapped the collected ids:
    Brownie maps them again, as they are now."""
    items.sort(key=lambda item: item.get_closest_marker("end_to_end") is None)
    brownie = config.pluginmanager.get_plugin("brownie-core")
    if hasattr(config, "workerinput") and brownie is not None:
        brownie._make_nodemap([item.nodeid for item in items])
