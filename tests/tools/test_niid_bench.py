"""NIID-Bench's presets hold the paper's settings, the table puts ours beside the published figures,
and each run's record lets rows measured at different times add up."""
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from fl.core.config import build
from fl.core.errors import UserError
from fl.tools import niid_bench


@pytest.mark.parametrize("row", niid_bench.ROWS, ids=lambda r: r.name)
def test_each_preset_has_the_papers_settings(row):
    cfg = build(row.preset)
    t = cfg.train
    assert (cfg.data.name, cfg.data.params, cfg.model.name) == ("fashionmnist", {"normalize": False}, "niid-cnn")
    assert (t.clients, t.fraction, t.rounds, t.local_epochs, t.batch_size) == (10, 1.0, 50, 10, 64)
    assert (t.optimizer, t.lr, t.momentum, t.weight_decay) == ("sgd", 0.01, 0.9, 1e-5)
    expected_split = ("iid", None) if row.split == "IID" else ("niid-dirichlet", 0.5)
    assert (cfg.partition.method, cfg.partition.alpha if row.split != "IID" else None) == expected_split
    assert cfg.algorithm.name == row.name.removesuffix("-iid")
    if row.name == "fedprox":
        assert cfg.algorithm.params == {"mu": 0.01}


def result(accuracy, seconds=600.0, row="fedavg", seed=0, config_hash=None, date="2026-12-03"):
    cell = niid_bench.cell_config(niid_bench.BY_NAME[row], seed, 50, Path("runs"), None)
    config_hash = config_hash or cell.config_hash()
    return niid_bench.Record(row, seed, config_hash, [0.5] * 49 + [accuracy], "ab" * 32, seconds, "x86_64, 1 thread",
                             date)


def test_the_table_gives_mean_std_and_the_difference_from_the_paper():
    rows = niid_bench.pick(["fedavg", "fedprox"])
    text = niid_bench.markdown(rows, {"fedavg": [result(0.88), result(0.89), result(0.87)], "fedprox": [result(0.8715)]},
                               50, "python -m fl niid-bench")
    lines = text.splitlines()
    fedavg = next(line for line in lines if "| FedAvg |" in line)
    assert "| 88.09 % ± 0.29 | 88.00 % ± 1.00 | -0.09 | 3 | 50 | 10 min | 2026-12-03 |" in fedavg
    fedprox = next(line for line in lines if "FedProx" in line)
    assert "| 88.15 % | 87.15 % | -1.00 | 1 | 50 |" in fedprox
    assert "not comparable" not in text
    assert "measured on x86_64, 1 thread, the table last written by `python -m fl niid-bench`" in text


def test_a_row_without_results_says_so():
    text = niid_bench.markdown(niid_bench.pick(["fedavg", "scaffold"]), {"fedavg": [result(0.88)]}, 50, "cmd")
    assert "| Dir(0.5) | SCAFFOLD | 88.44 % | not measured yet | | 0 | | | |" in text.splitlines()


def test_a_shortened_table_says_it_is_not_comparable():
    text = niid_bench.markdown(niid_bench.pick(["fednova"]), {"fednova": [result(0.8)]}, 5, "cmd")
    assert "Shortened to 5 of the paper's 50 rounds: not comparable" in text


def test_rows_and_seeds_are_checked():
    with pytest.raises(UserError, match="unknown niid-bench row 'fedsgd'; choose one of: fedavg, fedavg-iid"):
        niid_bench.pick(["fedsgd"])
    with pytest.raises(UserError, match="--seeds must be a positive integer, got 0"):
        niid_bench.pick(None, seeds=0)
    assert [r.seeds for r in niid_bench.pick(None, seeds=2)] == [2] * 5
    assert [r.name for r in niid_bench.pick(["fednova", "fedavg"])] == ["fedavg", "fednova"]


def test_a_record_round_trips_and_only_records_of_todays_presets_count(tmp_path):
    scaffold = niid_bench.BY_NAME["scaffold"]
    result(0.8844, row="scaffold", seed=0).save(tmp_path)
    result(0.80, row="scaffold", seed=1, config_hash="0" * 64).save(tmp_path)  # a preset changed since
    assert json.loads((tmp_path / "scaffold-s0.json").read_text())["accuracy"][-1] == 0.8844
    assert niid_bench.Record.load(tmp_path, scaffold, 0) == result(0.8844, row="scaffold", seed=0)
    assert [(r.seed, r.final_accuracy) for r in niid_bench.recorded_runs(scaffold, tmp_path)] == [(0, 0.8844)]
    assert niid_bench.recorded_runs(niid_bench.BY_NAME["fedavg"], tmp_path) == []


