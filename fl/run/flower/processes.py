"""Run a real Flower 1.41 deployment on loopback: a SuperLink, N SuperNodes, `flwr run`, stop.

Every process is one of the venv's own commands (`Path(sys.executable).parent / 'flower-superlink'`
etc.), started in its own session (so its process group holds the SuperExec and the
ServerApp/ClientApp processes it spawns), with its own `FLWR_HOME` folder and its log file in the
deployment's folder, and stopped by that group's id (SIGTERM, then SIGKILL).

What Flower 1.41 wants, as found by running it:

- the SuperLink serves the Fleet, Control and Runtime APIs over HTTPS on one port (`--host`,
  `--port`); TLS with `--ssl-ca-certfile/--ssl-certfile/--ssl-keyfile`; SuperNode authentication
  with `--enable-supernode-auth`, the allowed SuperNodes being those whose OpenSSH EC public keys are
  registered with `flwr supernode register KEY.pub` (no allow-list file); it spawns
  `flower-superexec` found on PATH, so PATH starts with the venv's bin folder here;
- a SuperNode: `--superlink 127.0.0.1:PORT --root-certificates ca.crt
  --auth-supernode-private-key KEY --node-config FILE.toml --port OWN_PORT` (its own local Runtime
  API port; `--clientappio-api-address` is gone); `--max-wait-time S` makes it give up (exit 1,
  exit code 305 in its log) when the SuperLink cannot be reached, instead of retrying for ever;
- `flwr run APP_DIR CONNECTION --stream --run-config FILE.toml` reads the connection
  (`address`, `root-certificates`) from `$FLWR_HOME/config.toml`; it exits 0 even when the
  ServerApp failed, so the run's status is read afterwards with `flwr list --run-id ID`.
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fl.core.errors import UserError
from fl.core.ports import free_port, listening
from fl.run.flower.certificates import NodeKeys, TlsFiles

HOST = "127.0.0.1"
CONNECTION = "onchainfl"
_SUPERNODE_READY = "SuperNode ID:"
_RUN_ID = re.compile(r"Successfully started run (\d+)")


def bin_dir() -> Path:
    """The folder of this interpreter's venv commands (flower-superlink, flower-supernode, flwr)."""
    return Path(sys.executable).parent


def _command(name: str) -> str:
    path = bin_dir() / name
    if not path.exists():
        raise UserError(f"{path} not found; install Flower (flwr 1.41) into this venv")
    return str(path)


