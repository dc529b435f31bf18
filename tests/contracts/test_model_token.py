"""ModelToken: minted only for a finalized model of a task, with contributors and watermarks from the chain."""
import brownie
import pytest

from fixtures.ownership import MODEL_2, ROUND_WEIGHTS, UPDATE_2
from fixtures.task import MODEL_0, MODEL_1, RULE, SALT

WEIGHTS = [w for _, w in ROUND_WEIGHTS.values()]


def lower(account):
    return account.address.lower()


def model(token, token_id):
    """modelOf(token_id) as Python values: (task, round, model hash, total weight, royalty)."""
    task, round_, model_hash, total, royalty = token.modelOf(token_id)
    return str(task), int(round_), str(model_hash), int(total), int(royalty)


def contributors(token, token_id):
    accounts, weights, _ = token.contributorsOf(token_id)
    return [str(a) for a in accounts], [int(w) for w in weights]


def hex32(value):
    return "0x" + bytes(value).hex()


def test_mint_records_the_model_and_the_summed_contribution_weights(minted, finalized, aggregator, clients):
    assert minted.ownerOf(1) == aggregator
    task, round_, model_hash, total, royalty = minted.modelOf(1)
    assert (task, int(round_), model_hash, int(total), int(royalty)) == (finalized, 2, MODEL_2, 75, 1000)
    accounts, weights, watermarks = minted.contributorsOf(1)
    assert list(accounts) == clients[:4]
    assert [int(w) for w in weights] == [15, 25, 30, 5]
    assert all(int(bytes(w).hex(), 16) == 0 for w in watermarks)
    assert minted.tokenOf(finalized, 2) == 1
    assert minted.totalMinted() == 1


def test_mint_emits(model_token, finalized, aggregator):
    tx = model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    assert tx.events["ModelMinted"] == {"tokenId": 1, "task": finalized, "round": 2, "modelHash": MODEL_2,
                                        "contributors": 4, "totalWeight": 75, "royaltyBps": 1000}
    assert tx.events["Transfer"]["to"] == aggregator


def test_mint_records_the_watermark_commitments_of_the_owners(model_token, registry, finalized, aggregator, clients):
    registry.configureTask(finalized, 32, 8, {"from": aggregator})
    registry.negotiate(finalized, {"from": clients[1]})
    model_token.mint(finalized, 2, WEIGHTS, 0, {"from": aggregator})
    _, _, watermarks = model_token.contributorsOf(1)
    expected = registry.commitmentOf(finalized, clients[1])
    assert ["0x" + bytes(w).hex() for w in watermarks] == ["0x" + "00" * 32, expected, "0x" + "00" * 32,
                                                          "0x" + "00" * 32]


def test_an_earlier_round_can_be_minted_with_its_own_weights(model_token, finalized, aggregator, clients):
    model_token.mint(finalized, 1, WEIGHTS[:1], 0, {"from": aggregator})
    assert model_token.modelOf(1)[2] == MODEL_1
    accounts, weights, _ = model_token.contributorsOf(1)
    assert (list(accounts), [int(w) for w in weights]) == (clients[:3], [10, 20, 30])


def test_only_the_task_aggregator_mints(model_token, finalized, clients):
    with brownie.reverts(f"NotTaskAggregator: {finalized.address.lower()}, {lower(clients[0])}"):
        model_token.mint(finalized, 2, WEIGHTS, 0, {"from": clients[0]})


def test_a_round_that_is_not_finalized_cannot_be_minted(model_token, open_round, aggregator):
    with brownie.reverts(f"RoundNotFinalized: {open_round.address.lower()}, 1"):
        model_token.mint(open_round, 1, [[1, 1]], 0, {"from": aggregator})


def test_weights_other_than_those_finalized_are_refused(model_token, finalized, aggregator):
    with brownie.reverts("WeightsMismatch: 2"):
        model_token.mint(finalized, 2, [WEIGHTS[0], [5, 5, 6]], 0, {"from": aggregator})


def test_weights_for_every_round_are_required(model_token, finalized, aggregator):
    with brownie.reverts("LengthMismatch: 2, 1"):
        model_token.mint(finalized, 2, WEIGHTS[1:], 0, {"from": aggregator})


def test_a_round_is_minted_once(minted, finalized, aggregator):
    with brownie.reverts(f"AlreadyMinted: {finalized.address.lower()}, 2, 1"):
        minted.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})


