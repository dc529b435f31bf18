"""The explorer's own panels of a run: overview, verify, rounds and clients (the on-chain
mechanisms add theirs, fl/features/*/panel.py)."""
from __future__ import annotations

from fl.features.panel import Cell, Chart, Detail, Facts, Note, Panel, Table, hash_cell
from fl.tools.explore.view import RunView


#: a commitment's columns, after its round or its client
COMMITMENT_COLUMNS = ("update hash", "aggregated", "weight", "transaction", "block")
#: and under a personalized algorithm, the hash of the client's personal artifact the update commits to
PERSONAL_COLUMN = "personal digest"


def _personal(view: RunView) -> bool:
    return any(c.personal_digest for r in view.rounds for c in r.commitments)


def _commitment_columns(personal: bool) -> list[str]:
    return [*COMMITMENT_COLUMNS, *([PERSONAL_COLUMN] if personal else [])]


def _commitment(c, personal: bool) -> list:
    """The cells of `_commitment_columns` for a fl.tools.explore.view.Commitment."""
    cells = [hash_cell(c.update_hash), "yes" if c.aggregated else "no", c.weight if c.weight is not None else "",
             hash_cell(c.tx), c.block]
    return cells + ([hash_cell(c.personal_digest) if c.personal_digest else "none"] if personal else [])


def _ids(values) -> str:
    return ", ".join(str(v) for v in values) or "none"


def verdict_cell(view: RunView) -> Cell:
    if view.chain_error:
        return Cell("not verified (chain not read)", style="warn")
    if view.report is None:
        return Cell(f"not verified ({view.verify_error})", style="warn")
    if view.live:
        return Cell("OK so far" if view.verified else "FAILED", style="ok" if view.verified else "bad")
    return Cell("OK" if view.verified else "FAILED", style="ok" if view.verified else "bad")


def overview(view: RunView) -> Panel:
    from fl.run.experiment import describe

    cfg, info = view.cfg, view.info
    out = Panel("overview", "Overview")
    facts: list = [("run", str(view.run)), ("task", describe(cfg)), ("verify", verdict_cell(view))]
    facts.append(("config hash (run folder)", hash_cell(cfg.config_hash())))
    if view.history is not None:
        on_chain = next((e.args["configHash"] for e in view.history.of("task", "TaskCreated")), "")
        same = on_chain.lower() == cfg.config_hash().lower()
        facts.append(("config hash (chain)", Cell(on_chain, on_chain, "hash" if same else "bad")))
    facts.append(("network", str(info.get("network") or "none") + (f" ({info['rpc']})" if info.get("rpc") else "")))
    facts.append(("engine", info.get("engine", "inprocess")))
    if view.history is not None:
        for label, (name, address) in view.history.contracts.items():
            facts.append((f"{label} ({name})", hash_cell(address)))
        h = view.history
        facts.append(("blocks", f"{h.first_block} to {h.last_block}"))
        setup = sum(t.gas_used for t in h.transactions if view.rounds and t.block < view.rounds[0].first_block)
        rounds = sum(r.gas for r in view.rounds)
        facts.append(("gas", f"{view.total_gas:,} in {len(h.transactions)} transactions: set-up {setup:,}, rounds {rounds:,}, "
                             f"after the run {view.total_gas - setup - rounds:,}"))
    if view.summary:
        facts.append(("final accuracy", f"{100 * view.summary.get('final_accuracy', float('nan')):.2f} % after "
                                        f"{view.summary.get('rounds')} rounds"))
        facts.append(("time", f"{view.summary.get('total_seconds', 0):.1f} s of rounds, "
                              f"{view.summary.get('startup', {}).get('startup_s', 0):.1f} s start-up"))
    out.blocks.append(Facts(facts, id="overview-facts"))
    for problem in view.mismatches:
        out.blocks.append(Note(problem, "error"))
    return out


