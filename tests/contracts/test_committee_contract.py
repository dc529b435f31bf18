"""Committee: who may score, the tally's median / selection / election (against the Python
reference on random score matrices), and that the task only finalizes the selected set."""
import brownie
import pytest
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fixtures.committee import FIRST_COMMITTEE, STRATEGY, update_hash
from fixtures.task import CONFIG_HASH, MODEL_0, MODEL_1, RULE, SALT
from fl.chain.bitmap import from_words, to_words
from fl.features.committee import reference


def ints(values):
    return [int(v) for v in values]


def lower(account):
    return account.address.lower()


def member(fleet, client_id):
    return fleet[client_id - 1]


def score_rows(rows, fleet, committee, round_=1):
    for member_id, row in rows.items():
        committee.submitScores(round_, row, {"from": member(fleet, member_id)})


# scores[member][k] for the k-th committed client, ascending: the committed set is 1..7 (8 never
# committed), so scores[member][id - 1]; candidates are 1, 3, 4, 6 (2, 5, 7 are the committee)
SCORES = {2: [50, 0, 70, 10, 0, 90, 0],
          5: [60, 0, 70, 20, 0, 10, 0],
          7: [40, 0, 70, 30, 0, 80, 0]}
# medians: 1 -> 50, 3 -> 70, 4 -> 20, 6 -> 80


# --- set-up -----------------------------------------------------------------------------------

def test_deploy_records_the_rules_and_elects_the_first_committee(committee_round):
    task, committee = committee_round
    assert (committee.task(), committee.size(), committee.strategy(), committee.selectBps()) == (task, 3, 0, 5000)
    event = committee.tx.events["CommitteeElected"]
    assert (event["round"], ints(event["members"])) == (1, FIRST_COMMITTEE)
    assert ints(committee.membersOf(1)) == FIRST_COMMITTEE
    assert [str(h) for h in task.roundHooks()] == [committee.address]


@pytest.mark.parametrize("size,bps,first,error", [
    (0, 5000, [], "InvalidCommittee: 0, 5000"),
    (3, 0, [1, 2, 3], "InvalidCommittee: 3, 0"),
    (3, 10001, [1, 2, 3], "InvalidCommittee: 3, 10001"),
    (3, 5000, [1, 2], "InvalidCommittee: 2, 5000"),
    (3, 5000, [1, 2, 9], "InvalidMember: 9"),
    (3, 5000, [0, 1, 2], "InvalidMember: 0"),
    (3, 5000, [2, 1, 3], "InvalidMember: 1"),
])
def test_deploy_rejects_a_bad_committee(committee_round, Committee, aggregator, size, bps, first, error):
    task, _ = committee_round
    with brownie.reverts(error):
        Committee.deploy(task, size, 0, bps, first, {"from": aggregator})


def test_hooks_are_added_by_the_aggregator_only(FLTask, Committee, aggregator, accounts):
    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    task.register({"from": accounts[1]})
    committee = Committee.deploy(task, 1, 0, 5000, [1], {"from": aggregator})
    with brownie.reverts(f"NotAggregator: {lower(accounts[1])}"):
        task.addRoundHook(committee, {"from": accounts[1]})
    tx = task.addRoundHook(committee, {"from": aggregator})
    assert tx.events["RoundHookAdded"] == {"hook": committee}


def test_hooks_cannot_be_added_once_rounds_started(committee_round, aggregator):
    task, committee = committee_round
    with brownie.reverts("RoundsAlreadyStarted: "):
        task.addRoundHook(committee, {"from": aggregator})


# --- scoring ----------------------------------------------------------------------------------

def test_member_scores_are_recorded_and_emitted(committee_round, fleet):
    _, committee = committee_round
    tx = committee.submitScores(1, SCORES[5], {"from": member(fleet, 5)})
    event = tx.events["ScoresSubmitted"]
    assert (event["round"], event["memberId"], ints(event["scores"])) == (1, 5, SCORES[5])
    assert ints(committee.scoresOf(1, 5)) == SCORES[5]
    assert ints(committee.scorersOf(1)) == [5]


def test_only_committee_members_score(committee_round, fleet):
    _, committee = committee_round
    with brownie.reverts(f"NotCommitteeMember: 1, {lower(member(fleet, 3))}"):
        committee.submitScores(1, SCORES[2], {"from": member(fleet, 3)})


def test_unregistered_accounts_cannot_score(committee_round, accounts):
    _, committee = committee_round
    with brownie.reverts(f"NotCommitteeMember: 1, {lower(accounts[9])}"):
        committee.submitScores(1, SCORES[2], {"from": accounts[9]})


