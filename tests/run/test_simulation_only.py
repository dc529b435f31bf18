"""chain.enabled = false: the same rounds with nothing committed, said loudly; and the same model."""
import json

import pytest

from fl.audit.verify import verify_run
from fl.core.errors import UserError
from fl.run.experiment import resume_experiment, run_experiment


def test_chain_off_says_so_and_ends_on_the_same_model_as_chain_on(tiny_config, capsys):
    on = run_experiment(tiny_config())
    off = run_experiment(tiny_config(**{"chain.enabled": False}))
    assert "chain OFF: simulation only, nothing is committed on chain" in capsys.readouterr().out
    summary_off = json.loads((off.path / "summary.json").read_text())
    summary_on = json.loads((on.path / "summary.json").read_text())
    assert summary_off["simulation_only"] is True
    assert [r["gas"] for r in summary_off["per_round"]] == [0, 0]
    assert summary_off["final_model"] == summary_on["final_model"]


def test_a_simulation_only_run_cannot_be_verified_or_resumed(tiny_config):
    off = run_experiment(tiny_config(**{"chain.enabled": False, "train.rounds": 1}))
    with pytest.raises(UserError, match="ran with the chain off .simulation only.: nothing was committed"):
        verify_run(off.path)
    with pytest.raises(UserError, match="ran with the chain off .simulation only.: there is no chain state"):
        resume_experiment(off.path)
