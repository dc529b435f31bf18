"""WatermarkRegistry: keys drawn on chain, owners kept a Hamming distance apart, each rule with its revert."""
import itertools

import brownie
import pytest
from eth_abi import encode
from eth_utils import keccak

from fl.ml.watermark.key import signature_bits


def lower(account):
    return account.address.lower()


def draw(registry, task, owner, block, nonce):
    """The key the contract documents: keccak256(abi.encode(chainid, block, registry, task, owner, nonce))."""
    return keccak(encode(["uint256", "uint256", "address", "address", "address", "uint256"],
                         [brownie.chain.id, block, registry.address, task.address, owner.address, nonce]))


def distance(a: bytes, b: bytes, bits: int) -> int:
    return int((signature_bits(a, bits) != signature_bits(b, bits)).sum())


@pytest.fixture
def configure(registry, registered, aggregator):
    def go(bits=32, min_distance=12):
        return registry.configureTask(registered, bits, min_distance, {"from": aggregator})
    return go


def test_configure_records_settings_and_emits(registry, registered, configure):
    tx = configure(32, 12)
    assert tx.events["TaskConfigured"] == {"task": registered, "bits": 32, "minDistance": 12}
    assert [int(v) for v in registry.settingsOf(registered)] == [32, 12]


def test_only_the_task_aggregator_configures(registry, registered, clients):
    with brownie.reverts(f"NotTaskAggregator: {registered.address.lower()}, {lower(clients[0])}"):
        registry.configureTask(registered, 32, 12, {"from": clients[0]})


def test_configure_twice_reverts(registry, registered, configure):
    configure()
    with brownie.reverts(f"AlreadyConfigured: {registered.address.lower()}"):
        configure()


@pytest.mark.parametrize("bits,min_distance", [(0, 0), (257, 1), (8, 9)])
def test_impossible_settings_revert(configure, bits, min_distance):
    with brownie.reverts(f"BadSettings: {bits}, {min_distance}"):
        configure(bits, min_distance)


def test_negotiating_before_configuration_reverts(registry, registered, clients):
    with brownie.reverts(f"NotConfigured: {registered.address.lower()}"):
        registry.negotiate(registered, {"from": clients[0]})


def test_an_account_that_is_not_a_client_of_the_task_gets_no_key(registry, registered, configure, accounts):
    configure()
    with brownie.reverts(f"NotTaskClient: {registered.address.lower()}, {lower(accounts[6])}"):
        registry.negotiate(registered, {"from": accounts[6]})


def test_an_owner_gets_one_key_per_task(registry, registered, configure, clients):
    configure()
    registry.negotiate(registered, {"from": clients[0]})
    with brownie.reverts(f"AlreadyHasKey: {registered.address.lower()}, {lower(clients[0])}"):
        registry.negotiate(registered, {"from": clients[0]})


def test_key_is_drawn_from_block_owner_and_nonce_and_recorded(registry, registered, configure, clients):
    configure(32, 0)
    tx = registry.negotiate(registered, {"from": clients[0]})
    key = draw(registry, registered, clients[0], tx.block_number, 0)
    commitment = "0x" + keccak(key).hex()
    event = tx.events["WatermarkKeyAssigned"]
    assert (event["task"], event["owner"], event["bits"], event["nonce"]) == (registered, clients[0], 32, 0)
    assert bytes(event["key"]) == key and event["commitment"] == commitment
    assert bytes(registry.keyOf(registered, clients[0])) == key
    assert registry.commitmentOf(registered, clients[0]) == commitment
    task, owner, recorded, bits = registry.keyRecord(commitment)
    assert (task, owner, bytes(recorded), bits) == (registered, clients[0], key, 32)
    assert registry.ownersOf(registered) == [clients[0]]
    assert registry.nonce() == 1


def test_two_owners_get_different_keys(registry, registered, configure, clients):
    configure(32, 0)
    keys = [bytes(registry.negotiate(registered, {"from": c}).events["WatermarkKeyAssigned"]["key"])
            for c in clients[:2]]
    assert keys[0] != keys[1]
    assert registry.ownersOf(registered) == clients[:2]


def test_a_key_too_close_to_another_owners_is_redrawn_on_chain(registry, registered, configure, clients):
    bits, min_distance = 8, 5
    configure(bits, min_distance)
    keys, redraws = {}, []
    for client in clients[:3]:
        tx = registry.negotiate(registered, {"from": client})
        for event in tx.events["KeyRedrawn"] if "KeyRedrawn" in tx.events else []:
            rejected = draw(registry, registered, client, tx.block_number, event["nonce"])
            closest = min(keys, key=lambda owner: distance(keys[owner], rejected, bits))
            assert event["distance"] == distance(keys[closest], rejected, bits) < min_distance
            assert event["closestOwner"] == closest
            redraws.append(event)
        keys[client.address] = bytes(tx.events["WatermarkKeyAssigned"]["key"])
        assert keys[client.address] == draw(registry, registered, client, tx.block_number,
                                            tx.events["WatermarkKeyAssigned"]["nonce"])
    assert redraws, "these settings should have forced at least one redraw"
    for a, b in itertools.combinations(keys.values(), 2):
        assert distance(a, b, bits) >= min_distance


def test_no_key_far_enough_reverts_after_the_maximum_draws(registry, registered, configure, clients):
    configure(1, 1)  # one bit, owners must differ in it: a third owner cannot
    registry.negotiate(registered, {"from": clients[0]})
    registry.negotiate(registered, {"from": clients[1]})
    with brownie.reverts(f"NoDistantKey: {registered.address.lower()}, {lower(clients[2])}, 32"):
        registry.negotiate(registered, {"from": clients[2]})


def test_unknown_commitment_reverts(registry):
    unknown = bytes([0xAB] * 32)
    with brownie.reverts(f"UnknownCommitment: {unknown!r}"):  # Brownie decodes a bytes32 argument as bytes
        registry.keyRecord(unknown)
