"""The benchmark's runs: each measurement reads the run it just made."""
import json

from fl.tools.bench.runs import measure


def test_a_measurement_reads_its_own_run_not_an_older_one_of_that_name(tmp_path):
    stale = tmp_path / "off-3"
    stale.mkdir()
    (stale / "summary.json").write_text(json.dumps({"final_model": "0xstale", "per_round": []}))

    measured = measure("off-3", tmp_path, clients=3, rounds=2, chain=False,
                       extra=("--dataset", "synthetic-images", "--threads", "1"))

    assert measured.summary["final_model"] != "0xstale"
    assert [r["round"] for r in measured.rounds] == [1, 2]
    assert not (tmp_path / "off-3-2").exists()
