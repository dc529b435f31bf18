"""The model token's panel of the explorer: the token, its holders over time, listings, sales,
the royalties credited to the contributors, and the withdrawals (contracts/ModelToken.sol,
contracts/ModelMarketplace.sol). Shown for a run whose model was tokenized (ownership.json)."""
from __future__ import annotations

import json

from fl.features.ownership.owners import OWNERSHIP_FILE
from fl.features.panel import Facts, Note, Panel, PanelSource, Table, hash_cell

TOKEN, MARKET, ESCROW = "model token", "marketplace", "Escrow"


def _ownership(run) -> dict | None:
    path = run / OWNERSHIP_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def contracts(info: dict, run) -> dict[str, tuple[str, str]]:
    recorded = _ownership(run)
    if not recorded:
        return {}
    return {TOKEN: ("ModelToken", recorded["token"]), MARKET: ("ModelMarketplace", recorded["market"])}


def _eth(wei) -> str:
    return f"{int(wei) / 10 ** 18:g} ETH"


def panel(source: PanelSource) -> Panel | None:
    recorded = _ownership(source.run)
    if recorded is None:
        return None
    out = Panel("ownership", "Ownership")
    out.blocks.append(Facts([("model token", hash_cell(recorded["token"])), ("marketplace", hash_cell(recorded["market"])),
                             ("token", f"#{recorded['token_id']}, the model of round {recorded['round']}"),
                             ("model", hash_cell(recorded["model_hash"])),
                             ("royalty", f"{recorded['royalty_bps'] / 100:g} % of a resale to the contributors")]))
    history = source.history
    if history is None:
        out.blocks.append(Note("the chain could not be read: only ownership.json is shown", "warn"))
        return out
    who = source.client_of
    minted = [[e.args["tokenId"], e.args["round"], hash_cell(e.args["modelHash"]), e.args["contributors"],
               e.args["totalWeight"], f"{e.args['royaltyBps'] / 100:g} %", hash_cell(e.tx), e.block]
              for e in history.of(TOKEN, "ModelMinted")]
    out.blocks.append(Table(["token", "round", "model", "contributors", "total weight", "royalty", "transaction", "block"],
                            minted, caption="minted", id="ownership-minted"))
    sales = {e.tx: e for e in history.of(MARKET, "Sold")}
    holders = []
    for e in history.of(TOKEN, "Transfer"):
        sale = sales.get(e.tx)
        how = "minted" if int(e.args["from"], 16) == 0 else (f"bought for {_eth(sale.args['price'])}" if sale else "transferred")
        holders.append([e.args["tokenId"], who(e.args["to"]), how, hash_cell(e.tx), e.block])
    out.blocks.append(Table(["token", "holder", "how", "transaction", "block"], holders, caption="holders over time",
                            id="ownership-holders"))
    market = []
    for e in history.events:
        if e.contract == MARKET and e.name in ("Listed", "ListingCancelled", "Sold"):
            a = e.args
            text = {"Listed": lambda: f"{who(a['seller'])} listed it at {_eth(a['price'])}",
                    "ListingCancelled": lambda: f"{who(a['seller'])} took it off the market",
                    "Sold": lambda: f"{who(a['seller'])} sold it to {who(a['buyer'])} for {_eth(a['price'])}, "
                                    f"{_eth(a['toContributors'])} of it to the contributors"}[e.name]()
            market.append([e.args["tokenId"], e.name, text, hash_cell(e.tx), e.block])
    out.blocks.append(Table(["token", "event", "what happened", "transaction", "block"], market,
                            caption="listings and sales", id="ownership-market"))
    credits = [[e.args["tokenId"], who(e.args["payee"]), _eth(e.args["amount"]), hash_cell(e.tx), e.block]
               for e in history.of(MARKET, "Credited")]
    out.blocks.append(Table(["token", "payee", "credited", "transaction", "block"], credits,
                            caption="credited in escrow (royalties and sale proceeds)", id="ownership-credits"))
    withdrawals = [[who(e.args["payee"]), _eth(e.args["weiAmount"]), hash_cell(e.tx), e.block]
                   for e in history.of(ESCROW, "Withdrawn")]
    out.blocks.append(Table(["payee", "withdrew", "transaction", "block"], withdrawals, caption="withdrawals",
                            id="ownership-withdrawals"))
    return out
