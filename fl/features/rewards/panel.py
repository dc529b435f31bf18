"""The reward token's panel of the explorer: what each round paid, and to whom; the balances."""
from __future__ import annotations

from fl.features.panel import Cell, Chart, Facts, Note, Panel, PanelSource, Table, hash_cell

LABEL = "reward token"
MINT = "0x" + "0" * 40


def contracts(info: dict, run) -> dict[str, tuple[str, str]]:
    address = info.get("hooks", {}).get("reward_token")
    return {LABEL: ("RewardToken", address)} if address else {}


def balances(source: PanelSource) -> dict[int, int]:
    """Each client's balance in token units, summed from the token's Transfer events."""
    held: dict[str, int] = {}
    for e in source.history.of(LABEL, "Transfer"):
        value = int(e.args["value"])
        held[e.args["to"].lower()] = held.get(e.args["to"].lower(), 0) + value
        if e.args["from"] != MINT:
            held[e.args["from"].lower()] = held.get(e.args["from"].lower(), 0) - value
    return {cid: held.get(address.lower(), 0) for cid, address in source.clients.items()}


def panel(source: PanelSource) -> Panel:
    from fl.chain.rewards import SYMBOL, to_tokens

    r = source.cfg.rewards
    out = Panel("rewards", "Rewards")
    out.blocks.append(Facts([("token", hash_cell(source.info.get("hooks", {}).get("reward_token"))),
                             ("budget", f"{r.budget} {SYMBOL} a round, {r.committee_share:g} of it to the committee")]))
    recorded = (source.summary or {}).get("rewards", {}).get("balances", {})
    if source.history is None:
        out.blocks.append(Note("the chain could not be read: the balances below are summary.json's", "warn"))
        out.blocks.append(Table(["client", f"balance ({SYMBOL})"], [[cid, f"{v:g}"] for cid, v in recorded.items()]))
        return out
    rows = []
    for e in source.history.of(LABEL, "RoundRewarded"):
        paid = [f"{source.client_of(t.args['to'])}: {to_tokens(int(t.args['value'])):g}"
                for t in source.history.of(LABEL, "Transfer") if t.tx == e.tx and t.args["from"] == MINT]
        rows.append([int(e.args["round"]), f"{to_tokens(int(e.args['toParticipants'])):g}",
                     f"{to_tokens(int(e.args['toCommittee'])):g}", "; ".join(paid) or "nobody", hash_cell(e.tx)])
    out.blocks.append(Table(["round", "to participants", "to the committee", "paid", "transaction"], rows,
                            id="rewards-rounds"))
    held = balances(source)
    out.blocks.append(Chart(f"balances ({SYMBOL})", "client", SYMBOL,
                            {"balance": [(cid, to_tokens(units)) for cid, units in sorted(held.items())]}, kind="bar",
                            id="rewards-balances"))
    for cid, units in sorted(held.items()):
        claimed = recorded.get(str(cid))
        if claimed is not None and abs(float(claimed) - to_tokens(units)) > 1e-9:
            out.blocks.append(Note(f"summary.json says client {cid} holds {claimed:g} {SYMBOL}, "
                                   f"the chain {to_tokens(units):g}", "error"))
    out.client_columns[f"reward balance ({SYMBOL})"] = {cid: Cell(f"{to_tokens(u):g}") for cid, u in held.items()}
    return out
