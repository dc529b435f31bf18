"""FLTask.commitBatch: clients' EIP-712-signed commitments relayed by the aggregator in one transaction.

A bad entry is skipped with a CommitRejected(reason) event so the honest ones still count.
"""
import brownie
import pytest
from brownie import chain, web3

from fixtures.task import CONFIG_HASH, MODEL_0, MODEL_1, RULE, SALT
from fl.chain import signing
from fl.chain.task import REJECTIONS

H1, H2, H3 = ("0x" + f"{i:02x}" * 32 for i in (0xD1, 0xD2, 0xD3))


@pytest.fixture
def round_open(task, signing_clients, aggregator):
    """Round 1 open with clients 1, 2, 3 selected."""
    task.openRound(1, MODEL_0, [0b1110], {"from": aggregator})
    return task


def ints(values):
    return [int(v) for v in values]


def rejections(tx):
    if "CommitRejected" not in tx.events:
        return {}
    return {int(e["clientId"]): REJECTIONS[int(e["reason"])] for e in tx.events["CommitRejected"]}


def test_domain_separator_and_digests_agree_with_python(task, accounts):
    domain = signing.domain_separator(chain.id, task.address)
    experiment = signing.experiment_id(CONFIG_HASH, SALT)
    assert task.domainSeparator() == "0x" + domain.hex()
    assert task.commitDigest(7, H1) == "0x" + signing.commit_digest(domain, experiment, 7, H1).hex()
    assert task.registerDigest(accounts[3]) == "0x" + signing.register_digest(domain, experiment, str(accounts[3])).hex()


def test_type_hashes_name_the_experiment():
    from eth_utils import keccak

    assert signing.COMMIT_TYPEHASH == keccak(b"Commit(bytes32 experiment,uint256 round,bytes32 updateHash)")
    assert signing.REGISTER_TYPEHASH == keccak(b"Register(bytes32 experiment,address client)")


def test_batch_records_every_valid_signed_commitment(round_open, signing_clients, signed, aggregator):
    hashes = [H1, H2, H3]
    sigs = [signed(key, 1, h) for (_, _, key), h in zip(signing_clients, hashes)]
    tx = round_open.commitBatch(1, [1, 2, 3], hashes, sigs, {"from": aggregator})
    assert tx.return_value == 3
    events = tx.events["UpdateCommitted"]
    assert [(e["clientId"], e["client"], e["updateHash"]) for e in events] == \
        [(cid, account, h) for (cid, account, _), h in zip(signing_clients, hashes)]
    assert ints(round_open.committedOf(1)) == [0b1110]
    assert round_open.roundCommitDigest(1) == signing.commit_chain([(1, H1), (2, H2), (3, H3)])
    assert round_open.roundInfo(1)[4] == 3
    assert rejections(tx) == {}


def test_batch_only_by_aggregator(round_open, signing_clients, signed):
    _, account, key = signing_clients[0]
    with brownie.reverts(f"NotAggregator: {account.address.lower()}"):
        round_open.commitBatch(1, [1], [H1], [signed(key, 1, H1)], {"from": account})


@pytest.mark.parametrize("case", ["other round", "other hash", "other task", "other client's key", "malformed"])
def test_bad_signature_is_rejected_and_the_rest_recorded(case, round_open, signing_clients, signed, aggregator,
                                                         FLTask):
    (_, _, k1), (_, _, k2), (_, _, k3) = signing_clients
    bad = {
        "other round": lambda: signed(k1, 2, H1),
        "other hash": lambda: signed(k1, 1, H3),
        "other task": lambda: signed(k1, 1, H1, for_task=FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})),
        "other client's key": lambda: signed(k2, 1, H1),
        "malformed": lambda: signed(k1, 1, H1)[:64],
    }[case]()
    tx = round_open.commitBatch(1, [1, 2, 3], [H1, H2, H3], [bad, signed(k2, 1, H2), signed(k3, 1, H3)],
                                {"from": aggregator})
    assert rejections(tx) == {1: "BadSignature"}
    assert tx.return_value == 2
    assert ints(round_open.committedOf(1)) == [0b1100]
    assert round_open.roundCommitDigest(1) == signing.commit_chain([(2, H2), (3, H3)])


