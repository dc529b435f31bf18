"""FLTask: the round state machine, each rule with its revert reason, and each event."""
import brownie
import pytest
from eth_utils import keccak

from eth_abi import encode

from fixtures.task import CONFIG_HASH, MODEL_0, MODEL_1, RULE, SALT, UPDATE
from fl.chain.task import RoundState

OPEN, FINALIZED = RoundState.OPEN, RoundState.FINALIZED


def lower(account):
    return account.address.lower()


def ints(values):
    """Brownie's compiled ReturnValue cannot be compared with a list of ints directly."""
    return [int(v) for v in values]


# --- deployment and registration ------------------------------------------------------------------

def experiment_id(config_hash, salt):
    return "0x" + keccak(encode(["bytes32", "bytes32"], [bytes.fromhex(config_hash[2:]), bytes.fromhex(salt[2:])])).hex()


def test_deploy_records_aggregator_config_hash_salt_and_experiment_id(task, aggregator):
    assert task.aggregator() == aggregator
    assert (task.configHash(), task.salt()) == (CONFIG_HASH, SALT)
    assert task.experimentId() == experiment_id(CONFIG_HASH, SALT)
    assert task.tx.events["TaskCreated"] == {"aggregator": aggregator, "configHash": CONFIG_HASH, "salt": SALT,
                                             "experimentId": experiment_id(CONFIG_HASH, SALT)}


def test_experiment_id_agrees_with_python(task):
    from fl.chain import signing

    assert task.experimentId() == signing.experiment_id(CONFIG_HASH, SALT)


@pytest.mark.parametrize("config_hash,salt", [("0x" + "00" * 32, SALT), (CONFIG_HASH, "0x" + "00" * 32)])
def test_deploy_rejects_a_zero_config_hash_or_salt(FLTask, aggregator, config_hash, salt):
    with brownie.reverts("ZeroHash: "):
        FLTask.deploy(config_hash, salt, {"from": aggregator})


def test_register_gives_sequential_ids_and_emits(task, clients):
    for expected_id, client in enumerate(clients[:3], start=1):
        tx = task.register({"from": client})
        assert tx.events["ClientRegistered"] == {"client": client, "clientId": expected_id}
        assert task.clientId(client) == expected_id
        assert task.clientAt(expected_id) == client
    assert task.clientCount() == 3


def test_second_registration_reverts(task, clients):
    task.register({"from": clients[0]})
    with brownie.reverts(f"AlreadyRegistered: {lower(clients[0])}"):
        task.register({"from": clients[0]})


def test_registration_closes_when_round_1_opens(registered, aggregator, accounts):
    assert registered.registrationOpen()
    registered.openRound(1, MODEL_0, [0b110], {"from": aggregator})
    assert not registered.registrationOpen()
    with brownie.reverts("RegistrationClosed: "):
        registered.register({"from": accounts[8]})


def test_batch_registration_closes_when_round_1_opens(registered, aggregator, accounts):
    registered.openRound(1, MODEL_0, [0b110], {"from": aggregator})
    with brownie.reverts("RegistrationClosed: "):
        registered.registerBatch([accounts[8]], [b"\x00" * 65], {"from": aggregator})


def test_client_at_unknown_id_reverts(registered):
    with brownie.reverts("UnknownClientId: 5"):
        registered.clientAt(5)


# --- opening a round ------------------------------------------------------------------------------

def test_open_round_records_state_and_emits(registered, aggregator):
    tx = registered.openRound(1, MODEL_0, [0b110], {"from": aggregator})
    event = tx.events["RoundOpened"]
    assert (event["round"], event["globalModelHash"], ints(event["selected"])) == (1, MODEL_0, [0b110])
    state, start, final, selected, commits, participants = registered.roundInfo(1)
    assert (state, start, selected, commits, participants) == (OPEN, MODEL_0, 2, 0, 0)
    assert registered.currentRound() == 1
    assert ints(registered.selectedOf(1)) == [0b110]


def test_open_round_only_by_aggregator(registered, clients):
    with brownie.reverts(f"NotAggregator: {lower(clients[0])}"):
        registered.openRound(1, MODEL_0, [0b110], {"from": clients[0]})


def test_open_round_out_of_order_reverts(registered, aggregator):
    with brownie.reverts("UnexpectedRound: 1, 2"):
        registered.openRound(2, MODEL_0, [0b110], {"from": aggregator})


