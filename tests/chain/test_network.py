"""Launching the project's chain: what Brownie would ask Ganache before each launch."""
import json
import os
import stat

from brownie.network.rpc import ganache

from fl.chain.network import PROJECT_ROOT, read_ganache_version_from_its_package


def test_the_projects_ganache_gives_its_major_version_from_its_package_without_starting(monkeypatch):
    read_ganache_version_from_its_package()
    started = []
    monkeypatch.setattr(ganache.psutil, "Popen", lambda *args, **kwargs: started.append(args))
    package = json.loads((PROJECT_ROOT / "node_modules" / "ganache" / "package.json").read_text())
    assert ganache.get_ganache_version("ganache") == int(package["version"].split(".")[0]) == 7
    assert started == []


def test_another_ganache_is_still_asked_for_its_version(tmp_path, monkeypatch):
    read_ganache_version_from_its_package()
    other = tmp_path / "ganache"
    other.write_text("#!/bin/sh\necho 'Ganache CLI v6.12.2 (ganache-core: 2.13.2)'\n")
    other.chmod(other.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert ganache.get_ganache_version("ganache") == 6
