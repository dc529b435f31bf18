"""The benchmark's plain-Flower peer: a real Flower simulation (Ray, two actors) of FedAvg on the
generated image set learns, times its rounds and leaves no process behind."""
import pytest

pytestmark = [pytest.mark.end_to_end, pytest.mark.xdist_group("flower")]  # Ray: one at a time

pytest.importorskip("flwr.simulation")
pytest.importorskip("ray")


def test_a_plain_flower_fedavg_learns_and_reports_its_timings():
    from fl.tools.bench import plain_flower

    result = plain_flower.run(clients=3, rounds=2, dataset="synthetic-images")

    assert set(plain_flower.KEYS) <= set(result)
    assert result["accuracy"] > 0.2  # ten classes: chance is 0.1
    assert result["accuracy_per_round"][0] < result["accuracy"]
    assert len(result["round_s"]) == 2 and all(s > 0 for s in result["round_s"])
    assert result["warm_round_s"] == result["round_s"][1]
    assert 0 < result["startup_s"] < result["total_s"]
    assert result["peak_rss_mb"] > 0 and result["processes_seen"] > 1  # Ray's processes counted too
    assert result["leftover_processes"] == 0
