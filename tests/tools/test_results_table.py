"""`make table`: the README table is built from run folders and replaces only what stands between its markers."""

from fl.tools import results_table
from fl.tools.compare import load_run


def test_table_rows_show_each_algorithms_preset_and_both_splits(finished_run):
    rows = [results_table.Row("fedprox", "fedprox")]
    results = {("fedprox", "dirichlet0.1"): load_run(finished_run("d", [0.5, 0.6])),
               ("fedprox", "iid"): load_run(finished_run("i", [0.8, 0.85]))}
    text = results_table.markdown(rows, results, rounds=2, clients=20, seed=0, command="python -m fl table --rounds 2")
    assert "FashionMNIST, 20 clients, all sampled every round, 2 rounds, seed 0" in text
    assert "`python -m fl table --rounds 2`" in text
    row = text.strip().splitlines()[-1]
    mu = results_table.settings(rows[0])
    assert mu.startswith("mu=")
    assert row == f"| fedprox | {mu} | cnn | 2 | 60.00% | 60.00% | 12 s | 85.00% | 85.00% | 12 s |"


def test_every_algorithm_has_a_preset_on_fashionmnist_and_a_table_row():
    from fl.core.config import build, preset
    from fl.ml import algorithms

    # FedIPR is a watermarking variant of FedAvg with its own table (make watermark-table)
    assert {row.algorithm for row in results_table.ROWS} == set(algorithms.ALGORITHMS) - {"fedipr", "fedper", "fedrep",
                                                                                          "fedbn", "ditto"}
    for row in results_table.ROWS:
        cfg = build(preset(row.algorithm), row.overrides)
        assert (cfg.algorithm.name, cfg.data.name) == (row.algorithm, "fashionmnist")


def test_reuse_takes_a_finished_run_only_when_its_config_is_the_same(finished_run, tmp_path):
    import json

    from fl.core.config import build, preset

    row = results_table.Row("fedprox", "fedprox")
    folder = finished_run("fedprox-iid", [0.5, 0.9])
    cfg = build(preset("fedprox"), {"data.name": "fashionmnist", "train.clients": 20, "train.rounds": 2, "seed": 0,
                                    **results_table.SPLITS["iid"], "output.runs_dir": str(folder.parent),
                                    "output.run_name": "fedprox-iid", "output.progress": False})
    (folder / "task.json").write_text(json.dumps({"config_hash": cfg.config_hash()}))
    assert results_table.finished_with(folder, cfg)
    result = results_table.run_row(row, "iid", 2, 20, 0, folder.parent, None, reuse=True)
    assert result.final_accuracy == 0.9
    other = build(preset("fedprox"), {"data.name": "fashionmnist", "train.rounds": 3})
    assert not results_table.finished_with(folder, other)