def test_each_round_of_a_task_has_its_own_token(minted, finalized, aggregator):
    minted.mint(finalized, 1, WEIGHTS[:1], 0, {"from": aggregator})
    assert (minted.tokenOf(finalized, 1), minted.tokenOf(finalized, 2)) == (2, 1)
    assert model(minted, 2)[:3] == (finalized.address, 1, MODEL_1)


def test_a_round_that_kept_its_start_model_has_no_token_of_its_own(model_token, finalized, aggregator, clients):
    """Round 3 finalizes MODEL_2, the model it started from: that is round 2's model, and round 2's token."""
    finalized.openRound(3, MODEL_2, [0b10], {"from": aggregator})
    finalized.commitUpdate(3, UPDATE_2, {"from": clients[0]})
    finalized.finalizeRound(3, MODEL_2, [0b10], [7], RULE, {"from": aggregator})
    with brownie.reverts(f"ModelUnchanged: {finalized.address.lower()}, 3, {bytes.fromhex(MODEL_2[2:])!r}"):
        model_token.mint(finalized, 3, WEIGHTS + [[7]], 0, {"from": aggregator})


def test_royalty_is_capped(model_token, finalized, aggregator):
    with brownie.reverts("RoyaltyTooHigh: 5001, 5000"):
        model_token.mint(finalized, 2, WEIGHTS, 5001, {"from": aggregator})


def test_unknown_tokens_revert(minted):
    with brownie.reverts("ERC721: invalid token ID"):
        minted.modelOf(2)
    with brownie.reverts("ERC721: invalid token ID"):
        minted.contributorsOf(2)


def test_a_round_without_a_token_reverts(minted, finalized):
    with brownie.reverts(f"NoToken: {finalized.address.lower()}, 1"):
        minted.tokenOf(finalized, 1)
    with brownie.reverts(f"NoToken: {finalized.address.lower()}, 3"):
        minted.tokenOf(finalized, 3)


# --- squatting: someone else's task finalizing the same model hash ---------------------------------

SQUAT_CONFIG_HASH = "0x" + "5a" * 32


def deploy_task(FLTask, deployer):
    """A second FLTask, deployed by `deployer` (its aggregator)."""
    return FLTask.deploy(SQUAT_CONFIG_HASH, SALT, {"from": deployer})


@pytest.fixture
def attacker(accounts):
    return accounts[6]


@pytest.fixture
def squatted(FLTask, model_token, finalized, attacker):
    """The attacker's own task, whose round 1 (attacker the only client) finalized the victim's
    round-2 model hash, minted by the attacker before the victim mints: token 1."""
    squat = deploy_task(FLTask, attacker)
    squat.register({"from": attacker})
    squat.openRound(1, MODEL_0, [0b10], {"from": attacker})
    squat.commitUpdate(1, UPDATE_2, {"from": attacker})
    squat.finalizeRound(1, MODEL_2, [0b10], [1], RULE, {"from": attacker})
    model_token.mint(squat, 1, [[1]], 5000, {"from": attacker})
    return squat


def test_squatter_cannot_block_the_genuine_mint(model_token, squatted, finalized, aggregator):
    tx = model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    assert tx.events["ModelMinted"]["tokenId"] == 2
    assert model_token.ownerOf(2) == aggregator
    assert model(model_token, 2)[:3] == (finalized.address, 2, MODEL_2)


def test_a_squatters_token_names_the_squatters_task_and_contributors(model_token, squatted, finalized, aggregator,
                                                                     attacker, clients):
    model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    assert model(model_token, 1) == (squatted.address, 1, MODEL_2, 1, 5000)
    assert contributors(model_token, 1) == ([attacker.address], [1])
    assert model_token.ownerOf(1) == attacker
    assert contributors(model_token, 2) == ([c.address for c in clients], [15, 25, 30, 5])


def test_the_genuine_task_round_looks_up_the_genuine_token(model_token, squatted, finalized, aggregator):
    model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    assert model_token.tokenOf(finalized, 2) == 2
    assert model_token.tokenOf(squatted, 1) == 1
    with brownie.reverts(f"NoToken: {squatted.address.lower()}, 2"):
        model_token.tokenOf(squatted, 2)


def test_the_tokens_naming_a_model_hash_are_its_minted_events(model_token, squatted, finalized, aggregator):
    model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    logs = brownie.web3.eth.get_logs({"address": model_token.address, "fromBlock": 0,
                                      "topics": [hex32(brownie.web3.keccak(text="ModelMinted(uint256,address,uint256,"
                                                                                "bytes32,uint256,uint256,uint256)")),
                                                 None, None, MODEL_2]})
    assert [(int(hex32(log["topics"][1]), 16), "0x" + hex32(log["topics"][2])[-40:]) for log in logs] == [
        (1, squatted.address.lower()), (2, finalized.address.lower())]


