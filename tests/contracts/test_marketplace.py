"""ModelMarketplace: listing, buying into escrow, exact split among contributors, royalties, re-entrancy."""
import brownie
import pytest

PRICE = 10**18 + 7  # 1 ETH and 7 wei: the contributors' exact shares are not whole wei
WEIGHTS = [15, 25, 30, 5]  # of the `minted` token's contributors (clients 1..4), total 75


def lower(account):
    return account.address.lower()


def expected_split(amount, weights=WEIGHTS):
    """The documented rule: part i = floor(A·W_i/W) - floor(A·W_(i-1)/W), W_i the running sum."""
    total, running, paid, parts = sum(weights), 0, 0, []
    for w in weights:
        running += w
        parts.append(amount * running // total - paid)
        paid = amount * running // total
    return parts


@pytest.fixture
def listed(market, minted, aggregator):
    minted.approve(market, 1, {"from": aggregator})
    market.list(1, PRICE, {"from": aggregator})
    return market


@pytest.fixture
def buyer(accounts):
    return accounts[6]


@pytest.fixture
def bought(listed, buyer):
    listed.buy(1, {"from": buyer, "value": PRICE})
    return listed


def listing(market, token_id):
    seller, price = market.listingOf(token_id)
    return seller, int(price)


def escrow_of(market):
    """PullPayment's Escrow: the first contract the marketplace created (its nonce 1)."""
    import rlp
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(market.address[2:]), 1]))[12:])


def owed(market, accounts_):
    return [int(market.payments(a)) for a in accounts_]


def test_the_holder_lists_and_it_is_recorded(listed, aggregator):
    assert listing(listed, 1) == (aggregator, PRICE)


def test_listing_emits(market, minted, aggregator):
    minted.approve(market, 1, {"from": aggregator})
    tx = market.list(1, PRICE, {"from": aggregator})
    assert tx.events["Listed"] == {"tokenId": 1, "seller": aggregator, "price": PRICE}


def test_only_the_holder_lists(market, minted, aggregator, clients):
    minted.approve(market, 1, {"from": aggregator})
    with brownie.reverts(f"NotHolder: 1, {lower(clients[0])}"):
        market.list(1, PRICE, {"from": clients[0]})


def test_listing_needs_the_marketplace_approved(market, aggregator):
    with brownie.reverts("NotApproved: 1"):
        market.list(1, PRICE, {"from": aggregator})


def test_listing_for_nothing_reverts(market, minted, aggregator):
    minted.approve(market, 1, {"from": aggregator})
    with brownie.reverts("ZeroPrice: "):
        market.list(1, 0, {"from": aggregator})


@pytest.mark.parametrize("paid", [PRICE - 1, PRICE + 1, 0])
def test_a_wrong_price_reverts(listed, buyer, paid):
    with brownie.reverts(f"WrongPrice: 1, {PRICE}, {paid}"):
        listed.buy(1, {"from": buyer, "value": paid})


def test_buying_moves_the_token_and_puts_exactly_the_price_in_escrow(bought, minted, buyer, clients, aggregator):
    assert minted.ownerOf(1) == buyer
    parts = owed(bought, clients[:4])
    assert parts == expected_split(PRICE)
    assert sum(parts) == PRICE
    assert int(bought.payments(aggregator)) == 0  # first sale: everything to the contributors
    assert listing(bought, 1) == (brownie.ZERO_ADDRESS, 0)
    assert bought.soldBefore(1)


def test_buying_emits_the_sale_and_each_credit(listed, buyer, clients, aggregator):
    tx = listed.buy(1, {"from": buyer, "value": PRICE})
    assert tx.events["Sold"] == {"tokenId": 1, "seller": aggregator, "buyer": buyer, "price": PRICE,
                                 "toContributors": PRICE}
    credits = [(e["payee"], e["amount"]) for e in tx.events["Credited"]]
    assert credits == list(zip(clients[:4], expected_split(PRICE)))


def test_a_second_buy_of_the_same_listing_reverts(bought, accounts):
    with brownie.reverts("NotListed: 1"):
        bought.buy(1, {"from": accounts[7], "value": PRICE})