def test_a_member_scores_once_per_round(committee_round, fleet):
    _, committee = committee_round
    committee.submitScores(1, SCORES[2], {"from": member(fleet, 2)})
    with brownie.reverts("AlreadyScored: 1, 2"):
        committee.submitScores(1, SCORES[5], {"from": member(fleet, 2)})


def test_scores_need_one_entry_per_committed_client(committee_round, fleet):
    _, committee = committee_round
    with brownie.reverts("ScoreCountMismatch: 7, 6"):
        committee.submitScores(1, SCORES[2][:6], {"from": member(fleet, 2)})


def test_scores_are_not_sized_by_the_registered_clients(committee_round, fleet):
    _, committee = committee_round  # 8 registered, 7 committed
    with brownie.reverts("ScoreCountMismatch: 7, 8"):
        committee.submitScores(1, SCORES[2] + [0], {"from": member(fleet, 2)})


def test_scoring_waits_for_the_commit_phase_to_close(committee_round_committing, fleet):
    _, committee = committee_round_committing
    with brownie.reverts("CommitsStillOpen: 1"):
        committee.submitScores(1, SCORES[2], {"from": member(fleet, 2)})


def test_tally_waits_for_the_commit_phase_to_close(committee_round_committing, aggregator):
    _, committee = committee_round_committing
    with brownie.reverts("CommitsStillOpen: 1"):
        committee.tally(1, {"from": aggregator})


def test_an_outsider_cannot_register_to_break_a_members_scores(committee_round, fleet, accounts):
    task, committee = committee_round
    with brownie.reverts("RegistrationClosed: "):
        task.register({"from": accounts[9]})
    committee.submitScores(1, SCORES[2], {"from": member(fleet, 2)})
    assert ints(committee.scorersOf(1)) == [2]


def test_a_late_commit_cannot_change_what_the_committee_scores(committee_round_committing, fleet, aggregator):
    task, committee = committee_round_committing
    task.closeCommits(1, {"from": aggregator})
    with brownie.reverts("CommitsAlreadyClosed: 1"):
        task.commitUpdate(1, update_hash(8), {"from": fleet[7]})
    score_rows(SCORES, fleet, committee)
    committee.tally(1, {"from": aggregator})
    assert from_words(committee.scoredOf(1)) == list(range(1, 8))


def test_next_rounds_committee_cannot_score_ahead(committee_round, fleet, aggregator):
    _, committee = committee_round
    score_rows(SCORES, fleet, committee)
    committee.tally(1, {"from": aggregator})
    with brownie.reverts("RoundNotScoring: 2"):
        committee.submitScores(2, SCORES[2], {"from": member(fleet, 6)})


def test_no_scores_after_the_tally(committee_round, fleet, aggregator):
    _, committee = committee_round
    score_rows({2: SCORES[2], 5: SCORES[5]}, fleet, committee)
    committee.tally(1, {"from": aggregator})
    with brownie.reverts("AlreadyTallied: 1"):
        committee.submitScores(1, SCORES[7], {"from": member(fleet, 7)})


# --- tally ------------------------------------------------------------------------------------

def test_tally_takes_medians_selects_and_elects(committee_round, fleet, accounts):
    _, committee = committee_round
    score_rows(SCORES, fleet, committee)
    tx = committee.tally(1, {"from": accounts[9]})  # anyone may tally once every member scored
    # eligible 1, 3, 4, 6 by median: 6 (80), 3 (70), 1 (50), 4 (20); half of 4 selected: 6 and 3
    assert ints(committee.mediansOf(1)) == [50, 0, 70, 20, 0, 80, 0]
    assert from_words(committee.selectedOf(1)) == [3, 6]
    assert ints(committee.membersOf(2)) == [1, 3, 6]
    tallied, elected = tx.events["RoundTallied"], tx.events["CommitteeElected"]
    assert (tallied["round"], ints(tallied["selected"]), ints(tallied["medians"])) == \
        (1, to_words([3, 6]), [50, 0, 70, 20, 0, 80, 0])
    assert (elected["round"], ints(elected["members"])) == (2, [1, 3, 6])
    assert committee.isTallied(1)


def test_median_score_looks_up_a_client_by_id(committee_round, fleet, aggregator):
    _, committee = committee_round
    score_rows(SCORES, fleet, committee)
    committee.tally(1, {"from": aggregator})
    assert [committee.medianScore(1, i) for i in range(0, 10)] == [0, 50, 0, 70, 20, 0, 80, 0, 0, 0]


def tallied(committee, fleet, aggregator, rows):
    """(selected ids, next committee) after every member in `rows` scored and the aggregator tallied."""
    score_rows(rows, fleet, committee)
    committee.tally(1, {"from": aggregator})
    return from_words(committee.selectedOf(1)), ints(committee.membersOf(2))