def toml_value(value: Any) -> str:
    """One scalar as a TOML value (str, bool, int, float), for node and run config files."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (str, Path)):
        return json.dumps(str(value))  # JSON escapes are valid TOML basic-string escapes
    raise UserError(f"config value {value!r} is a {type(value).__name__}; use str, bool, int or float")


def write_toml_config(path: Path, config: dict[str, Any]) -> Path:
    """Write a flat dict of scalars as a TOML file (what --node-config/--run-config FILE.toml read)."""
    lines = []
    for key, value in config.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            raise UserError(f"config key {key!r} must be letters, digits, '-' or '_'")
        lines.append(f"{key} = {toml_value(value)}")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def last_line(path: Path) -> str:
    """The last non-empty line of a log, stripped (for one-line errors)."""
    lines = [line.strip() for line in log_tail(path, 5).splitlines() if line.strip()]
    return lines[-1] if lines else "(empty log)"


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages (empty if there is none)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Process:
    """One started process: its name, Popen, log file and FLWR_HOME."""

    name: str
    popen: subprocess.Popen
    log: Path
    home: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class SuperLink(Process):
    """The SuperLink: its port (Fleet, Control and Runtime APIs) and the CA its clients trust."""

    port: int = 0
    ca_cert: Path = Path()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass
class SuperNode(Process):
    """One SuperNode: its node id (from registration), node_config and local Runtime API port."""

    node_id: int | None = None
    port: int = 0
    node_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """A finished run: its id, status (`finished:completed`, `finished:failed`, ...), details, log."""

    run_id: int
    status: str
    details: str
    log: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "finished:completed"


class Deployment:
    """A Flower deployment on loopback with TLS and SuperNode authentication; a context manager.

        with Deployment(folder, tls) as dep:
            dep.start_superlink()
            dep.start_supernodes([(keys0, {"partition-id": 0}), (keys1, {"partition-id": 1})])
            result = dep.run(app_dir, {"num-rounds": 1})

    Logs go to folder/logs/<name>.log, each process's FLWR_HOME to folder/homes/<name>/.
    `pythonpath` (e.g. the repository root) is put on PYTHONPATH of every process, so that a
    ServerApp/ClientApp can import it: Flower puts only the installed app's folder on sys.path.
    """

    def __init__(
        self,
        folder: Path,
        tls: TlsFiles,
        *,
        pythonpath: list[Path] | None = None,
        env: dict[str, str] | None = None,
    ):
        self.folder = Path(folder).absolute()
        self.tls = tls
        self.logs = self.folder / "logs"
        self.homes = self.folder / "homes"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.homes.mkdir(parents=True, exist_ok=True)
        self.pythonpath = [Path(p).absolute() for p in (pythonpath or [])]
        self.extra_env = dict(env or {})
        self.superlink: SuperLink | None = None
        self.supernodes: list[SuperNode] = []
        self._cli_home = self.homes / "flwr-cli"

    # -- plumbing ------------------------------------------------------------------------------

    def _env(self, home: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        env["FLWR_HOME"] = str(home)
        env["PATH"] = os.pathsep.join([str(bin_dir()), env.get("PATH", "")])
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("FLWR_TELEMETRY_ENABLED", "0")
        if self.pythonpath:
            parts = [str(p) for p in self.pythonpath]
            if env.get("PYTHONPATH"):
                parts.append(env["PYTHONPATH"])
            env["PYTHONPATH"] = os.pathsep.join(parts)
        return env

    def _spawn(self, name: str, args: list[str]) -> tuple[subprocess.Popen, Path, Path]:
        home = self.homes / name
        home.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.folder, env=self._env(home), start_new_session=True,
            )
        return popen, log, home

    def _cli(self, args: list[str], *, timeout: float = 60, log: Path | None = None) -> subprocess.CompletedProcess:
        """Run `flwr ARGS` against this deployment's SuperLink connection."""
        try:
            done = subprocess.run(
                [_command("flwr"), *args], cwd=self.folder, env=self._env(self._cli_home),
                capture_output=True, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise UserError(f"`flwr {' '.join(args[:2])}` did not finish within {timeout:g} s") from exc
        if log is not None:
            with open(log, "a") as out:
                out.write(f"$ flwr {' '.join(args)}\n{done.stdout}{done.stderr}rc={done.returncode}\n")
        return done

    def _require_superlink(self) -> SuperLink:
        if self.superlink is None:
            raise UserError("no SuperLink started; call start_superlink() first")
        if not self.superlink.alive():
            raise UserError(
                f"the SuperLink (pid {self.superlink.pid}) has exited: {last_line(self.superlink.log)} "
                f"(see {self.superlink.log})"
            )
        return self.superlink

    # -- SuperLink -----------------------------------------------------------------------------

    def start_superlink(self, *, port: int | None = None, timeout: float = 30.0) -> SuperLink:
        """Start flower-superlink with TLS and --enable-supernode-auth on 127.0.0.1:port (free if None).

        Waits until it accepts connections and writes the `flwr` connection config. Raises
        UserError, with the log's last lines, if it exits or is not up within timeout.
        """
        port = port or free_port()
        args = [
            _command("flower-superlink"),
            "--ssl-ca-certfile", str(self.tls.ca_cert),
            "--ssl-certfile", str(self.tls.server_cert),
            "--ssl-keyfile", str(self.tls.server_key),
            "--enable-supernode-auth",
            "--disable-runtime-dependency-installation",
            "--host", HOST, "--port", str(port),
        ]
        popen, log, home = self._spawn("superlink", args)
        self.superlink = SuperLink("superlink", popen, log, home, port=port, ca_cert=self.tls.ca_cert)
        deadline = time.monotonic() + timeout
        while not listening(port):
            if popen.poll() is not None:
                raise UserError(
                    f"flower-superlink exited with code {popen.returncode} before listening on "
                    f"{HOST}:{port}: {last_line(log)} (see {log})"
                )
            if time.monotonic() > deadline:
                raise UserError(f"flower-superlink did not listen on {HOST}:{port} within {timeout:g} s; see {log}")
            time.sleep(0.1)
        self.write_connection(self.superlink.address)
        return self.superlink

    def write_connection(self, address: str) -> Path:
        """Write $FLWR_HOME/config.toml of the `flwr` CLI: connection CONNECTION to address, TLS."""
        self._cli_home.mkdir(parents=True, exist_ok=True)
        path = self._cli_home / "config.toml"
        path.write_text(
            "[superlink]\n"
            f"default = {toml_value(CONNECTION)}\n\n"
            f"[superlink.{CONNECTION}]\n"
            f"address = {toml_value(address)}\n"
            f"root-certificates = {toml_value(self.tls.ca_cert.absolute())}\n"
        )
        return path

    def check_superlink_reachable(self) -> None:
        """Raise UserError if the SuperLink is not running or accepts no connection."""
        link = self._require_superlink()
        if not listening(link.port):
            raise UserError(f"the SuperLink at {link.address} is unreachable (nothing accepts connections there)")

    # -- registration (the allow list) ---------------------------------------------------------

    def register_supernode(self, keys: NodeKeys) -> int:
        """Allow one SuperNode: `flwr supernode register KEY.pub`; returns its node id."""
        self.check_superlink_reachable()
        done = self._cli(
            ["supernode", "register", str(keys.public_key.absolute()), CONNECTION, "--format", "json"],
            log=self.logs / "flwr-cli.log",
        )
        try:
            reply = json.loads(done.stdout[done.stdout.index("{"):])
        except ValueError:
            reply = {}
        if done.returncode != 0 or not reply.get("success"):
            last = (done.stdout + done.stderr).strip().splitlines()[-3:]
            raise UserError(f"could not register SuperNode {keys.name!r} on the SuperLink: {' '.join(last)}")
        return int(reply["node-id"])

    def register_supernodes(self, nodes: list[NodeKeys]) -> dict[str, int]:
        """register_supernode for each; returns {name: node id}."""
        return {keys.name: self.register_supernode(keys) for keys in nodes}

    # -- SuperNodes ----------------------------------------------------------------------------

    def start_supernode(
        self,
        keys: NodeKeys,
        node_config: dict[str, Any],
        *,
        register: bool = True,
        wait: bool = True,
        timeout: float = 30.0,
        max_wait_time: float = 15.0,
        superlink_address: str | None = None,
    ) -> SuperNode:
        """Start flower-supernode `keys.name` with its auth key, the CA and node_config.

        register: first allow its key on the SuperLink (`flwr supernode register`); False starts
        a node that is not on the allow list. wait: return once the SuperLink accepted it (its log
        says `SuperNode ID:`); raises UserError with the log's last lines if it exits first.
        max_wait_time: how long it keeps trying to reach an unreachable SuperLink before exiting.
        superlink_address: defaults to this deployment's SuperLink.
        """
        node_id = None
        if superlink_address is None:
            link = self._require_superlink()
            superlink_address = link.address
            if register:
                node_id = self.register_supernode(keys)
        port = free_port()
        config_file = write_toml_config(self.homes / f"{keys.name}.node-config.toml", node_config)
        args = [
            _command("flower-supernode"),
            "--superlink", superlink_address,
            "--root-certificates", str(self.tls.ca_cert),
            "--auth-supernode-private-key", str(keys.private_key.absolute()),
            "--node-config", str(config_file),
            "--host", HOST, "--port", str(port),
            "--max-wait-time", str(max_wait_time),
        ]
        popen, log, home = self._spawn(keys.name, args)
        node = SuperNode(keys.name, popen, log, home, node_id=node_id, port=port, node_config=dict(node_config))
        self.supernodes.append(node)
        if wait:
            self.wait_supernode(node, timeout=timeout)
        return node

    def wait_supernode(self, node: SuperNode, *, timeout: float = 30.0) -> None:
        """Wait until node's log says the SuperLink accepted it; UserError if it exits or times out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = node.log.read_text(errors="replace")
            except OSError:
                text = ""
            if _SUPERNODE_READY in text:
                match = re.search(r"SuperNode ID: (\d+)", text)
                if match:
                    node.node_id = int(match.group(1))
                return
            if node.popen.poll() is not None:
                tail = log_tail(node.log)
                refused = "Failed to activate SuperNode" in tail
                why = "was refused by the SuperLink (its key is not registered)" if refused else (
                    "could not reach the SuperLink" if "Connection refused" in tail or "could not establish" in tail
                    else "exited early")
                raise UserError(
                    f"SuperNode {node.name!r} {why} (exit code {node.popen.returncode}); see {node.log}"
                )
            if time.monotonic() > deadline:
                raise UserError(f"SuperNode {node.name!r} was not accepted within {timeout:g} s; see {node.log}")
            time.sleep(0.1)

    def start_supernodes(self, nodes: list[tuple[NodeKeys, dict[str, Any]]], *,
                         timeout: float = 30.0) -> list[SuperNode]:
        """Register and start each (keys, node_config), all at once, then wait for each."""
        started = [self.start_supernode(keys, cfg, wait=False) for keys, cfg in nodes]
        for node in started:
            self.wait_supernode(node, timeout=timeout)
        return started

    # -- runs ----------------------------------------------------------------------------------

    def run(
        self,
        app_dir: Path,
        run_config: dict[str, Any] | None = None,
        *,
        timeout: float = 600.0,
        name: str = "run",
        check: bool = True,
    ) -> RunResult:
        """`flwr run APP_DIR --stream --run-config FILE.toml`, wait for it to end, read its status.

        The FAB is built from app_dir by `flwr run` (only *.py/*.toml/*.md/*.json/*.yaml files,
        not test_*.py). The ServerApp's log goes to logs/<name>.log. check: raise UserError unless
        the run finished `finished:completed` (with the ServerApp's last log lines).
        """
        self.check_superlink_reachable()
        app_dir = Path(app_dir).absolute()
        if not (app_dir / "pyproject.toml").is_file():
            raise UserError(f"{app_dir} is no Flower app (it has no pyproject.toml)")
        args = ["run", str(app_dir), CONNECTION, "--stream"]
        if run_config:
            args += ["--run-config", str(write_toml_config(self.folder / f"{name}.run-config.toml", run_config))]
        log = self.logs / f"{name}.log"
        start = time.monotonic()
        done = self._cli(args, timeout=timeout, log=log)
        seconds = time.monotonic() - start
        output = done.stdout + done.stderr
        match = _RUN_ID.search(output)
        if done.returncode != 0 or match is None:
            lines = [ln.strip("│ ╭╮╰╯─") for ln in output.strip().splitlines()[-6:]]
            raise UserError(f"`flwr run {app_dir.name}` failed (exit {done.returncode}): "
                            f"{' '.join(ln.strip() for ln in lines if ln.strip())}; see {log}")
        run_id = int(match.group(1))
        status, details = self.run_status(run_id)
        result = RunResult(run_id, status, details, log, seconds)
        if check and not result.ok:
            raise UserError(f"Flower run {run_id} ended {status}: {' '.join(details.split())}; see {log}")
        return result

    def run_status(self, run_id: int) -> tuple[str, str]:
        """(status, status details) of a run, from `flwr list --run-id`."""
        done = self._cli(["list", CONNECTION, "--run-id", str(run_id), "--format", "json"])
        try:
            runs = json.loads(done.stdout[done.stdout.index("{"):])["runs"]
            return runs[0]["status"], runs[0].get("status-details", "")
        except (ValueError, KeyError, IndexError):
            raise UserError(f"could not read the status of Flower run {run_id}: "
                            f"{done.stdout.strip()} {done.stderr.strip()}")

    # -- stopping ------------------------------------------------------------------------------

    @staticmethod
    def stop_process(proc: Process, grace: float = 5.0) -> None:
        """SIGTERM proc's process group (it and what it spawned), SIGKILL it after grace seconds."""
        if proc.popen.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # the group may outlive its leader (SuperExec, app processes)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass

    def kill_supernode(self, node: SuperNode, sig: int = signal.SIGKILL) -> None:
        """Send sig to one SuperNode's process group (to simulate a crash)."""
        try:
            os.killpg(node.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Stop every SuperNode, then the SuperLink, each by its process group id."""
        for node in reversed(self.supernodes):
            self.stop_process(node)
        if self.superlink is not None:
            self.stop_process(self.superlink)

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
