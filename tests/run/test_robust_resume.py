"""A committee run killed mid-round resumes (scores already on chain stand) to the same hashes and
rewards as an uninterrupted run, and verifies."""
import json

import pytest

from test_resume import final_hashes, fl

pytestmark = pytest.mark.end_to_end

RUN_ARGS = ["--dataset", "synthetic-images", "--clients", "5", "--rounds", "2", "--committee", "2", "--rewards", "10",
            "--attack", "sign-flip", "--attack-fraction", "0.2", "--no-progress"]


def test_a_committee_run_killed_after_scoring_resumes_to_the_same_result(tmp_path):
    reference = fl("run", *RUN_ARGS, "--runs-dir", str(tmp_path), "--name", "reference")
    assert reference.returncode == 0, reference.stderr
    crashed = fl("run", *RUN_ARGS, "--runs-dir", str(tmp_path), "--name", "crashed", env={"FL_FAULT": "kill:2:scored"})
    assert crashed.returncode == -9, crashed.stderr
    run = tmp_path / "crashed"
    resumed = fl("run", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr
    assert "1 round(s) finalized, round 2 open: redoing it" in resumed.stdout
    assert final_hashes(run) == final_hashes(tmp_path / "reference")
    summaries = [json.loads((folder / "summary.json").read_text()) for folder in (run, tmp_path / "reference")]
    assert summaries[0]["rewards"]["balances"] == summaries[1]["rewards"]["balances"]
    verified = fl("verify", str(run))
    assert verified.returncode == 0, verified.stdout + verified.stderr