@pytest.mark.parametrize("committee_round", ["accuracy"], indirect=True)
def test_accuracy_strategy_selects_the_lowest_medians_but_elects_the_highest(committee_round, fleet, aggregator):
    assert tallied(committee_round[1], fleet, aggregator, SCORES) == ([1, 4], [1, 3, 6])


def test_ties_go_to_the_lower_id(committee_round, fleet, aggregator):
    same = [5, 0, 5, 5, 0, 5, 0]
    assert tallied(committee_round[1], fleet, aggregator, {2: same, 5: same, 7: same}) == ([1, 3], [1, 3, 4])


def test_zero_scores_are_never_selected_and_the_committee_is_topped_up(committee_round, fleet, aggregator):
    only_one = [0, 0, 9, 0, 0, 0, 0]
    # 3 is the only eligible client; the committee is topped up from the current one by ascending id
    assert tallied(committee_round[1], fleet, aggregator, {2: only_one, 5: only_one, 7: only_one}) == ([3], [2, 3, 5])


def test_only_the_aggregator_tallies_before_every_member_scored(committee_round, fleet, accounts):
    _, committee = committee_round
    score_rows({2: SCORES[2], 5: SCORES[5]}, fleet, committee)
    with brownie.reverts("ScoringIncomplete: 1, 2, 3"):
        committee.tally(1, {"from": accounts[9]})


def test_the_aggregator_needs_a_majority_of_scores(committee_round, fleet, aggregator):
    _, committee = committee_round
    score_rows({2: SCORES[2]}, fleet, committee)
    with brownie.reverts("NoQuorum: 1, 1, 2"):
        committee.tally(1, {"from": aggregator})


def test_tally_happens_once(committee_round, fleet, aggregator):
    _, committee = committee_round
    score_rows(SCORES, fleet, committee)
    committee.tally(1, {"from": aggregator})
    with brownie.reverts("AlreadyTallied: 1"):
        committee.tally(1, {"from": aggregator})


# --- finalizing through the committee ---------------------------------------------------------

def finalize(task, aggregator, participants, weights=None):
    return task.finalizeRound(1, MODEL_1, to_words(participants), weights or [1] * len(participants), RULE,
                              {"from": aggregator})


def test_the_task_finalizes_exactly_the_selected_set(committee_round, fleet, aggregator):
    task, committee = committee_round
    score_rows(SCORES, fleet, committee)
    committee.tally(1, {"from": aggregator})
    with brownie.reverts("SelectionMismatch: 1"):
        finalize(task, aggregator, [1, 3, 6])
    with brownie.reverts("SelectionMismatch: 1"):
        finalize(task, aggregator, [6])
    finalize(task, aggregator, [3, 6])
    assert from_words(task.participantsOf(1)) == [3, 6]


def test_the_task_cannot_finalize_before_the_tally(committee_round, aggregator):
    task, _ = committee_round
    with brownie.reverts("NotTallied: 1"):
        finalize(task, aggregator, [3, 6])


def test_only_the_task_calls_the_hook(committee_round, aggregator):
    _, committee = committee_round
    with brownie.reverts(f"NotTask: {lower(aggregator)}"):
        committee.onRoundFinalized(1, [0b1000], [1], {"from": aggregator})


def test_the_elected_committee_scores_the_next_round(committee_round, fleet, aggregator):
    task, committee = committee_round
    score_rows(SCORES, fleet, committee)
    committee.tally(1, {"from": aggregator})
    finalize(task, aggregator, [3, 6])
    task.openRound(2, MODEL_1, [0b111111110], {"from": aggregator})
    for client_id in (1, 3, 4, 6):
        task.commitUpdate(2, update_hash(client_id), {"from": member(fleet, client_id)})
    task.closeCommits(2, {"from": aggregator})
    with brownie.reverts(f"NotCommitteeMember: 2, {lower(member(fleet, 2))}"):
        committee.submitScores(2, [5, 5, 5, 5], {"from": member(fleet, 2)})
    committee.submitScores(2, [5, 5, 5, 5], {"from": member(fleet, 6)})
    assert ints(committee.scorersOf(2)) == [6]


# --- the contract against the Python reference --------------------------------------------------

SCORE = st.one_of(st.integers(0, 3), st.integers(0, 2**32 - 1))
MATRIX = st.lists(st.lists(SCORE, min_size=7, max_size=7), min_size=3, max_size=3)
SCORERS = st.sets(st.sampled_from(FIRST_COMMITTEE), min_size=2)


def check_against_reference(committee, fleet, aggregator, matrix, scorers):
    rows = {m: row for m, row in zip(FIRST_COMMITTEE, matrix) if m in scorers}
    score_rows(rows, fleet, committee)
    committee.tally(1, {"from": aggregator})
    strategy = reference.STRATEGIES[committee.strategy()]
    expected = reference.tally(rows, FIRST_COMMITTEE, range(1, 8), strategy, 5000, 3)
    assert ints(committee.mediansOf(1)) == expected.medians
    assert from_words(committee.selectedOf(1)) == expected.selected
    assert ints(committee.membersOf(2)) == expected.elected


