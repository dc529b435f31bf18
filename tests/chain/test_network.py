"""Launching the project's chain: what Brownie would ask Ganache before each launch, and one chain
at a time on a kept chain state."""
import json
import os
import re
import stat

import pytest
from brownie.network.rpc import ganache

from fl.chain import network
from fl.chain.network import PROJECT_ROOT, read_ganache_version_from_its_package
from fl.core.errors import UserError


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


def test_a_second_chain_on_a_kept_state_is_refused_naming_the_process_that_holds_it(tmp_path):
    state = tmp_path / "run" / "chain"
    with network._chain_state_lock(state):
        with pytest.raises(UserError, match=rf"the chain state {re.escape(str(state.resolve()))} is in use by process {os.getpid()} "
                                            r"\(a run, verify or explorer on the same run folder\); wait"):
            with network._chain_state_lock(tmp_path / "run" / ".." / "run" / "chain"):  # the same state, spelled otherwise
                pass
        with network._chain_state_lock(tmp_path / "other" / "chain"):  # another run's state is free
            pass
    with network._chain_state_lock(state):  # released with the chain
        pass
