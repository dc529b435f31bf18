"""RewardToken: every round with aggregated updates mints exactly the budget, in proportion to the
recorded contribution, and nothing to clients that were not aggregated; nobody else can mint."""
import brownie
import pytest
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fixtures.committee import BUDGET, FIRST_COMMITTEE, _committee_task
from fixtures.task import CONFIG_HASH, MODEL_0, MODEL_1, RULE, ZERO_ADDRESS
from fl.chain.bitmap import from_words, to_words
from fl.features.rewards import payout


def lower(account):
    return account.address.lower()


def finalize(task, aggregator, participants, weights):
    """Finalize round 1 (on MODEL_1; a round without participants keeps its start model MODEL_0)."""
    model = MODEL_1 if participants else MODEL_0
    return task.finalizeRound(1, model, to_words(participants), weights, RULE, {"from": aggregator})


def balances(token, accounts):
    return [int(token.balanceOf(a)) for a in accounts]


def test_the_budget_is_paid_in_proportion_to_the_weights(rewarded_round, aggregator, clients):
    task, token = rewarded_round
    tx = finalize(task, aggregator, [1, 2, 3], [10, 20, 33])
    # floor(1000003 * w / 63): 158730, 317461, 523811; the unit left over goes to the top contributor
    assert balances(token, clients) == [158730, 317461, 523812, 0]
    assert token.totalSupply() == BUDGET
    assert tx.events["RoundRewarded"] == {"round": 1, "toParticipants": BUDGET, "toCommittee": 0}


def test_a_committed_client_left_out_of_the_aggregate_gets_nothing(rewarded_round, aggregator, clients):
    task, token = rewarded_round
    finalize(task, aggregator, [1, 2], [5, 5])
    assert balances(token, clients) == [500002, 500001, 0, 0]  # ties: the remainder to the lowest id


def test_a_share_that_rounds_down_to_zero_mints_nothing(rewarded_round, aggregator, clients):
    task, token = rewarded_round
    tx = finalize(task, aggregator, [1, 2], [1, 10**30])  # floor(1000003 * 1 / (10**30 + 1)) = 0
    assert balances(token, clients) == [0, BUDGET, 0, 0]
    assert [e["to"] for e in tx.events["Transfer"]] == [clients[1]]  # no mint of 0 units


def test_a_round_without_participants_mints_nothing(rewarded_round, aggregator):
    task, token = rewarded_round
    tx = finalize(task, aggregator, [], [])
    assert token.totalSupply() == 0
    assert tx.events["RoundRewarded"] == {"round": 1, "toParticipants": 0, "toCommittee": 0}


def test_only_the_task_mints(rewarded_round, aggregator):
    _, token = rewarded_round
    assert not any(entry.get("name") == "mint" for entry in token.abi)
    with brownie.reverts(f"NotTask: {lower(aggregator)}"):
        token.onRoundFinalized(1, [0b10], [1], {"from": aggregator})


@pytest.mark.parametrize("budget,share,with_committee,error", [
    (0, 0, False, "InvalidRewards: 0, 0"),
    (10, 500, False, "InvalidRewards: 10, 500"),
    (10, 10000, True, "InvalidRewards: 10, 10000"),
])
def test_deploy_rejects_bad_rewards(rewarded_committee_round, RewardToken, aggregator, budget, share, with_committee,
                                    error):
    task, committee, _ = rewarded_committee_round
    with brownie.reverts(error):
        RewardToken.deploy("R", "R", task, committee if with_committee else ZERO_ADDRESS, budget, share,
                           {"from": aggregator})


def test_with_a_committee_scores_measure_contribution_and_scorers_share(rewarded_committee_round, aggregator, fleet):
    task, committee, token = rewarded_committee_round
    scores = {2: [50, 0, 70, 10, 0, 90, 0], 5: [60, 0, 70, 20, 0, 10, 0], 7: [40, 0, 70, 30, 0, 80, 0]}
    for member_id, row in scores.items():
        committee.submitScores(1, row, {"from": fleet[member_id - 1]})
    committee.tally(1, {"from": aggregator})  # selects 3 (median 70) and 6 (median 80)
    tx = finalize(task, aggregator, [3, 6], [100, 100])
    # committee: floor(1000003 * 20 %) = 200000 in three parts, the 2 left over to member 2;
    # participants: 800003 by medians 70 : 80 = 373334 and 426668, the unit left over to 6
    assert balances(token, fleet) == [0, 66668, 373334, 0, 66666, 426669, 66666, 0]
    assert token.totalSupply() == BUDGET
    assert tx.events["RoundRewarded"] == {"round": 1, "toParticipants": 800003, "toCommittee": 200000}


def test_the_committees_remainder_goes_to_its_lowest_id_whatever_the_order_of_scoring(rewarded_committee_round,
                                                                                        aggregator, fleet):
    task, committee, token = rewarded_committee_round
    assert (token.task(), token.committee()) == (task.address, committee.address)
    scores = {7: [40, 0, 70, 30, 0, 80, 0], 5: [60, 0, 70, 20, 0, 10, 0], 2: [50, 0, 70, 10, 0, 90, 0]}
    for member_id, row in scores.items():  # highest id first: the scorers are listed 7, 5, 2
        committee.submitScores(1, row, {"from": fleet[member_id - 1]})
    committee.tally(1, {"from": aggregator})
    finalize(task, aggregator, [3, 6], [100, 100])
    assert balances(token, fleet) == [0, 66668, 373334, 0, 66666, 426669, 66666, 0]


def test_participants_whose_medians_are_all_zero_cannot_be_paid(FLTask, CommitteeWithoutSelectionCheck, RewardToken,
                                                                aggregator, fleet):
    # The committee's medians are the contributions. Committee itself never selects a median of 0, so
    # only a committee that lets any participants through (the mock) can hand the token nothing to
    # split the budget by: the round is refused rather than paid arbitrarily.
    task, committee, token = _committee_task(FLTask, CommitteeWithoutSelectionCheck, aggregator, fleet, "robust",
                                             RewardToken)
    for member_id in FIRST_COMMITTEE:
        committee.submitScores(1, [0] * 7, {"from": fleet[member_id - 1]})
    committee.tally(1, {"from": aggregator})
    assert committee.medianScore(1, 1) == committee.medianScore(1, 3) == 0
    with brownie.reverts("ZeroContribution: 1"):
        finalize(task, aggregator, [1, 3], [10, 10])
    assert token.totalSupply() == 0


WEIGHTS = st.lists(st.integers(1, 10**30), min_size=1, max_size=3)


@given(weights=WEIGHTS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_round_mints_exactly_the_budget(rewarded_round, aggregator, clients, weights):
    task, token = rewarded_round
    participants = [1, 2, 3][:len(weights)]
    finalize(task, aggregator, participants, weights)
    assert token.totalSupply() == BUDGET
    expected = payout.split_in_proportion(BUDGET, weights)
    assert balances(token, clients[:len(weights)]) == expected
    assert sum(balances(token, clients)) == BUDGET