def test_reuse_takes_a_record_of_the_same_config_without_running(tmp_path, monkeypatch):
    def no_run(cfg, reuse):
        raise AssertionError(f"ran {cfg.output.run_name}")

    monkeypatch.setattr(niid_bench, "run_or_reuse", no_run)
    fednova = niid_bench.BY_NAME["fednova"]
    result(0.8822, row="fednova").save(tmp_path / "records")
    reused = niid_bench.run_cell(fednova, 0, 50, tmp_path / "runs", None, reuse=True, records=tmp_path / "records")
    assert reused.final_accuracy == 0.8822
    with pytest.raises(AssertionError, match="ran fednova-s0"):  # without --reuse, it runs again
        niid_bench.run_cell(fednova, 0, 50, tmp_path / "runs", None, reuse=False, records=tmp_path / "records")


def test_a_finished_run_folder_becomes_its_record(tmp_path):
    from fl.core import config

    fedprox = niid_bench.BY_NAME["fedprox"]
    cfg = niid_bench.cell_config(fedprox, 0, 50, tmp_path, None)
    folder = tmp_path / "fedprox-s0"
    folder.mkdir()
    (folder / "config.yaml").write_text(config.to_yaml(cfg))
    (folder / "task.json").write_text(json.dumps({"config_hash": cfg.config_hash()}))
    rows = [{"round": r, "test_accuracy": 0.8 + r / 1000, "seconds": 60.0} for r in range(1, 51)]
    (folder / "summary.json").write_text(json.dumps({
        "final_accuracy": 0.85, "best_accuracy": 0.85, "final_model": "cd" * 32, "total_seconds": 3000.0,
        "torch_threads": 3,
        "startup": {"startup_s": 5.0, "data_load_s": 1.0}, "per_round": rows}))
    record = niid_bench.Record.of_run(fedprox, 0, folder)
    assert (record.config_hash, record.final_model, record.rounds) == (cfg.config_hash(), "cd" * 32, 50)
    assert record.final_accuracy == pytest.approx(0.85) and record.wall_seconds == 3006.0
    assert ", 3 torch threads, torch " in record.machine  # the run's threads, not this process's


def test_a_damaged_record_is_one_clear_error(tmp_path):
    (tmp_path / "fedavg-s0.json").write_text("{not json")
    with pytest.raises(UserError, match=r"fedavg-s0.json is not a niid-bench record \(.*\); delete it"):
        niid_bench.Record.load(tmp_path, niid_bench.BY_NAME["fedavg"], 0)


def cell_in_its_process(row, seed, rounds, runs_dir, network, reuse, records):
    """Stands in for `run_cell` in the parallel tests (spawned processes import it from here): says
    which process ran it, instead of training."""
    if row.name == "fednova":
        raise UserError("fednova's run failed")
    print(f"{row.name} seed {seed} ran in process {os.getpid()}")
    time.sleep(1.0)  # the first two overlap, so both processes take one
    return replace(result(0.8 + seed / 100, row=row.name, seed=seed), machine=str(os.getpid()))


def test_jobs_run_cells_in_processes_of_their_own_and_keep_their_order(tmp_path):
    cells = [(niid_bench.BY_NAME["fedavg"], seed) for seed in range(3)]
    records = niid_bench.run_cells(cells, 50, tmp_path, None, False, tmp_path / "records", jobs=2,
                                   cell=cell_in_its_process)
    assert [r.seed for r in records] == [0, 1, 2]
    assert [r.final_accuracy for r in records] == pytest.approx([0.80, 0.81, 0.82])
    processes = {r.machine for r in records}
    assert len(processes) == 2 and str(os.getpid()) not in processes
    for r in records:
        assert (tmp_path / f"fedavg-s{r.seed}.log").read_text() == f"fedavg seed {r.seed} ran in process {r.machine}\n"


def test_a_failed_parallel_run_is_raised_and_the_run_beside_it_finishes(tmp_path):
    cells = [(niid_bench.BY_NAME["fednova"], 0), (niid_bench.BY_NAME["fedavg"], 0)]
    with pytest.raises(UserError, match="fednova's run failed"):
        niid_bench.run_cells(cells, 50, tmp_path, None, False, tmp_path / "records", jobs=2, cell=cell_in_its_process)
    assert "fedavg seed 0 ran in process" in (tmp_path / "fedavg-s0.log").read_text()


def test_jobs_are_checked(tmp_path):
    cells = [(niid_bench.BY_NAME["fedavg"], 0)]
    with pytest.raises(UserError, match="--jobs must be a positive integer, got 0"):
        niid_bench.run_cells(cells, 50, tmp_path, None, False, tmp_path, jobs=0, cell=cell_in_its_process)
    with pytest.raises(UserError, match="--jobs 2 runs each run on a chain of its own; it cannot share --network "
                                        "ganache-local"):
        niid_bench.run_cells(cells, 50, tmp_path, "ganache-local", False, tmp_path, jobs=2, cell=cell_in_its_process)
