"""The ownership commands: `python -m fl verify-ownership` and the brownie scripts that run FedIPR,
mint its model, check a model file and trade the token."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fl.chain import TaskChain
from fl.features.ownership.trade import to_wei

ROOT = Path(__file__).resolve().parents[2]


def final_model(run):
    summary = json.loads((run / "summary.json").read_text())
    return run / "artifacts" / f"{summary['final_model']}.safetensors"


def test_the_command_line_names_a_file_that_is_not_a_model(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    result = subprocess.run([sys.executable, "-m", "fl", "verify-ownership", str(text), "--token", "1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: model file '{text}' is not a model in safetensors format")


def test_the_brownie_scripts_run_fedipr_mint_verify_and_trade(tmp_path, monkeypatch, capsys):
    from fl.cli import fedipr_script_main, trade_script_main, verify_ownership_script_main

    for name, value in {"FL_DATASET": "synthetic-images", "FL_CLIENTS": "3", "FL_ROUNDS": "2", "FL_LOCAL_EPOCHS": "2",
                        "FL_SET": "algorithm.params.owners=2", "FL_RUNS_DIR": str(tmp_path), "FL_NAME": "fedipr"}.items():
        monkeypatch.setenv(name, value)
    fedipr_script_main()
    run = tmp_path / "fedipr"
    assert json.loads((run / "ownership.json").read_text())["token_id"] == 1
    verify_ownership_script_main(str(final_model(run)), "1", str(run))  # owned: returns
    assert "verdict: OWNED (2 of 2" in capsys.readouterr().out
    trade_script_main(str(run))
    assert json.loads((run / "trade.json").read_text())["withdrawn_wei"] == to_wei(10) + to_wei(15)
    start = TaskChain.attach(json.loads((run / "chain.json").read_text())["contract"]).round_record(1).start_model
    with pytest.raises(SystemExit) as exit_:  # a model that is not owned exits 1
        verify_ownership_script_main(str(run / "artifacts" / f"{start}.safetensors"), "1", str(run))
    assert exit_.value.code == 1