def test_second_commitment_of_a_client_is_rejected(round_open, signing_clients, signed, aggregator):
    _, _, key = signing_clients[0]
    tx = round_open.commitBatch(1, [1, 1], [H1, H2], [signed(key, 1, H1), signed(key, 1, H2)], {"from": aggregator})
    assert rejections(tx) == {1: "AlreadyCommitted"}
    assert [(e["clientId"], e["updateHash"]) for e in tx.events["UpdateCommitted"]] == [(1, H1)]
    assert round_open.roundCommitDigest(1) == signing.commit_chain([(1, H1)])


def test_unselected_unknown_and_zero_hash_entries_are_rejected(task, signing_clients, signed, aggregator):
    task.openRound(1, MODEL_0, [0b0110], {"from": aggregator})  # clients 1 and 2 only
    (_, _, k1), _, (_, _, k3) = signing_clients
    zero = "0x" + "00" * 32
    tx = task.commitBatch(1, [3, 0, 9, 1], [H3, H1, H1, zero],
                          [signed(k3, 1, H3), signed(k1, 1, H1), signed(k1, 1, H1), signed(k1, 1, zero)],
                          {"from": aggregator})
    assert tx.return_value == 0
    assert [(int(e["clientId"]), REJECTIONS[int(e["reason"])]) for e in tx.events["CommitRejected"]] == \
        [(3, "NotSelected"), (0, "UnknownClient"), (9, "UnknownClient"), (1, "ZeroHash")]


def test_batch_for_a_round_that_is_not_open_reverts(round_open, signing_clients, signed, aggregator):
    _, _, key = signing_clients[0]
    with brownie.reverts("RoundNotOpen: 2"):
        round_open.commitBatch(2, [1], [H1], [signed(key, 2, H1)], {"from": aggregator})


def test_late_batch_after_finalize_reverts(round_open, signing_clients, signed, aggregator):
    (_, _, k1), (_, _, k2), _ = signing_clients
    round_open.commitBatch(1, [1], [H1], [signed(k1, 1, H1)], {"from": aggregator})
    round_open.finalizeRound(1, MODEL_1, [0b10], [5], RULE, {"from": aggregator})
    with brownie.reverts("RoundNotOpen: 1"):
        round_open.commitBatch(1, [2], [H2], [signed(k2, 1, H2)], {"from": aggregator})


def test_batch_after_close_commits_rejects_every_entry(round_open, signing_clients, signed, aggregator):
    (_, _, k1), (_, _, k2), _ = signing_clients
    round_open.closeCommits(1, {"from": aggregator})
    tx = round_open.commitBatch(1, [1, 2], [H1, H2], [signed(k1, 1, H1), signed(k2, 1, H2)], {"from": aggregator})
    assert tx.return_value == 0
    assert rejections(tx) == {1: "CommitsClosed", 2: "CommitsClosed"}
    assert "UpdateCommitted" not in tx.events
    assert round_open.roundInfo(1)[4] == 0


def test_mismatched_lengths_revert(round_open, signing_clients, signed, aggregator):
    _, _, key = signing_clients[0]
    with brownie.reverts("LengthMismatch: 2, 1"):
        round_open.commitBatch(1, [1, 2], [H1], [signed(key, 1, H1)], {"from": aggregator})


def test_direct_commit_after_a_relayed_one_reverts(round_open, signing_clients, signed, aggregator):
    _, account, key = signing_clients[0]
    round_open.commitBatch(1, [1], [H1], [signed(key, 1, H1)], {"from": aggregator})
    with brownie.reverts(f"AlreadyCommitted: 1, {account.address.lower()}"):
        round_open.commitUpdate(1, H2, {"from": account})


# --- relayed registration -------------------------------------------------------------------------

@pytest.fixture
def keyed_accounts(accounts):
    from fl.chain import client_private_key

    keys = [client_private_key(77, i) for i in range(3)]
    return [(accounts.add(k), k) for k in keys]


def register_signature(task, account, key, for_task=None):
    target = for_task or task
    return signing.sign_digest(key, signing.register_digest(signing.domain_separator(chain.id, target.address),
                                                            target.experimentId(), str(account)))


def test_register_batch_registers_every_signed_account_in_order(task, keyed_accounts, aggregator):
    tx = task.registerBatch([a for a, _ in keyed_accounts], [register_signature(task, a, k) for a, k in keyed_accounts],
                            {"from": aggregator})
    assert tx.return_value == 3
    assert [(e["client"], e["clientId"]) for e in tx.events["ClientRegistered"]] == \
        [(a, i) for i, (a, _) in enumerate(keyed_accounts, start=1)]
    assert [task.clientAt(i) for i in (1, 2, 3)] == [a for a, _ in keyed_accounts]


