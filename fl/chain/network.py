"""Load the Brownie project and connect to (launching if needed) the project's chain."""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import yaml

from fl.core.errors import UserError
from fl.core.ports import free_port, listening
from fl.core.paths import ROOT as PROJECT_ROOT

# Brownie 1.22 warns about its own internal calls when it launches a chain.
warnings.filterwarnings("ignore", message=r"rpc\.\w+ should not be called directly", category=FutureWarning)
DEFAULT_NETWORK = "ganache-local"


def project_network_id() -> str:
    """The network named under `onchainfl.network` in brownie-config.yaml."""
    config = yaml.safe_load((PROJECT_ROOT / "brownie-config.yaml").read_text()) or {}
    return (config.get("onchainfl") or {}).get("network", DEFAULT_NETWORK)


def _ensure_tools_on_path() -> None:
    """Brownie launches `ganache` / `anvil` by name; the project's npm binaries provide them."""
    tools = str(PROJECT_ROOT / "node_modules" / ".bin")
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if tools not in parts:
        os.environ["PATH"] = os.pathsep.join([tools, *parts])


@contextmanager
def _machine_lock(name: str) -> Iterator[None]:
    """Held by one process of this machine at a time (a lock file in the temporary folder)."""
    import fcntl
    import tempfile

    with open(Path(tempfile.gettempdir()) / f"onchainfl-{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _chain_state_lock(db_path: Path) -> Iterator[None]:
    """Held while a chain of this machine runs on the state kept in `db_path`. A second chain on the
    same state (two verifies of one run, a verify beside a resumed run) cannot open it, so it is
    refused, naming the process that holds it."""
    import fcntl
    import hashlib
    import tempfile

    db_path = db_path.resolve()
    key = hashlib.sha256(str(db_path).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"onchainfl-chain-state-{key}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise UserError(f"the chain state {db_path} is in use by {holder} (a run, verify or explorer on the same "
                            "run folder); wait for it to finish") from None
        handle.truncate(0)
        handle.write(f"process {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _launch_lock():
    """One chain launch at a time on this machine, from picking its port until it answers: two runs
    started together would otherwise both find the port free and share one chain."""
    return _machine_lock("chain-launch")


def read_ganache_version_from_its_package() -> None:
    """Brownie runs `ganache --version` before every launch (a Node.js start, one to two seconds) to
    choose between Ganache 6's and 7's flags; for the project's own Ganache, its package.json says
    the version without starting it. Any other `ganache` is still asked."""
    import json
    import shutil

    from brownie.network.rpc import ganache

    if getattr(ganache.get_ganache_version, "reads_package", False):
        return
    ask = ganache.get_ganache_version
    ours = PROJECT_ROOT / "node_modules" / ".bin" / "ganache"
    package = PROJECT_ROOT / "node_modules" / "ganache" / "package.json"

    def version(executable: str) -> int:
        found = shutil.which(executable)
        if found and ours.exists() and package.is_file() and Path(found).resolve() == ours.resolve():
            return int(json.loads(package.read_text())["version"].split(".")[0])
        return ask(executable)

    version.reads_package = True
    ganache.get_ganache_version = version


def load_project():
    """The OnChainFL Brownie project, compiled (from the build cache when unchanged)."""
    from brownie import project

    read_ganache_version_from_its_package()
    loaded = project.get_loaded_projects()
    if loaded:
        return loaded[0]
    _ensure_tools_on_path()
    try:
        with _machine_lock("compile"):  # two runs started together would both write build/
            active = project.load(PROJECT_ROOT, name="OnChainFLProject")
    except Exception as exc:  # compiler missing, bad source, ...
        raise UserError(f"cannot compile the contracts ({type(exc).__name__}: {exc}); run `make setup`") from None
    active.load_config()
    return active


def _known_networks() -> dict:
    from brownie._config import CONFIG

    return CONFIG.networks


@dataclass
class ChainSession:
    """The chain a block of work runs on."""
    network: str
    launched: bool  # launched here, and stopped on exit
    pid: int | None = None  # the chain process, when launched here
    db_path: str | None = None  # where a launched chain keeps its state


def _persist_args(cmd: str, db_path: Path) -> str:
    db_path.mkdir(parents=True, exist_ok=True)
    if cmd.startswith("ganache"):
        return f"--database.dbPath {db_path.resolve()}"
    if cmd.startswith("anvil"):
        return f"--state {(db_path / 'anvil-state.json').resolve()} --state-interval 1"
    return ""


@contextmanager
def connected(network_id: str | None = None, *, db_path: Path | None = None) -> Iterator[ChainSession]:
    """Be connected to a chain for the duration of the block.

    If Brownie is already connected (inside `brownie run` or `brownie test`) that connection
    is used, with two exceptions: Brownie's stock `development` network (Anvil in Brownie 1.22),
    picked only because no --network was given, is swapped for the project's network; and a
    chain Brownie launched for a script is relaunched with its state kept in `db_path`, so that
    the run can be verified and resumed later (never under `brownie test`, which needs its own
    chain for isolation). Otherwise the network is connected here (a development network is
    launched on a free loopback port, keeping its state in `db_path` if given) and disconnected,
    its process stopped, on exit.
    """
    from brownie import network
    from brownie._config import CONFIG
    from brownie.network.rpc import Rpc

    load_project()
    if network.is_connected():
        active = network.show_active()
        stock = active == "development" and network_id is None and not CONFIG.argv["network"]
        relaunch = (db_path is not None and CONFIG.mode != "test" and Rpc().is_child()
                    and "cmd" in _known_networks().get(active, {}))
        if not (stock or relaunch):
            CONFIG.argv["silent"] = True
            yield ChainSession(active, launched=False)
            return
        network.disconnect()
        if stock:
            print(f"note: switching from Brownie's stock '{active}' network to the project's '{project_network_id()}'")
        else:
            network_id = network_id or active

    target = network_id or project_network_id()
    networks = _known_networks()
    if target not in networks:
        raise UserError(f"unknown network {target!r}; choose one of: {', '.join(sorted(networks))} "
                        "(or add it with `brownie networks add`)")
    settings = networks[target]
    saved = (settings.get("cmd"), dict(settings.get("cmd_settings") or {}))
    kept_db = None
    with ExitStack() as held:  # a kept chain state's lock, released once the chain is stopped
        if "cmd" in settings and db_path is not None:
            held.enter_context(_chain_state_lock(db_path))
        with _launch_lock() if "cmd" in settings else nullcontext():
            if "cmd" in settings:
                _ensure_tools_on_path()
                port = int(settings.get("cmd_settings", {}).get("port", 8545))
                if listening(port):
                    settings["cmd_settings"]["port"] = free_port()
                extra = _persist_args(settings["cmd"], db_path) if db_path is not None else ""
                if extra:
                    settings["cmd"] = f"{settings['cmd']} {extra}"
                    kept_db = str(db_path)
            try:
                network.connect(target)
            except FileNotFoundError as exc:
                raise UserError(f"cannot start chain {target!r}: {exc.filename or exc} not found; run `make setup` "
                                "(it installs ganache and anvil with npm)") from None
            except Exception as exc:
                raise UserError(f"cannot connect to chain {target!r} ({type(exc).__name__}: {str(exc).strip()})") from None
            finally:
                if saved[0] is not None:
                    settings["cmd"], settings["cmd_settings"] = saved
        CONFIG.argv["silent"] = True
        rpc = Rpc()
        pid = rpc.process.pid if rpc.is_child() else None
        if pid is not None and kept_db is not None:
            _start_watchdog(pid, kept_db)
        try:
            yield ChainSession(target, launched=True, pid=pid, db_path=kept_db)
        finally:
            try:
                network.disconnect()
            except Exception:  # the chain process may already be gone
                CONFIG.clear_active()


def _start_watchdog(chain_pid: int, db_path: str) -> None:
    """Stop the chain if this process dies without stopping it (see fl/chain/watchdog.py)."""
    import subprocess
    import sys

    subprocess.Popen([sys.executable, "-m", "fl.chain.watchdog", str(os.getpid()), str(chain_pid),
                      str(Path(db_path).resolve())], cwd=PROJECT_ROOT, start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def chain_alive() -> bool:
    """Whether the connected chain still answers."""
    from brownie import web3

    try:
        return bool(web3.is_connected())
    except Exception:
        return False


def onfree_port() -> str:
    """The project's network, set to launch on a free loopback port (others' chains may hold the usual one)."""
    from brownie._config import CONFIG

    load_project()
    network = project_network_id()
    CONFIG.networks[network].setdefault("cmd_settings", {})["port"] = free_port()
    return network


def rpc_endpoint() -> str:
    """The URL of the chain this process is connected to."""
    from brownie import web3

    return web3.provider.endpoint_uri


def node_accounts() -> list[str]:
    """The accounts the connected node unlocks (a development chain's funded accounts)."""
    from brownie import web3

    return list(web3.eth.accounts)