# Brownie's `given` snapshots the chain once per test function, so each strategy gets its own function.
EXAMPLES = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(matrix=MATRIX, scorers=SCORERS)
@EXAMPLES
def test_robust_tally_matches_the_python_reference(committee_round, fleet, aggregator, matrix, scorers):
    check_against_reference(committee_round[1], fleet, aggregator, matrix, scorers)


@pytest.mark.parametrize("committee_round", ["accuracy"], indirect=True)
@given(matrix=MATRIX, scorers=SCORERS)
@EXAMPLES
def test_accuracy_tally_matches_the_python_reference(committee_round, fleet, aggregator, matrix, scorers):
    check_against_reference(committee_round[1], fleet, aggregator, matrix, scorers)


# --- cost bounded by the round ------------------------------------------------------------------

def _scoring_gas(FLTask, Committee, aggregator, fleet, outsiders):
    """Gas of each member's submitScores and of the tally, for round 1 of a task with the 8 clients of
    `fleet` (1..7 committed) and `outsiders` more registered clients that are never selected."""
    from brownie import chain
    from eth_account import Account

    from fl.chain import client_private_key, signing

    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    for client in fleet:
        task.register({"from": client})
    if outsiders:
        domain = signing.domain_separator(chain.id, task.address)
        keys = [client_private_key(31, i) for i in range(outsiders)]
        addresses = [Account.from_key(key).address for key in keys]
        task.registerBatch(addresses, [signing.sign_digest(key, signing.register_digest(domain, task.experimentId(), a))
                                       for key, a in zip(keys, addresses)], {"from": aggregator})
    committee = Committee.deploy(task, 3, 0, 5000, FIRST_COMMITTEE, {"from": aggregator})
    task.addRoundHook(committee, {"from": aggregator})
    task.openRound(1, MODEL_0, [0b111111110], {"from": aggregator})
    for client_id, client in enumerate(fleet[:7], start=1):
        task.commitUpdate(1, update_hash(client_id), {"from": client})
    task.closeCommits(1, {"from": aggregator})
    gas = [committee.submitScores(1, row, {"from": member(fleet, m)}).gas_used for m, row in SCORES.items()]
    gas.append(committee.tally(1, {"from": aggregator}).gas_used)
    assert task.clientCount() == 8 + outsiders
    return gas


def test_scoring_cost_does_not_grow_with_the_registered_clients(FLTask, Committee, aggregator, fleet):
    assert _scoring_gas(FLTask, Committee, aggregator, fleet, 40) == _scoring_gas(FLTask, Committee, aggregator, fleet, 0)


def test_scores_and_medians_follow_the_committed_set_with_gaps(FLTask, Committee, aggregator, fleet):
    """Committed: 2, 4, 5, 7, 8 (1, 3, 6 never committed): a score vector has 5 entries, in that order."""
    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    for client in fleet:
        task.register({"from": client})
    committee = Committee.deploy(task, 3, 0, 5000, FIRST_COMMITTEE, {"from": aggregator})
    task.addRoundHook(committee, {"from": aggregator})
    task.openRound(1, MODEL_0, [0b111111110], {"from": aggregator})
    for client_id in (2, 4, 5, 7, 8):
        task.commitUpdate(1, update_hash(client_id), {"from": member(fleet, client_id)})
    task.closeCommits(1, {"from": aggregator})
    rows = {2: [0, 30, 0, 0, 10], 5: [0, 20, 0, 0, 40], 7: [0, 10, 0, 0, 50]}
    score_rows(rows, fleet, committee)
    committee.tally(1, {"from": aggregator})
    expected = reference.tally(rows, FIRST_COMMITTEE, [2, 4, 5, 7, 8], "robust", 5000, 3)
    assert ints(committee.mediansOf(1)) == expected.medians == [0, 20, 0, 0, 40]
    assert from_words(committee.scoredOf(1)) == [2, 4, 5, 7, 8]
    assert [committee.medianScore(1, i) for i in (3, 4, 8)] == [0, 20, 40]
    assert from_words(committee.selectedOf(1)) == expected.selected == [8]
    assert ints(committee.membersOf(2)) == expected.elected == [2, 4, 8]


def test_a_round_that_is_not_the_tasks_current_one_cannot_be_tallied(committee_round, fleet, aggregator):
    _, committee = committee_round
    score_rows(SCORES, fleet, committee)
    with brownie.reverts("RoundNotScoring: 2"):
        committee.tally(2, {"from": aggregator})
    with brownie.reverts("RoundNotScoring: 0"):
        committee.tally(0, {"from": aggregator})