def test_open_round_before_previous_finalized_reverts(open_round, aggregator):
    with brownie.reverts("PreviousRoundNotFinalized: 1"):
        open_round.openRound(2, MODEL_0, [0b110], {"from": aggregator})


def test_open_round_with_unregistered_id_reverts(registered, aggregator):
    with brownie.reverts("UnknownClientId: 5"):
        registered.openRound(1, MODEL_0, [0b100110], {"from": aggregator})


def test_open_round_with_id_zero_reverts(registered, aggregator):
    with brownie.reverts("UnknownClientId: 0"):
        registered.openRound(1, MODEL_0, [0b111], {"from": aggregator})


def test_open_round_with_empty_selection_reverts(registered, aggregator):
    with brownie.reverts("EmptySet: "):
        registered.openRound(1, MODEL_0, [0], {"from": aggregator})


def test_open_round_with_zero_model_hash_reverts(registered, aggregator):
    with brownie.reverts("ZeroHash: "):
        registered.openRound(1, "0x" + "00" * 32, [0b110], {"from": aggregator})


# --- committing updates ---------------------------------------------------------------------------

def test_commit_records_and_emits(open_round, clients):
    tx = open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    assert tx.events["UpdateCommitted"] == {"round": 1, "client": clients[0], "clientId": 1, "updateHash": UPDATE}
    assert ints(open_round.committedOf(1)) == [0b10]
    assert open_round.roundInfo(1)[4] == 1


def test_commit_from_unregistered_account_reverts(open_round, accounts):
    stranger = accounts[8]
    with brownie.reverts(f"NotRegistered: {lower(stranger)}"):
        open_round.commitUpdate(1, UPDATE, {"from": stranger})


def test_commit_from_unselected_client_reverts(open_round, clients):
    with brownie.reverts(f"NotSelected: 1, {lower(clients[2])}"):
        open_round.commitUpdate(1, UPDATE, {"from": clients[2]})


def test_commit_to_round_never_opened_reverts(open_round, clients):
    with brownie.reverts("RoundNotOpen: 2"):
        open_round.commitUpdate(2, UPDATE, {"from": clients[0]})


def test_commit_after_finalize_reverts(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})
    with brownie.reverts("RoundNotOpen: 1"):
        open_round.commitUpdate(1, UPDATE, {"from": clients[1]})


def test_second_commit_reverts(open_round, clients):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    with brownie.reverts(f"AlreadyCommitted: 1, {lower(clients[0])}"):
        open_round.commitUpdate(1, MODEL_1, {"from": clients[0]})


def test_commit_of_zero_hash_reverts(open_round, clients):
    with brownie.reverts("ZeroHash: "):
        open_round.commitUpdate(1, "0x" + "00" * 32, {"from": clients[0]})


# --- closing the commit phase -----------------------------------------------------------------------

def test_close_commits_records_and_emits(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    assert open_round.commitsOpen(1)
    tx = open_round.closeCommits(1, {"from": aggregator})
    assert tx.events["CommitsClosed"] == {"round": 1, "commitCount": 1}
    assert not open_round.commitsOpen(1)
    assert open_round.roundInfo(1)[0] == OPEN


def test_commit_after_close_commits_reverts(open_round, clients, aggregator):
    open_round.closeCommits(1, {"from": aggregator})
    with brownie.reverts("CommitsAlreadyClosed: 1"):
        open_round.commitUpdate(1, UPDATE, {"from": clients[0]})


def test_close_commits_only_by_aggregator(open_round, clients):
    with brownie.reverts(f"NotAggregator: {lower(clients[0])}"):
        open_round.closeCommits(1, {"from": clients[0]})


def test_close_commits_twice_reverts(open_round, aggregator):
    open_round.closeCommits(1, {"from": aggregator})
    with brownie.reverts("CommitsAlreadyClosed: 1"):
        open_round.closeCommits(1, {"from": aggregator})


def test_close_commits_of_a_round_not_open_reverts(registered, aggregator):
    with brownie.reverts("RoundNotOpen: 1"):
        registered.closeCommits(1, {"from": aggregator})


def test_finalize_closes_the_commits_it_finds_open(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    tx = open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})
    assert tx.events["CommitsClosed"] == {"round": 1, "commitCount": 1}
    assert not open_round.commitsOpen(1)


