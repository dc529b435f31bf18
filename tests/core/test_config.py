"""Experiment configs: presets, overrides, validation with messages that name the bad value."""
import pytest

from fl.cli import build_config, knobs_from_env, parse_set
from fl.core import config
from fl.core.errors import UserError

ROOT_PRESET = "configs/fedavg.yaml"


def test_default_preset_is_the_issue_default():
    cfg = config.build(ROOT_PRESET)
    assert (cfg.algorithm.name, cfg.data.name, cfg.partition.method, cfg.model.name) == ("fedavg", "fashionmnist", "iid", "cnn")
    assert (cfg.train.clients, cfg.train.rounds, cfg.train.batch_size) == (10, 5, 32)


def test_overrides_win_over_the_file():
    cfg = build_config(ROOT_PRESET, {"rounds": 20, "clients": 50, "seed": 1}, {"train.lr": 0.05})
    assert (cfg.train.rounds, cfg.train.clients, cfg.seed, cfg.train.lr) == (20, 50, 1, 0.05)


def test_alpha_alone_selects_dirichlet():
    cfg = build_config(ROOT_PRESET, {"alpha": 0.5}, {})
    assert (cfg.partition.method, cfg.partition.alpha) == ("dirichlet", 0.5)


def test_scripts_read_fl_environment_variables():
    file, knobs, sets = knobs_from_env({"FL_ROUNDS": "3", "FL_ALPHA": "0.1", "FL_CONFIG": "x.yaml", "FL_SET": "train.lr=0.2"})
    assert (file, knobs, sets) == ("x.yaml", {"rounds": 3, "alpha": 0.1}, {"train.lr": 0.2})


def test_bad_environment_value_is_named():
    with pytest.raises(UserError, match="FL_ROUNDS='many' is not a valid int"):
        knobs_from_env({"FL_ROUNDS": "many"})


def test_task_hash_ignores_output_settings():
    a = config.build(None, {"output.runs_dir": "a", "output.run_name": "x"})
    b = config.build(None, {"output.runs_dir": "b"})
    assert a.canonical_json() == b.canonical_json()
    assert config.build(None, {"seed": 1}).canonical_json() != b.canonical_json()


@pytest.mark.parametrize("overrides,message", [
    ({"train.clients": 0}, "train.clients must be a positive integer, got 0"),
    ({"train.rounds": -1}, "train.rounds must be a positive integer, got -1"),
    ({"partition.alpha": 0}, "partition.alpha must be a positive number, got 0.0"),
    ({"train.fraction": 1.5}, r"train.fraction must be in \(0, 1\], got 1.5"),
    ({"train.rounds": "ten"}, "config: train.rounds must be an integer, got 'ten'"),
    ({"train.epochs": 2}, "config: unknown key 'train.epochs'; valid keys under train: clients, rounds"),
    ({"partition.classes_per_client": 0}, "partition.classes_per_client must be a positive integer, got 0"),
    ({"partition.power": -1}, "partition.power must be a positive number, got -1.0"),
    ({"data.params": 3}, "config: data.params must be a mapping, got 3"),
])
def test_invalid_values_are_named(overrides, message):
    with pytest.raises(UserError, match=message):
        config.build(None, overrides)


def test_malformed_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  rounds: [1, 2\n")
    with pytest.raises(UserError, match=r"bad.yaml' is not valid YAML at line 3"):
        config.build(bad)


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        config.build(tmp_path / "nope.yaml")


def test_set_needs_key_equals_value():
    with pytest.raises(UserError, match="--set takes key=value"):
        parse_set(["train.lr"])


@pytest.mark.parametrize("preset", sorted(p.name for p in config.PRESETS_DIR.glob("*.yaml")))
def test_every_preset_is_valid_and_names_what_exists(preset):
    from fl.run.assembly import check_names

    check_names(config.build(config.PRESETS_DIR / preset))