def test_the_seller_cancels_and_the_token_can_no_longer_be_bought(listed, aggregator, buyer):
    tx = listed.cancel(1, {"from": aggregator})
    assert tx.events["ListingCancelled"] == {"tokenId": 1, "seller": aggregator}
    with brownie.reverts("NotListed: 1"):
        listed.buy(1, {"from": buyer, "value": PRICE})


def test_only_the_seller_cancels(listed, buyer):
    with brownie.reverts(f"NotSeller: 1, {lower(buyer)}"):
        listed.cancel(1, {"from": buyer})


def test_a_cancelled_token_can_be_listed_again_at_a_new_price(listed, minted, aggregator, buyer):
    listed.cancel(1, {"from": aggregator})
    listed.list(1, 2 * PRICE, {"from": aggregator})
    listed.buy(1, {"from": buyer, "value": 2 * PRICE})
    assert minted.ownerOf(1) == buyer


def test_a_listing_goes_stale_when_the_token_leaves_the_seller(listed, minted, aggregator, buyer, accounts):
    minted.transferFrom(aggregator, accounts[8], 1, {"from": aggregator})
    with brownie.reverts(f"StaleListing: 1, {lower(aggregator)}, {lower(accounts[8])}"):
        listed.buy(1, {"from": buyer, "value": PRICE})


def test_a_resale_pays_the_royalty_to_the_contributors_and_the_rest_to_the_seller(bought, minted, buyer, clients,
                                                                                 accounts):
    before = owed(bought, clients[:4])
    resale = 3 * 10**18 + 1
    minted.approve(bought, 1, {"from": buyer})
    bought.list(1, resale, {"from": buyer})
    tx = bought.buy(1, {"from": accounts[7], "value": resale})
    royalty = resale * 1000 // 10_000
    gained = [after - b for after, b in zip(owed(bought, clients[:4]), before)]
    assert gained == expected_split(royalty)
    assert int(bought.payments(buyer)) == resale - royalty
    assert sum(gained) + int(bought.payments(buyer)) == resale
    assert tx.events["Sold"]["toContributors"] == royalty


def test_each_payee_withdraws_what_it_is_owed_once(bought, clients, accounts):
    payee = clients[2]
    due = int(bought.payments(payee))
    balance = payee.balance()
    bought.withdrawPayments(payee, {"from": accounts[9]})  # anyone may trigger it; the money goes to the payee
    assert payee.balance() - balance == due
    assert int(bought.payments(payee)) == 0
    bought.withdrawPayments(payee, {"from": payee})
    assert payee.balance() - balance == due


@pytest.mark.parametrize("price", [1, 2, 74, 75, 76, 10**18 - 1, 123_456_789_123_456_789_011])
def test_the_parts_always_add_up_to_the_amount(market, price):
    contributors, amounts, to_seller = market.split(1, price)
    parts = [int(a) for a in amounts]
    assert parts == expected_split(price)
    assert sum(parts) + int(to_seller) == price
    for part, weight in zip(parts, WEIGHTS):
        assert abs(part - price * weight / 75) < 1 + 1e-9 * price


def test_a_reentrant_buyer_cannot_steal(listed, minted, market, clients, accounts, ReentrantBuyer):
    escrow = escrow_of(market)
    attacker = ReentrantBuyer.deploy(listed, {"from": accounts[7]})
    # it buys; on receiving the token it tries to buy again and to withdraw
    attacker.buy(1, {"from": accounts[7], "value": PRICE})
    assert minted.ownerOf(1) == attacker
    assert (attacker.reentriesTried(), attacker.reentriesSucceeded()) == (2, 0)

    resale = 2 * 10**18
    attacker.list(1, resale, {"from": accounts[7]})
    listed.buy(1, {"from": accounts[8], "value": resale})
    due = int(listed.payments(attacker))
    owed_to_contributors = sum(owed(listed, clients[:4]))
    assert due == resale - resale // 10 and owed_to_contributors == PRICE + resale // 10
    assert brownie.web3.eth.get_balance(escrow) == PRICE + resale
    assert brownie.web3.eth.get_balance(market.address) == 0

    attacker.withdraw({"from": accounts[7]})  # its receive() re-enters withdrawPayments
    assert attacker.balance() == due
    assert (attacker.reentriesTried(), attacker.reentriesSucceeded()) == (3, 0)
    assert sum(owed(listed, clients[:4])) == owed_to_contributors
    assert brownie.web3.eth.get_balance(escrow) == owed_to_contributors