def test_finalize_after_close_commits_emits_no_second_close(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.closeCommits(1, {"from": aggregator})
    tx = open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})
    assert "CommitsClosed" not in tx.events


# --- finalizing -----------------------------------------------------------------------------------

def test_finalize_records_and_emits(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.commitUpdate(1, UPDATE, {"from": clients[1]})
    tx = open_round.finalizeRound(1, MODEL_1, [0b110], [10, 30], RULE, {"from": aggregator})
    event = tx.events["RoundFinalized"]
    assert (event["round"], event["globalModelHash"], ints(event["participants"])) == (1, MODEL_1, [0b110])
    assert (ints(event["weights"]), event["ruleHash"]) == ([10, 30], RULE)
    state, start, final, selected, commits, participants = open_round.roundInfo(1)
    assert (state, start, final, selected, commits, participants) == (FINALIZED, MODEL_0, MODEL_1, 2, 2, 2)
    assert ints(open_round.participantsOf(1)) == [0b110]


def test_finalize_records_the_hash_of_the_weights_and_the_rule(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.commitUpdate(1, UPDATE, {"from": clients[1]})
    open_round.finalizeRound(1, MODEL_1, [0b110], [10, 30], RULE, {"from": aggregator})
    packed = (10).to_bytes(32, "big") + (30).to_bytes(32, "big")
    assert tuple(open_round.roundRule(1)) == ("0x" + keccak(packed).hex(), RULE)


def test_finalize_needs_one_weight_per_participant(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.commitUpdate(1, UPDATE, {"from": clients[1]})
    with brownie.reverts("LengthMismatch: 2, 1"):
        open_round.finalizeRound(1, MODEL_1, [0b110], [10], RULE, {"from": aggregator})


def test_finalize_rejects_a_zero_weight(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    with brownie.reverts("ZeroWeight: 1"):
        open_round.finalizeRound(1, MODEL_1, [0b10], [0], RULE, {"from": aggregator})


def test_finalize_rejects_a_zero_rule_hash(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    with brownie.reverts("ZeroHash: "):
        open_round.finalizeRound(1, MODEL_1, [0b10], [10], "0x" + "00" * 32, {"from": aggregator})


def test_finalize_only_by_aggregator(open_round, clients):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    with brownie.reverts(f"NotAggregator: {lower(clients[0])}"):
        open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": clients[0]})


def test_finalize_twice_reverts(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})
    with brownie.reverts("RoundAlreadyFinalized: 1"):
        open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})


def test_finalize_of_round_never_opened_reverts(registered, aggregator):
    with brownie.reverts("RoundNotOpen: 1"):
        registered.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})


@pytest.mark.parametrize("participants,missing", [([0b110], 2), ([0b1000], 3)])
def test_finalize_with_participant_that_did_not_commit_reverts(open_round, clients, aggregator, participants, missing):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    with brownie.reverts(f"NotCommitted: 1, {missing}"):
        open_round.finalizeRound(1, MODEL_1, participants, [10] * bin(participants[0]).count("1"), RULE,
                                 {"from": aggregator})


def test_finalize_without_participants_cannot_change_the_model(open_round, aggregator):
    # Brownie writes bytes32 arguments of a custom error as Python bytes
    start, given = bytes.fromhex(MODEL_0[2:]), bytes.fromhex(MODEL_1[2:])
    with brownie.reverts(f"ModelChangedWithoutParticipants: 1, {start}, {given}"):
        open_round.finalizeRound(1, MODEL_1, [], [], RULE, {"from": aggregator})


def test_finalize_without_participants_keeps_the_start_model(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})  # committed, but not aggregated
    tx = open_round.finalizeRound(1, MODEL_0, [], [], RULE, {"from": aggregator})
    assert tx.events["RoundFinalized"]["globalModelHash"] == MODEL_0
    state, start, final, _, commits, participants = open_round.roundInfo(1)
    assert (state, start, final, commits, participants) == (FINALIZED, MODEL_0, MODEL_0, 1, 0)


def test_next_round_opens_after_finalize(open_round, clients, aggregator):
    open_round.commitUpdate(1, UPDATE, {"from": clients[0]})
    open_round.finalizeRound(1, MODEL_1, [0b10], [10], RULE, {"from": aggregator})
    tx = open_round.openRound(2, MODEL_1, [0b11110], {"from": aggregator})
    assert tx.events["RoundOpened"]["round"] == 2
    assert open_round.roundInfo(2)[3] == 4
