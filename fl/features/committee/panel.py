"""The committee's panel of the explorer: each round's score matrix, medians, selection and election."""
from __future__ import annotations

from fl.chain.bitmap import from_words
from fl.features.panel import Cell, Facts, Heatmap, Note, Panel, PanelSource, Table, hash_cell

LABEL = "committee"


def contracts(info: dict, run) -> dict[str, tuple[str, str]]:
    address = info.get("hooks", {}).get("committee")
    return {LABEL: ("Committee", address)} if address else {}


def _ids(values) -> str:
    return ", ".join(str(v) for v in values) or "none"


def panel(source: PanelSource) -> Panel:
    c = source.cfg.committee
    out = Panel("committee", "Committee")
    out.blocks.append(Facts([("contract", hash_cell(source.info.get("hooks", {}).get("committee"))),
                             ("size", str(c.size)), ("selection", f"{c.strategy}, {c.select_fraction:g} of the eligible"),
                             ("paper", "Che et al., CMFL, IEEE TPDS 2022")]))
    history = source.history
    if history is None:
        members = (source.summary or {}).get("committee", {}).get("members", {})
        out.blocks.append(Note("the chain could not be read: the scores are not shown; the members below are "
                               "summary.json's", "warn"))
        out.blocks.append(Table(["round", "members"], [[r, _ids(m)] for r, m in sorted(members.items(), key=lambda x: int(x[0]))]))
        return out
    elected = {int(e.args["round"]): list(e.args["members"]) for e in history.of(LABEL, "CommitteeElected")}
    tallied = {int(e.args["round"]): e for e in history.of(LABEL, "RoundTallied")}
    scores: dict[int, dict[int, list[int]]] = {}
    for e in history.of(LABEL, "ScoresSubmitted"):
        scores.setdefault(int(e.args["round"]), {})[int(e.args["memberId"])] = list(e.args["scores"])
    committed: dict[int, list[int]] = {}
    for e in history.of("task", "UpdateCommitted"):
        committed.setdefault(int(e.args["round"]), []).append(int(e.args["clientId"]))
    rows = []
    memberships: dict[int, list[int]] = {}
    opened = {int(e.args["round"]) for e in history.of("task", "RoundOpened")}
    for round_ in sorted((set(elected) | set(scores)) & opened):
        members = elected.get(round_, [])
        for member in members:
            memberships.setdefault(member, []).append(round_)
        tally = tallied.get(round_)
        selected = from_words(tally.args["selected"]) if tally else []
        rows.append([round_, _ids(members), _ids(sorted(scores.get(round_, {}))),
                     _ids(selected) if tally else Cell("not tallied", style="warn"), _ids(elected.get(round_ + 1, []))])
    out.blocks.append(Table(["round", "members", "scored", "selected", "elected for the next round"], rows,
                            id="committee-rounds"))
    for round_ in sorted(scores):
        candidates = sorted(committed.get(round_, []))
        members = sorted(scores[round_])
        values = [[None if cand in elected.get(round_, []) else float(row[i]) for i, cand in enumerate(candidates)]
                  for row in (scores[round_][m] for m in members)]
        labels = [f"member {m}" for m in members]
        tally = tallied.get(round_)
        if tally is not None:
            values.append([None if cand in elected.get(round_, []) else float(v)
                           for cand, v in zip(candidates, tally.args["medians"])])
            labels.append("median")
        selected = from_words(tally.args["selected"]) if tally else []
        out.blocks.append(Heatmap(f"round {round_}: scores of the committed updates", labels,
                                  [f"{cand}{' ✓' if cand in selected else ''}" for cand in candidates], values,
                                  caption="rows: the members' scores and their median; columns: the committed "
                                          "clients (✓ selected); blank: a member's own entry, ignored",
                                  id=f"committee-scores-{round_}"))
    out.client_columns["committee rounds"] = {cid: ", ".join(map(str, rounds)) for cid, rounds in memberships.items()}
    return out
