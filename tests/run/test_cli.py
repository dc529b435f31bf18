"""The command line turns bad input into one line on stderr and a non-zero exit, never a traceback."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fl.cli import main

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]


def fl(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "fl", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def assert_one_line_error(result, expected):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error:")]
    assert lines and expected in lines[0], result.stderr


def test_a_bad_value_is_one_line_and_exit_2_from_a_real_interpreter():
    result = fl("run", "--algo", "fedsgd")
    assert result.returncode == 2
    assert_one_line_error(result, "error: unknown algorithm 'fedsgd'; choose one of: ditto, fedadagrad, fedadam, fedavg, "
                                  "fedavgm, fedbn, fedipr, fednova, fedper, fedprox, fedrep, fedyogi, moon, scaffold")


def test_an_unknown_network_is_one_clear_line():
    assert_one_line_error(fl("run", "--network", "no-such-net", "--dataset", "synthetic-images", "--clients", "2",
                             "--rounds", "1", "--runs-dir", "/tmp/onchainfl-cli-test"),
                          "error: unknown network 'no-such-net'; choose one of:")


def in_process(capsys, *args):
    """`python -m fl ARGS` in this process (no interpreter start-up): (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
        sys.exit(0)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def assert_one_line_error_in_process(capsys, args, expected):
    code, _, err = in_process(capsys, *args)
    assert code != 0 and "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert lines and expected in lines[0], err


@pytest.mark.parametrize("args,expected", [
    (["--algo", "fedsgd"], "error: unknown algorithm 'fedsgd'; choose one of: ditto, fedadagrad, fedadam, fedavg, fedavgm, "
                            "fedbn, fedipr, fednova, fedper, fedprox, fedrep, fedyogi, moon, scaffold"),
    (["--optimizer", "lbfgs"], "error: unknown optimizer 'lbfgs'; choose one of: adam, sgd"),
    (["--rounds", "many"], "error: Invalid value for '--rounds': 'many' is not a valid integer"),
    (["--no-such-flag"], "error: No such option '--no-such-flag'"),
    (["--clients", "0"], "error: train.clients must be a positive integer, got 0"),
    (["--rounds", "0"], "error: train.rounds must be a positive integer, got 0"),
    (["--alpha", "-1"], "error: partition.alpha must be a positive number, got -1.0"),
    (["--set", "data.name=cifar99"], "error: unknown data set 'cifar99'; choose one of: cifar10, cifar100, emnist, fashionmnist, mnist, "
                                         "synthetic, synthetic-images"),
    (["--set", "model.name=gpt"], "error: unknown model 'gpt'; choose one of: alexnet, alexnet-proj, cnn, cnn-proj, lenet5"),
    (["--set", "algorithm.params.mu=0.1"], "error: algorithm 'fedavg' has no parameter 'mu'"),
    (["--algo", "fedbn", "--dataset", "synthetic-images"],
     "error: algorithm 'fedbn' keeps the batch-norm layers local and model 'cnn' has none"),
    (["--set", "personalization.fine_tune_epochs=1"],
     "error: personalization.fine_tune_epochs 1 fine-tunes before the personalized evaluation"),
    (["--algo", "fedper", "--engine", "flower"], "error: algorithm 'fedper' cannot run on the Flower engine"),
    (["--name", "my run"], "error: output.run_name 'my run' contains whitespace"),
])
def test_bad_values_are_one_clear_line(capsys, args, expected):
    assert_one_line_error_in_process(capsys, ["run", *args], expected)


@pytest.mark.parametrize("args,expected", [
    (["--param", "mu=-1", "--algo", "fedprox"], "error: algorithm 'fedprox': mu must be a non-negative number, got -1"),
    (["--augment", "rotate"], "error: unknown augmentation 'rotate' in train.augment='rotate'"),
    (["--partition", "shards", "--classes-per-client", "0"],
     "error: partition.classes_per_client must be a positive integer, got 0"),
    (["--set", "data.params.alpha=1"], "error: data set 'fashionmnist' has no parameter 'alpha'; its parameters: normalize"),
    (["--log", "tensorboard,wandb"], "error: unknown tracker 'wandb' in output.log / --log; choose from: tensorboard, mlflow"),
])
def test_bad_new_options_are_one_clear_line(capsys, args, expected):
    code, _, err = in_process(capsys, "run", *args)
    assert code == 2
    assert err.strip().splitlines() == [err.strip()] and err.startswith(expected), err


def test_malformed_config_file(tmp_path, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("train: {rounds: 3\n")
    assert_one_line_error_in_process(capsys, ["run", "--config", str(bad)], "is not valid YAML")


def test_help_lists_every_choice(capsys):
    code, out, _ = in_process(capsys, "run", "--help")
    assert code == 0
    for choice in ("fedavg", "fedprox", "moon", "scaffold", "fedavgm", "fedadam", "fedyogi", "fedadagrad", "fednova",
                   "fashionmnist", "mnist", "emnist", "cifar10", "cifar100", "synthetic", "synthetic-images",
                   "dirichlet", "iid", "shards", "quantity", "natural", "cnn", "lenet5", "mlp", "resnet18", "vgg11",
                   "alexnet", "cnn-proj", "crop+flip", "server_momentum=0.5", "fedper", "fedrep", "fedbn", "ditto",
                   "niid-cnn", "niid-cnn-bn", "niid-dirichlet", "head_epochs=10"):
        assert choice in unwrapped(out)


def unwrapped(text):
    """click's help text as one line (it wraps at spaces and after hyphens)."""
    return " ".join(re.sub(r"-\n\s*", "-", text).split())


def test_compare_prints_a_table_and_draws_the_curves(finished_run, tmp_path, capsys):
    a, b = finished_run("a", [0.5, 0.7, 0.6]), finished_run("b", [0.4, 0.8])
    code, out, err = in_process(capsys, "compare", str(a), str(b), "--out", str(tmp_path / "curves.png"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["run", "algorithm", "data", "split", "model", "rounds", "final", "acc", "best", "acc",
                                "wall", "s"]
    assert lines[1].split() == ["a", "fedprox", "fashionmnist", "dirichlet(0.1)", "cnn", "3", "60.00%", "70.00%", "16.5"]
    assert lines[2].split()[5:8] == ["2", "80.00%", "80.00%"]
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_of_a_folder_that_is_no_run_is_one_clear_line(tmp_path, capsys):
    code, _, err = in_process(capsys, "compare", str(tmp_path))
    assert code == 2 and err.startswith(f"error: {tmp_path} is not a finished run folder")


def test_chain_that_fails_to_start_is_one_clear_line(tmp_path):
    code = (
        "from brownie._config import CONFIG\n"
        "from fl.chain import connected\n"
        "from fl.cli import guarded\n"
        "CONFIG.networks['broken-chain'] = {'id': 'broken-chain', 'name': 'broken', 'host': 'http://127.0.0.1',\n"
        "    'cmd': 'ganache --no-such-flag-at-all', 'cmd_settings': {'port': 18599}}\n"
        "def go():\n"
        "    with connected('broken-chain'):\n"
        "        pass\n"
        "guarded(go)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, "error: cannot connect to chain 'broken-chain'")


def test_two_runs_started_together_get_a_chain_each(tmp_path):
    """Picking a free port and launching the chain is one step under a lock: two runs started at the same
    moment must not both take the configured port and end up sharing (and corrupting) one chain."""
    code = (
        "import sys, time\n"
        "from brownie import web3\n"
        "from brownie._config import CONFIG\n"
        "from fl.chain import connected\n"
        "base = CONFIG.networks['ganache-local']\n"
        "CONFIG.networks['race-chain'] = {**base, 'id': 'race-chain',\n"
        "    'cmd_settings': {**base['cmd_settings'], 'port': 18611}}\n"
        "with connected('race-chain'):\n"
        "    print(web3.provider.endpoint_uri, flush=True)\n"
        "    time.sleep(4)\n"
    )
    runs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-300:] for _, err in outputs]
    endpoints = [next(line for line in out.splitlines() if line.startswith('http')).split()[0] for out, _ in outputs]
    assert len(set(endpoints)) == 2 and any(e.endswith(":18611") for e in endpoints)


def test_an_unknown_engine_is_one_clear_line_with_the_choices(capsys):
    code, _, err = in_process(capsys, "run", "--engine", "grpc", "--dataset", "synthetic-images")
    assert code == 2
    assert "'grpc' is not one of 'inprocess', 'flower'" in err


def test_flower_resources_without_the_flower_engine_are_refused(capsys):
    code, _, err = in_process(capsys, "run", "--client-cpus", "2", "--dataset", "synthetic-images")
    assert code == 2
    assert err.strip().splitlines()[-1] == "error: --client-cpus set(s) the Flower engine's resources; add --engine flower"
