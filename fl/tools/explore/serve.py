"""The explorer served on 127.0.0.1, rebuilt as the run goes: `python -m fl explore --serve RUN`.

One thread watches the run folder and, while the run trains, its node (chain.json's `rpc`); when
either changed it rebuilds the page and bumps a version number. The page asks `/version` every
second and reloads itself when it changed. When the run is over (summary.json written, its chain
stopped) the last page is built from the relaunched chain, with verify's every check, and also
written to RUN/explorer.html.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fl.core.errors import UserError
from fl.tools.explore.page import PAGE, render, write

POLL_SECONDS = 0.5
DEFAULT_PORT = 8050


def _chain_alive(info: dict) -> bool:
    import psutil

    pid = info.get("chain_pid")
    if not pid:
        return False
    try:
        return psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _waiting(run: Path, version: int, why: str) -> str:
    from fl.tools.explore.page import LIVE_SCRIPT, STYLE

    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>OnChainFL explorer: {run.name}</title>'
            f'<style>{STYLE}</style></head><body><header><h1>OnChainFL explorer: {run.name}</h1></header>'
            f'<div class="banner live" id="live-banner">{why}</div><script>{LIVE_SCRIPT % {"version": version}}</script>'
            "</body></html>")


class LiveExplorer:
    """The page of one run, kept current while the run trains."""

    def __init__(self, run: Path, metrics: bool = True, log=print):
        self.run = run
        self.metrics = metrics
        self.log = log
        self.version = 0
        self.page = _waiting(run, 0, "Waiting for the run to start…")
        self.finished = False
        self.lock = threading.Lock()
        self._seen: tuple | None = None

    def _fingerprint(self) -> tuple:
        from fl.chain.rpc import block_number_of

        def stamp(name: str):
            path = self.run / name
            return (path.stat().st_mtime_ns, path.stat().st_size) if path.is_file() else None

        info = self._info()
        block = None
        if info.get("rpc") and not (self.run / "summary.json").is_file() and _chain_alive(info):
            try:
                block = block_number_of(info["rpc"])
            except UserError:
                block = None
        return (stamp("chain.json"), stamp("metrics.csv"), stamp("summary.json"), stamp("ownership.json"), block)

    def _info(self) -> dict:
        try:
            return json.loads((self.run / "chain.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def refresh(self) -> bool:
        """Rebuild the page if the run changed; True when it did."""
        from fl.tools.explore.view import read_run

        if not (self.run / "task.json").is_file() or not (self.run / "config.yaml").is_file():
            return False
        seen = self._fingerprint()
        if seen == self._seen:
            return False
        info = self._info()
        if not info:  # chain.json is written once the task is deployed
            return False
        over, alive = (self.run / "summary.json").is_file(), _chain_alive(info)
        if over and alive:  # the chain is still stopping and holds its database
            return False
        view = read_run(self.run, metrics=self.metrics and not alive, live=alive)
        with self.lock:
            self.version += 1
            self.page = render(view, self.version)
            self._seen = seen
            if over and not self.finished:
                self.finished = True
                write(render(view), self.run / PAGE)
                self.log(f"explorer: the run is over; its page is {self.run / PAGE}")
        return True

    def watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.refresh()
            except Exception as exc:  # keep serving the last page; say why it is not newer
                self.log(f"explorer: could not rebuild the page ({type(exc).__name__}: {exc})")
                self._seen = None
                stop.wait(2.0)
            stop.wait(POLL_SECONDS)


def _handler(explorer: LiveExplorer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path.split("?")[0] == "/version":
                with explorer.lock:
                    body = json.dumps({"version": explorer.version, "finished": explorer.finished}).encode()
                kind = "application/json"
            elif self.path.split("?")[0] in ("/", f"/{PAGE}"):
                with explorer.lock:
                    body = explorer.page.encode()
                kind = "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # one line per request would drown the run's own output
            pass

    return Handler


def bind(port: int) -> ThreadingHTTPServer:
    """The server socket on 127.0.0.1:`port` (0: any free port); a one-line UserError when taken."""
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    except OSError as exc:
        raise UserError(f"cannot serve the explorer on 127.0.0.1:{port} ({exc.strerror or exc}); "
                        "pick another port with --port") from None


def serve(run: Path, port: int = DEFAULT_PORT, metrics: bool = True, wait: bool = False, log=print) -> None:
    """Serve the run's page until interrupted (Ctrl-C or SIGTERM)."""
    import signal

    from fl.tools.explore.view import check_run_folder

    if not wait:
        check_run_folder(run)
    server = bind(port)
    explorer = LiveExplorer(run, metrics, log)
    server.RequestHandlerClass = _handler(explorer)
    stop = threading.Event()
    watcher = threading.Thread(target=explorer.watch, args=(stop,), daemon=True)
    watcher.start()
    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    log(f"explorer: http://127.0.0.1:{server.server_address[1]}/ shows {run} (live while it trains; Ctrl-C stops it)")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        watcher.join(timeout=30)
