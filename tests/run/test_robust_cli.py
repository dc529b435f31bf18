"""The robustness flags of the command line: bad values are one clear line."""
import pytest

from test_cli import assert_one_line_error_in_process


@pytest.mark.parametrize("args,expected", [
    (["--rule", "krumm"], "error: unknown aggregation rule 'krumm'; choose one of: bulyan, krum, mean, median, "
                          "multi-krum, norm-clipping, trimmed-mean"),
    (["--attack", "sign-flip", "--attack-fraction", "1"], "error: attack.fraction must be in [0, 1), got 1.0"),
    (["--committee", "10", "--clients", "10"], "error: committee.size 10 must be smaller than train.clients 10"),
    (["--algo", "fednova", "--rule", "krum"], "error: algorithm 'fednova' cannot use aggregation rule 'krum': its "
                                              "server step is not a combination of client models; use aggregation "
                                              "rule 'mean' or another algorithm"),
])
def test_bad_robustness_values_are_one_clear_line(capsys, args, expected):
    assert_one_line_error_in_process(capsys, ["run", *args], expected)


def test_rewards_of_a_run_without_a_token_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "chain.json").write_text("{}")
    assert_one_line_error_in_process(capsys, ["rewards", str(tmp_path)], f"error: run {tmp_path} has no reward token")