def _grouped(notes: list[str]) -> list[str]:
    """verify's notes, its one line per valid update left out of the aggregate made one line."""
    import re

    pattern = re.compile(r"client (\d+) committed but was not aggregated \(its update is valid\)$")
    left_out = [m.group(1) for m in map(pattern.match, notes) if m]
    rest = [n for n in notes if not pattern.match(n)]
    return ([f"committed, valid, not aggregated: clients {', '.join(left_out)}"] if left_out else []) + rest


def verify_panel(view: RunView) -> Panel:
    out = Panel("verify", "Verify")
    out.blocks.append(Note("The same checks as `make verify`: every committed artifact hashes to its commitment and "
                           "was signed by its client's registered key, each round starts from the previous model, "
                           "and the aggregate recomputed from the committed updates is the model the chain finalized."))
    if view.chain_error:
        out.blocks.append(Note(f"not verified: the chain could not be read ({view.chain_error})", "warn"))
        return out
    if view.report is None:
        out.blocks.append(Note(f"verify could not run: {view.verify_error}", "error"))
        return out
    report = view.report
    rows = []
    for problem in report.setup_problems:
        rows.append(["set-up", Cell("FAIL", style="bad"), problem])
    for verdict in report.rounds:
        if view.live and not view.settled(verdict.round):
            rows.append([verdict.round, Cell("in progress", style="warn"), "checked when the round is finalized"])
        elif verdict.ok:
            rows.append([verdict.round, Cell("OK", style="ok"),
                         f"{verdict.aggregated} update{'' if verdict.aggregated == 1 else 's'} aggregated into "
                         f"{verdict.model}" +
                         "".join(f"; {n}" for n in _grouped(verdict.notes))])
        else:
            rows.append([verdict.round, Cell("FAIL", style="bad"), "; ".join(verdict.problems)])
    if view.live and report.feature_problems:
        rows.append(["features", Cell("when the run is over", style="warn"),
                     "the totals over all rounds (e.g. reward balances) are checked once the run is over"])
    elif not view.live:
        for problem in report.feature_problems:
            rows.append(["features", Cell("FAIL", style="bad"), problem])
    if not view.live:
        for problem in report.output_problems:
            rows.append(["outputs", Cell("FAIL", style="bad"), problem])
    for note in report.notes:
        rows.append(["note", "", note])
    out.blocks.append(Table(["round", "verdict", "checks"], rows, id="verify-table"))
    return out