def test_a_squatter_cannot_mint_a_round_of_the_genuine_task(model_token, finalized, attacker):
    with brownie.reverts(f"NotTaskAggregator: {finalized.address.lower()}, {lower(attacker)}"):
        model_token.mint(finalized, 2, WEIGHTS, 0, {"from": attacker})


def test_a_squatter_cannot_mint_a_round_its_task_has_not_finalized(FLTask, model_token, finalized, attacker):
    squat = deploy_task(FLTask, attacker)
    squat.register({"from": attacker})
    squat.openRound(1, MODEL_0, [0b10], {"from": attacker})
    with brownie.reverts(f"RoundNotFinalized: {squat.address.lower()}, 1"):
        model_token.mint(squat, 1, [[1]], 0, {"from": attacker})


# --- the same lookups from Python (fl.chain.ownership) ---------------------------------------------

def test_python_finds_a_token_by_its_task_and_round(model_token, squatted, finalized, aggregator):
    from fl.chain.ownership import Ownership

    model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    ownership = Ownership(model_token, None)
    assert (ownership.token_of(finalized.address, 2), ownership.token_of(squatted.address, 1)) == (2, 1)


def test_python_refuses_a_round_without_a_token(model_token, finalized):
    from fl.chain.ownership import Ownership
    from fl.core.errors import UserError

    with pytest.raises(UserError, match=f"round 1 of task {finalized.address} has no token in the ModelToken at "
                                        f"{model_token.address}"):
        Ownership(model_token, None).token_of(finalized.address, 1)


def test_python_lists_every_token_naming_a_model_hash(model_token, squatted, finalized, aggregator):
    from fl.chain.ownership import Ownership

    model_token.mint(finalized, 2, WEIGHTS, 1000, {"from": aggregator})
    model_token.mint(finalized, 1, WEIGHTS[:1], 0, {"from": aggregator})
    ownership = Ownership(model_token, None)
    assert ownership.tokens_of_model(MODEL_2) == [(1, squatted.address, 1), (2, finalized.address, 2)]
    assert ownership.tokens_of_model(MODEL_1) == [(3, finalized.address, 1)]
    assert ownership.tokens_of_model("0x" + "99" * 32) == []


# --- what a token does not check: the task's code --------------------------------------------------

def test_a_contract_that_only_answers_the_task_views_mints_a_token_naming_anyone(TaskImpersonator, model_token,
                                                                                 attacker, clients):
    """Documented limitation: the token trusts the task contract; a buyer checks the task's code."""
    fake = TaskImpersonator.deploy(MODEL_2, clients[:2], [3, 4], {"from": attacker})
    fake.mintIn(model_token, False, {"from": attacker})
    assert model(model_token, 1) == (fake.address, 1, MODEL_2, 7, 0)
    assert contributors(model_token, 1) == ([clients[0].address, clients[1].address], [3, 4])


def test_a_contract_aggregator_cannot_mint_a_round_twice_by_reentering(TaskImpersonator, model_token, attacker,
                                                                        clients):
    fake = TaskImpersonator.deploy(MODEL_2, clients[:2], [3, 4], {"from": attacker})
    with brownie.reverts(f"AlreadyMinted: {fake.address.lower()}, 1, 1"):
        fake.mintIn(model_token, True, {"from": attacker})
    assert model_token.totalMinted() == 0


def test_a_round_whose_contributors_all_weigh_nothing_is_not_minted(TaskImpersonator, model_token, attacker, clients):
    """FLTask refuses zero weights at finalize; a task contract that reports them gets no token either."""
    fake = TaskImpersonator.deploy(MODEL_2, clients[:2], [0, 0], {"from": attacker})
    with brownie.reverts(f"NoContributors: {fake.address.lower()}, 1"):
        fake.mintIn(model_token, False, {"from": attacker})


@pytest.mark.parametrize("weights, reason", [([3], "LengthMismatch: 2, 1"), ([3, 4, 5], "LengthMismatch: 2, 3")])
def test_a_round_whose_weights_do_not_pair_with_its_participants_is_not_minted(TaskImpersonator, model_token, attacker,
                                                                               clients, weights, reason):
    """FLTask records one weight per participant; a task contract whose recorded weights hash to a
    list of another length than its participants gets no token."""
    fake = TaskImpersonator.deploy(MODEL_2, clients[:2], weights, {"from": attacker})
    with brownie.reverts(reason):
        fake.mintIn(model_token, False, {"from": attacker})
    assert model_token.totalMinted() == 0
