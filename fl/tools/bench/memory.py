"""Peak memory of a process tree (a run, its chain node, Ray's workers), sampled from outside."""
from __future__ import annotations

import threading

import psutil

from fl.core.paths import ROOT


class TreeMemory:
    """Samples the RSS of this process and all its descendants every `interval` seconds (cheap:
    /proc/<pid>/statm), and their PSS (shared pages such as Ray's object store and torch's
    libraries counted once) every `pss_every` samples: reading smaps costs ~10 ms a process, which
    every 0.2 s would steal a good part of a core from the two actors."""

    def __init__(self, interval: float = 0.2, pss_every: int = 25, root: int | None = None) -> None:
        self.interval, self.pss_every = interval, pss_every
        self.root = psutil.Process(root) if root is not None else psutil.Process()
        self.samples = 0
        self.peak_sum = 0
        self.peak_pss_sum = 0
        self.peaks: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        # what ran before (e.g. the Ganache a test session launched) is not the simulation's
        self.before = {p.pid for p in self.root.children(recursive=True)}

    def tree(self) -> list[psutil.Process]:
        """The root process (this one unless given) and the descendants it started since."""
        try:
            children = self.root.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [self.root, *(p for p in children if p.pid not in self.before)]

    def sample(self) -> None:
        with_pss = self.samples % self.pss_every == 0
        self.samples += 1
        total = total_pss = 0
        for proc in self.tree():
            try:
                rss = proc.memory_info().rss
                times = proc.cpu_times()
                if with_pss:
                    total_pss += proc.memory_full_info().pss
                if proc.pid not in self.names:
                    self.names[proc.pid] = " ".join(proc.cmdline()).replace(str(ROOT) + "/", "")[:60] or proc.name()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            self.cpu[proc.pid] = times.user + times.system
            total += rss
            self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), rss)
        self.peak_sum = max(self.peak_sum, total)
        self.peak_pss_sum = max(self.peak_pss_sum, total_pss)

    def largest(self, n: int = 6) -> dict[str, float]:
        """The `n` processes with the largest RSS peaks: {command (pid): MB}."""
        top = sorted(self.peaks.items(), key=lambda kv: -kv[1])[:n]
        return {f"{self.names.get(pid, '?')} ({pid})": round(rss / 2**20, 1) for pid, rss in top}

    def cpu_seconds(self, n: int = 6) -> dict[str, float]:
        """The `n` processes that used the most CPU (user + system seconds, as last sampled)."""
        top = sorted(self.cpu.items(), key=lambda kv: -kv[1])[:n]
        return {f"{self.names.get(pid, '?')} ({pid})": round(cpu, 1) for pid, cpu in top}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "TreeMemory":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