def test_register_batch_with_a_signature_for_another_task_reverts(task, keyed_accounts, aggregator, FLTask):
    other = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    (a, k), = keyed_accounts[:1]
    with brownie.reverts(f"BadRegistrationSignature: {a.address.lower()}"):
        task.registerBatch([a], [register_signature(task, a, k, for_task=other)], {"from": aggregator})


def test_register_batch_of_an_account_signed_by_another_key_reverts(task, keyed_accounts, aggregator):
    (a, _), (_, k2) = keyed_accounts[:2]
    with brownie.reverts(f"BadRegistrationSignature: {a.address.lower()}"):
        task.registerBatch([a], [register_signature(task, a, k2)], {"from": aggregator})


def test_register_batch_of_a_registered_account_reverts(task, keyed_accounts, aggregator):
    (a, k), = keyed_accounts[:1]
    task.register({"from": a})
    with brownie.reverts(f"AlreadyRegistered: {a.address.lower()}"):
        task.registerBatch([a], [register_signature(task, a, k)], {"from": aggregator})


def test_register_batch_only_by_aggregator(task, keyed_accounts):
    (a, k), = keyed_accounts[:1]
    with brownie.reverts(f"NotAggregator: {a.address.lower()}"):
        task.registerBatch([a], [register_signature(task, a, k)], {"from": a})


# --- signatures of one run are worthless to another run at the same address ----------------------

OTHER_SALT = "0x" + "6b" * 32
OTHER_CONFIG = "0x" + "c1" * 32


@pytest.fixture
def previous_run(FLTask, aggregator, keyed_accounts, signed):
    """A run whose task registered one client by signature and took its signed round-1 commitment;
    then the chain is wound back to before the task's deployment, as a fresh chain would be (every
    run deploys from the same account at the same nonce). Returns (address, account, registration
    signature, commitment signature)."""
    (account, key), = keyed_accounts[:1]
    task = FLTask.deploy(CONFIG_HASH, SALT, {"from": aggregator})
    registration = register_signature(task, account, key)
    task.registerBatch([account], [registration], {"from": aggregator})
    task.openRound(1, MODEL_0, [0b10], {"from": aggregator})
    commitment = signed(key, 1, H1, for_task=task)
    assert task.commitBatch(1, [1], [H1], [commitment], {"from": aggregator}).return_value == 1
    address = task.address
    chain.undo(4)
    assert len(web3.eth.get_code(address)) == 0
    return address, account, registration, commitment


@pytest.mark.parametrize("config_hash", [CONFIG_HASH, OTHER_CONFIG], ids=["same config", "other config"])
def test_a_registration_signed_for_another_run_is_rejected(previous_run, FLTask, aggregator, config_hash):
    address, account, registration, _ = previous_run
    task = FLTask.deploy(config_hash, OTHER_SALT, {"from": aggregator})
    assert task.address == address
    with brownie.reverts(f"BadRegistrationSignature: {account.address.lower()}"):
        task.registerBatch([account], [registration], {"from": aggregator})


@pytest.mark.parametrize("config_hash", [CONFIG_HASH, OTHER_CONFIG], ids=["same config", "other config"])
def test_a_commitment_signed_for_another_run_is_rejected(previous_run, FLTask, aggregator, config_hash):
    address, account, _, commitment = previous_run
    task = FLTask.deploy(config_hash, OTHER_SALT, {"from": aggregator})
    assert task.address == address
    task.register({"from": account})
    task.openRound(1, MODEL_0, [0b10], {"from": aggregator})
    tx = task.commitBatch(1, [1], [H1], [commitment], {"from": aggregator})
    assert rejections(tx) == {1: "BadSignature"}
    assert tx.return_value == 0


def test_register_batch_with_fewer_signatures_than_accounts_reverts(task, keyed_accounts, aggregator):
    (a, k), (b, _) = keyed_accounts[:2]
    with brownie.reverts("LengthMismatch: 2, 1"):
        task.registerBatch([a, b], [register_signature(task, a, k)], {"from": aggregator})


def test_commit_batch_with_fewer_signatures_than_clients_reverts(round_open, aggregator):
    with brownie.reverts("LengthMismatch: 1, 0"):
        round_open.commitBatch(1, [1], [H1], [], {"from": aggregator})
