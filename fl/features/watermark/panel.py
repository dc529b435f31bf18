"""The watermark registry's panel of the explorer: the owners' keys as negotiated on chain (FedIPR)."""
from __future__ import annotations

from fl.features.panel import Facts, Note, Panel, PanelSource, Table, hash_cell

LABEL = "watermark registry"


def contracts(info: dict, run) -> dict[str, tuple[str, str]]:
    address = info.get("algorithm", {}).get("watermark_registry")
    return {LABEL: ("WatermarkRegistry", address)} if address else {}


def panel(source: PanelSource) -> Panel:
    out = Panel("watermark", "Watermark keys")
    recorded = source.info.get("algorithm", {}).get("watermark_owners", {})
    out.blocks.append(Facts([("registry", hash_cell(source.info.get("algorithm", {}).get("watermark_registry"))),
                             ("paper", "Li et al., FedIPR, IEEE TPAMI 2022")]))
    if source.history is None:
        out.blocks.append(Note("the chain could not be read: the key commitments below are chain.json's", "warn"))
        out.blocks.append(Table(["owner", "key commitment"], [[f"client {c}", hash_cell(k)] for c, k in recorded.items()]))
        return out
    for e in source.history.of(LABEL, "TaskConfigured"):
        out.blocks.append(Facts([("bits", str(e.args["bits"])), ("minimum distance between owners", str(e.args["minDistance"]))]))
    redraws: dict[str, int] = {}
    for e in source.history.of(LABEL, "KeyRedrawn"):
        redraws[e.args["owner"].lower()] = redraws.get(e.args["owner"].lower(), 0) + 1
    rows = []
    owners = {}
    for e in source.history.of(LABEL, "WatermarkKeyAssigned"):
        who = source.client_of(e.args["owner"])
        owners[who] = e.args["commitment"]
        tx = source.history.transaction(e.tx)
        rows.append([who, hash_cell(e.args["commitment"]), hash_cell(e.args["key"]), e.args["nonce"],
                     redraws.get(e.args["owner"].lower(), 0), hash_cell(tx.sender if tx else ""), hash_cell(e.tx), e.block])
    out.blocks.append(Table(["owner", "key commitment", "key", "nonce", "redraws", "sent by", "transaction", "block"], rows,
                            id="watermark-keys"))
    for client, commitment in recorded.items():
        if owners.get(f"client {client}", "").lower() != str(commitment).lower():
            out.blocks.append(Note(f"chain.json records client {client}'s key commitment {commitment}, the registry "
                                   f"{owners.get(f'client {client}', 'none')}", "error"))
    out.client_columns["watermark key"] = {int(who.split()[1]): hash_cell(c) for who, c in owners.items()
                                           if who.startswith("client ")}
    return out
