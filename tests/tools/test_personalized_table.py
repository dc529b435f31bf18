"""The personalized table: each row's last-round personalized figures from its metrics.csv."""
from fl.core.config import build, preset
from fl.core.report import RoundMetrics, RunDir
from fl.tools import personalized_table
from fl.tools.compare import RunResult


def test_every_row_is_a_personalized_evaluation_on_the_niid_bench_cnn():
    for row in personalized_table.ROWS:
        cfg = build(preset(row.algorithm), row.overrides)
        personalized = cfg.algorithm.name in ("fedper", "fedrep", "fedbn", "ditto")
        assert personalized or cfg.personalization.evaluate, row.name
        assert cfg.model.name == ("niid-cnn-bn" if cfg.algorithm.name == "fedbn" else "niid-cnn"), row.name
    tuned = [row for row in personalized_table.ROWS if row.overrides.get("personalization.fine_tune_epochs")]
    assert [row.name for row in tuned] == ["fedavg-ft"]


def test_the_table_reads_the_last_round(tmp_path):
    results = {}
    for i, row in enumerate(personalized_table.ROWS):
        run = RunDir(tmp_path / str(i))
        run.path.mkdir()
        for r, acc in ((1, 0.1), (2, 0.5 + i / 100)):
            run.append_metrics(RoundMetrics(r, 0.3, 1.0, 1.0, 20, 0, 1.0, 1.0, 0.1, 0, 0, "0x", float("nan"), acc, acc / 2))
        results[row.name] = RunResult(run.path, row.algorithm, "fashionmnist", "dirichlet(0.1)", "niid-cnn", [0.3, 0.3],
                                      0.3, 0.3, 120.0)
    text = personalized_table.markdown(results, 20, 20, 0, "cmd")
    ditto = next(line for line in text.splitlines() if line.startswith("| ditto |"))
    assert ditto == "| ditto | niid-cnn | 55.00 % | 27.50 % | 30.00 % | 2.0 min |"
    assert text.count("\n| ") == len(personalized_table.ROWS) + 1
