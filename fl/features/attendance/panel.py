"""The attendance counter's panel of the explorer: who the counter saw aggregated, round by round."""
from __future__ import annotations

from fl.features.panel import Facts, Note, Panel, PanelSource, Table, hash_cell

LABEL = "attendance"


def contracts(info: dict, run) -> dict[str, tuple[str, str]]:
    address = info.get("hooks", {}).get("attendance")
    return {LABEL: ("Attendance", address)} if address else {}


def panel(source: PanelSource) -> Panel:
    out = Panel("attendance", "Attendance")
    out.blocks.append(Facts([("counter", hash_cell(source.info.get("hooks", {}).get("attendance")))]))
    recorded = (source.summary or {}).get("attendance", {}).get("rounds", {})
    if source.history is None:
        out.blocks.append(Note("the chain could not be read: the counts below are summary.json's", "warn"))
        out.blocks.append(Table(["client", "rounds attended"], [[cid, n] for cid, n in recorded.items()]))
        return out
    by_round: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    for e in source.history.of(LABEL, "Attended"):
        by_round.setdefault(int(e.args["round"]), []).append(int(e.args["clientId"]))
        counts[int(e.args["clientId"])] = int(e.args["rounds"])
    out.blocks.append(Table(["round", "attended"], [[r, ", ".join(map(str, sorted(c)))] for r, c in sorted(by_round.items())],
                            id="attendance-rounds"))
    for cid in sorted(source.clients):
        claimed = recorded.get(str(cid))
        if claimed is not None and int(claimed) != counts.get(cid, 0):
            out.blocks.append(Note(f"summary.json says client {cid} attended {claimed} rounds, the chain "
                                   f"{counts.get(cid, 0)}", "error"))
    out.client_columns["rounds attended"] = {cid: str(counts.get(cid, 0)) for cid in source.clients}
    return out