def rounds_panel(view: RunView) -> Panel:
    out = Panel("rounds", "Rounds")
    finals = [r for r in view.rounds if r.metrics is not None]
    out.blocks.append(Chart("test accuracy", "round", "%", {"global model": [(r.round, 100 * r.metrics.test_accuracy) for r in finals]},
                            id="chart-accuracy"))
    out.blocks.append(Chart("loss", "round", "cross-entropy",
                            {"test": [(r.round, r.metrics.test_loss) for r in finals],
                             "train (clients' mean)": [(r.round, r.metrics.train_loss) for r in finals]}, id="chart-loss"))
    if view.history is not None:
        out.blocks.append(Chart("gas per round", "round", "gas", {"gas": [(r.round, r.gas) for r in view.rounds]},
                                kind="bar", id="chart-gas"))
    rows, details, blocks = [], [], []
    personal = _personal(view)
    columns = _commitment_columns(personal)
    for r in view.rounds:
        m = r.metrics
        state = Cell("finalized", style="ok") if r.finalized else Cell("open", style="warn")
        verdict = r.verdict
        if verdict is None:
            check = Cell("")
        elif not r.finalized and view.live:
            check = Cell("in progress", style="warn")
        else:
            check = Cell("OK", style="ok") if verdict.ok else Cell("FAIL", "; ".join(verdict.problems), "bad")
        rejected = "; ".join(f"{c} ({why})" for c, why in r.rejected) or "none"
        not_aggregated = [c for c in r.committed if c not in r.aggregated] if r.finalized else []
        rows.append([r.round, state, _ids(r.selected), _ids(r.committed) if view.history else "?", rejected,
                     _ids(r.aggregated), _ids(not_aggregated), f"{r.gas:,}" if view.history else f"{m.gas:,}" if m else "",
                     len(r.transactions) if view.history else (m.txs if m else ""),
                     f"{100 * m.test_accuracy:.2f} %" if m else "", f"{m.test_loss:.4f}" if m else "",
                     hash_cell(r.start_model), hash_cell(r.final_model), check,
                     Cell("disagrees", "; ".join(r.mismatches), "bad") if r.mismatches else
                     Cell("agrees" if view.history and r.metrics else "", style="ok")])
        detail_id = f"round-{r.round}-detail"
        details.append(detail_id)
        commitments = Table(["client", *columns], [[c.client, *_commitment(c, personal)] for c in r.commitments],
                            caption=f"round {r.round}: commitments", id=f"round-{r.round}-commitments")
        txs = Table(["transaction", "block", "contract", "function", "sender", "gas", "status"],
                    [[hash_cell(t.hash), t.block, t.contract, t.function, hash_cell(t.sender), f"{t.gas_used:,}",
                      Cell("ok", style="ok") if t.ok else Cell("reverted", style="bad")] for t in r.transactions],
                    caption=f"round {r.round}: transactions")
        inner = [commitments, txs] + [Note(x, "error") for x in r.mismatches]
        if r.absent:
            inner.insert(1, Note(f"selected but no commitment on chain: {_ids(r.absent)}", "warn"))
        blocks.append(Detail(detail_id, f"round {r.round}", inner))
    out.blocks.append(Table(["round", "state", "selected", "committed", "rejected (reason)", "aggregated",
                             "committed, not aggregated", "gas", "txs", "accuracy", "loss", "start model", "final model",
                             "verify", "metrics.csv vs chain"], rows,
                            caption="click a round for its commitments and transactions", id="rounds-table",
                            details=details if view.history else []))
    if view.history is not None:
        out.blocks.extend(blocks)
    return out


def clients_panel(view: RunView, feature_columns: dict[str, dict[int, object]]) -> Panel:
    out = Panel("clients", "Clients")
    rows, details, blocks = [], [], []
    personal = _personal(view)
    columns = _commitment_columns(personal)
    for cid, address in sorted(view.clients.items()):
        mine = [(r, c) for r in view.rounds for c in r.commitments if c.client == cid]
        rejections = [f"round {r.round}: {why}" for r in view.rounds for c, why in r.rejected if c == cid]
        selected = [r.round for r in view.rounds if cid in r.selected]
        aggregated = [r.round for r in view.rounds if cid in r.aggregated]
        row = [cid, hash_cell(address), _ids(selected), len(mine), _ids(aggregated), "; ".join(rejections) or "none"]
        row += [feature_columns[name].get(cid, "") for name in feature_columns]
        rows.append(row)
        detail_id = f"client-{cid}-detail"
        details.append(detail_id)
        blocks.append(Detail(detail_id, f"client {cid}", [Table(
            ["round", *columns], [[r.round, *_commitment(c, personal)] for r, c in mine],
            caption=f"client {cid}: every commitment")]))
    out.blocks.append(Table(["client", "address", "selected in", "commitments", "aggregated in", "rejections",
                             *feature_columns], rows, caption="click a client for every commitment", id="clients-table",
                            details=details if view.history else []))
    if view.history is not None:
        out.blocks.extend(blocks)
    return out


def panels(view: RunView) -> list[Panel]:
    """Every panel of the run's page, in order."""
    columns: dict[str, dict[int, object]] = {}
    for panel in view.panels:
        columns.update(panel.client_columns)
    return [overview(view), verify_panel(view), rounds_panel(view), clients_panel(view, columns), *view.panels]
