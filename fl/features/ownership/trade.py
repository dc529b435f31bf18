"""Trading a run's tokenized model on its chain: list → buy → withdraw, then a resale with royalties.

"Tokenized Model" (Li, Lai, Liao, Chen, Zheng, 2023): a model token can be traded once both
sides agree on the price. Here the holder lists it, a buyer pays the price into escrow
(contracts/ModelMarketplace.sol), the token moves to the buyer, and each contributor withdraws its
part by its own transaction; on the resale only the royalty goes to the contributors.
"""
from __future__ import annotations

import json
from pathlib import Path

from fl.chain.run_chain import run_chain
from fl.core.errors import UserError
from fl.features.ownership.owners import read_ownership

WEI_PER_ETH = 10**18
TRADE_FILE = "trade.json"


def to_wei(eth: float) -> int:
    """A positive ETH amount in wei (to the gwei, so that 0.1 ETH is exactly 10**17 wei)."""
    if not eth > 0:
        raise UserError(f"a price must be a positive amount of ETH, got {eth}")
    return round(eth * 10**9) * 10**9


def _eth(wei: int) -> str:
    """Exact: 3.333333333333333334 ETH."""
    whole, fraction = divmod(wei, WEI_PER_ETH)
    return f"{whole}.{fraction:018d}".rstrip("0").rstrip(".") + " ETH"


def _client_addresses(run: Path) -> set[str]:
    """The run's client addresses; their keys (which follow from the run's seed) go into the keyring."""
    from fl.chain.keys import client_keys
    from fl.chain.transactions import add_key
    from fl.core import config

    cfg = config.build(run / "config.yaml")
    return {add_key(key) for key in client_keys(cfg.seed, cfg.train.clients)}


def _withdraw_all(ownership, payees: list[str], print_line) -> tuple[int, int]:
    """Each payee withdraws from its own account; returns (wei received in all, gas of one withdrawal)."""
    received, gas = 0, 0
    for payee in payees:
        before = ownership.stats.snapshot()
        amount = ownership.withdraw(payee)
        gas = ownership.stats.since(before).gas
        received += amount
        print_line(f"  {payee} withdrew {_eth(amount)}")
    return received, gas


def _sale(ownership, token_id: int, seller, buyer, price: int, print_line) -> tuple[dict[str, int], dict[str, int]]:
    """`seller` lists, `buyer` buys at `price`; returns the amounts credited and the gas of each step."""
    payees = [c.account for c in ownership.record(token_id).contributors] + [seller]
    owed_before = {p: ownership.owed(p) for p in payees}
    before = ownership.stats.snapshot()
    ownership.list(token_id, price, seller)
    listing = ownership.stats.since(before)
    before = ownership.stats.snapshot()
    ownership.buy(token_id, buyer, price)
    buying = ownership.stats.since(before)
    credited = {p: ownership.owed(p) - owed_before[p] for p in dict.fromkeys(payees)}
    if sum(credited.values()) != price:
        raise UserError(f"the sale credited {sum(credited.values())} wei in all, not the price {price}")
    if ownership.holder(token_id) != buyer:
        raise UserError(f"token {token_id} did not move to the buyer {buyer}")
    print_line(f"{seller} listed token {token_id} at {_eth(price)}; {buyer} bought it "
               f"(now its holder); credited in escrow, adding up to the price exactly:")
    for payee, amount in credited.items():
        role = "seller" if payee == seller else "contributor"
        print_line(f"  {payee} ({role}): {_eth(amount)}")
    return credited, {"approve_and_list": listing.gas, "buy": buying.gas}


def trade(run: Path, price_wei: int, resale_price_wei: int, print_line=print) -> dict:
    """The demonstration on `run`'s chain; writes trade.json (amounts and gas)."""
    from fl.chain.network import node_accounts
    from fl.chain.ownership import Ownership

    deployed = read_ownership(run)
    token_id = deployed["token_id"]
    with run_chain(run):
        ownership = Ownership.attach(deployed["token"], deployed["market"])
        clients = _client_addresses(run)
        holder = ownership.holder(token_id)
        buyer, second_buyer = [a for a in node_accounts()[:4] if a != holder and a not in clients][:2]
        record = ownership.record(token_id)
        print_line(f"token {token_id}: model {record.model_hash}; royalty on resale {record.royalty_bps / 100:g}%")

        first, first_gas = _sale(ownership, token_id, holder, buyer, price_wei, print_line)
        received, withdraw_gas = _withdraw_all(ownership, [p for p, a in first.items() if a], print_line)
        resale, _ = _sale(ownership, token_id, buyer, second_buyer, resale_price_wei, print_line)
        received_resale, _ = _withdraw_all(ownership, [p for p, a in resale.items() if a], print_line)
    result = {"token_id": token_id, "price_wei": price_wei, "resale_price_wei": resale_price_wei,
              "first_sale": first, "resale": resale, "withdrawn_wei": received + received_resale,
              "gas": {**first_gas, "withdraw": withdraw_gas}}
    (run / TRADE_FILE).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print_line(f"gas: approve + list {first_gas['approve_and_list']:,}, buy {first_gas['buy']:,}, "
               f"one withdrawal {withdraw_gas:,}")
    return result
