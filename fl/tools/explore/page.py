"""The explorer's HTML: one self-contained page (inline CSS, SVG and a few lines of JavaScript, no
network), for one run or for several side by side."""
from __future__ import annotations

import time
from html import escape
from pathlib import Path

from fl.features.panel import Block, Cell, Chart, Detail, Facts, Heatmap, Note, Panel, Table
from fl.tools.explore import svg
from fl.tools.explore.view import RunView

#: a run's page, in its run folder
PAGE = "explorer.html"

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2125;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:12px 20px}header h1{font-size:18px;margin:0}
header .sub{font-size:13px;opacity:.8}nav{background:#fff;border-bottom:1px solid #dde;padding:6px 20px;
position:sticky;top:0;z-index:2}nav a{margin-right:14px;color:#1d4e89;text-decoration:none;font-size:14px}
main{padding:10px 20px 40px}section{background:#fff;border:1px solid #dde;border-radius:6px;margin:14px 0;padding:10px 16px}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;font-size:13px;margin:6px 0 12px;width:100%}
th,td{border-bottom:1px solid #e6e8eb;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f0f2f5}
caption{text-align:left;font-size:12px;color:#555;padding:2px 0}tr.clickable{cursor:pointer}tr.clickable:hover{background:#eef4ff}
tr.open{background:#e4eeff}.ok{color:#137333;font-weight:600}.bad{color:#b3261e;font-weight:600}.warn{color:#8a5a00}
code.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#34495e}
dl{display:grid;grid-template-columns:max-content auto;gap:3px 14px;font-size:13px;margin:4px 0}dt{color:#555}dd{margin:0}
.note{font-size:13px;padding:6px 10px;border-radius:4px;margin:6px 0;background:#eef3f8}.note.warn{background:#fff4d6}
.note.error{background:#fde7e4;color:#8c1d14}.banner{padding:10px 20px;font-size:14px}.banner.warn{background:#fff4d6}
.banner.error{background:#fde7e4;color:#8c1d14}.banner.live{background:#e3f4e8}.charts{display:flex;flex-wrap:wrap;gap:12px}
.detail{border-left:3px solid #7aa7e0;padding:4px 0 4px 12px;margin:6px 0 12px}.detail h3{font-size:14px;margin:4px 0}
svg .title{font-size:13px;font-weight:600;text-anchor:middle}svg .heading{font-size:13px;font-weight:600}svg .tick{font-size:10px;fill:#555}
svg .axis{stroke:#888}svg .grid{stroke:#eee}svg .axis-label{font-size:11px;fill:#333}svg .legend{font-size:11px}
svg .empty{font-size:12px;fill:#999;text-anchor:middle}svg .blank{fill:#f3f3f3}svg .cell{font-size:9px}
footer{font-size:12px;color:#666;padding:0 20px 20px}
"""

#: clicking a row shows or hides its detail block; the live page asks the server for its version
SCRIPT = """
document.addEventListener('click', function (ev) {
  var row = ev.target.closest('tr[data-detail]');
  if (!row) return;
  var box = document.getElementById(row.dataset.detail);
  if (!box) return;
  box.hidden = !box.hidden; row.classList.toggle('open', !box.hidden);
  if (!box.hidden) box.scrollIntoView({block: 'nearest'});
});
"""

LIVE_SCRIPT = """
(function () {
  var version = %(version)s, failures = 0;
  function open() { return Array.prototype.map.call(document.querySelectorAll('.detail:not([hidden])'),
                                                    function (d) { return d.id; }).join(','); }
  var keep = sessionStorage.getItem('explorer-open');
  if (keep) keep.split(',').forEach(function (id) { var d = document.getElementById(id); if (d) d.hidden = false; });
  function poll() {
    fetch('/version', {cache: 'no-store'}).then(function (r) { return r.json(); }).then(function (v) {
      failures = 0;
      if (v.version !== version) { sessionStorage.setItem('explorer-open', open()); location.reload(); }
      else setTimeout(poll, 1000);
    }).catch(function () {
      failures += 1;
      var banner = document.getElementById('live-banner');
      if (failures > 2 && banner) { banner.className = 'banner warn';
        banner.textContent = 'The explorer server stopped: this is the last state it served (the run folder holds explorer.html).'; }
      else setTimeout(poll, 1000);
    });
  }
  setTimeout(poll, 1000);
})();
"""


def _cell(value) -> str:
    if isinstance(value, Cell):
        text = value.text
        if value.style == "hash":
            short = text if len(text) <= 14 else f"{text[:8]}…{text[-4:]}"
            return f'<code class="hash" title="{escape(value.title)}" data-full="{escape(text)}">{escape(short)}</code>'
        title = f' title="{escape(value.title)}"' if value.title else ""
        style = f' class="{escape(value.style)}"' if value.style else ""
        return f"<span{style}{title}>{escape(text)}</span>"
    return escape(str(value))


def _table(t: Table) -> str:
    ident = f' id="{escape(t.id)}"' if t.id else ""
    out = [f"<table{ident}>"]
    if t.caption:
        out.append(f"<caption>{escape(t.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in t.columns) + "</tr></thead><tbody>")
    for index, row in enumerate(t.rows):
        detail = t.details[index] if index < len(t.details) else None
        attrs = f' class="clickable" data-detail="{escape(detail)}"' if detail else ""
        out.append(f"<tr{attrs}>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
    if not t.rows:
        out.append(f'<tr><td colspan="{len(t.columns)}" class="warn">none</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def block(b: Block) -> str:
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Chart):
        return svg.chart(b.title, b.x_label, b.y_label, b.series, b.kind, b.id)
    if isinstance(b, Heatmap):
        caption = f"<div class='note'>{escape(b.caption)}</div>" if b.caption else ""
        return f"<div>{svg.heatmap(b.title, b.row_labels, b.column_labels, b.values, b.id)}{caption}</div>"
    if isinstance(b, Facts):
        ident = f' id="{escape(b.id)}"' if b.id else ""
        return f"<dl{ident}>" + "".join(f"<dt>{escape(k)}</dt><dd>{_cell(v)}</dd>" for k, v in b.items) + "</dl>"
    if isinstance(b, Note):
        return f'<div class="note {escape(b.level)}">{escape(b.text)}</div>'
    if isinstance(b, Detail):
        return (f'<div class="detail" id="{escape(b.id)}" hidden><h3>{escape(b.title)}</h3>'
                + "".join(block(x) for x in b.blocks) + "</div>")
    raise TypeError(f"unknown block {type(b).__name__}")


def _panel(p: Panel) -> str:
    """The panel's blocks in order, consecutive charts and heat maps side by side."""
    parts, row = [], []
    for b in [*p.blocks, None]:
        if isinstance(b, (Chart, Heatmap)):
            row.append(block(b))
            continue
        if row:
            parts.append(f'<div class="charts">{"".join(row)}</div>')
            row = []
        if b is not None:
            parts.append(block(b))
    return f'<section id="{escape(p.id)}"><h2>{escape(p.title)}</h2>{"".join(parts)}</section>'


def _document(title: str, subtitle: str, banners: list[tuple[str, str, str]], panels: list[Panel], script: str) -> str:
    nav = "".join(f'<a href="#{escape(p.id)}">{escape(p.title)}</a>' for p in panels)
    banner_html = "".join(f'<div class="banner {escape(level)}"{f" id={chr(34)}{ident}{chr(34)}" if ident else ""}>'
                          f"{escape(text)}</div>" for level, text, ident in banners)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f'<body><header><h1>{escape(title)}</h1><div class="sub">{escape(subtitle)}</div></header>'
            f'{banner_html}<nav>{nav}</nav><main>{"".join(_panel(p) for p in panels)}</main>'
            f'<footer>OnChainFL explorer, written {time.strftime("%Y-%m-%d %H:%M:%S")}</footer>'
            f"<script>{script}</script></body></html>")


def banners(view: RunView) -> list[tuple[str, str, str]]:
    out = []
    if view.live:
        finalized = sum(1 for r in view.rounds if r.finalized)
        out.append(("live", f"Live: {finalized} of {view.cfg.train.rounds} rounds finalized; this page refreshes as "
                            "rounds finish.", "live-banner"))
    if view.chain_error:
        out.append(("warn", f"The chain could not be read ({view.chain_error}). This page shows what the run folder "
                            "holds; nothing was cross-checked against the chain.", "chain-banner"))
    elif view.verified is False:
        out.append(("error", "verify FAILED: see the Verify panel for the failing rounds and checks.", "verify-banner"))
    return out


def render(view: RunView, version: int | None = None) -> str:
    """The page of one run; `version` (the live server's) makes it poll for a newer one."""
    from fl.tools.explore.run_panels import panels

    script = SCRIPT + (LIVE_SCRIPT % {"version": version} if version is not None else "")
    return _document(f"OnChainFL explorer: {view.name}", str(view.run), banners(view), panels(view), script)


def render_many(views: list[RunView], pages: dict[str, str]) -> str:
    """Several runs side by side: a table of each run's results and verify verdict, and their curves
    overlaid. `pages`: run name -> the relative link to its own page."""
    from fl.tools.explore.run_panels import verdict_cell

    rows = []
    for v in views:
        s = v.summary or {}
        link = pages.get(v.name)
        rows.append([Cell(v.name, str(v.run)), v.cfg.algorithm.name, v.cfg.data.name,
                     sum(1 for r in v.rounds if r.finalized or r.metrics),
                     f"{100 * s['final_accuracy']:.2f} %" if "final_accuracy" in s else "",
                     f"{v.total_gas:,}", f"{s.get('total_seconds', 0):.1f} s" if s else "", verdict_cell(v),
                     Cell(link or "", link or "")])
    table = Table(["run", "algorithm", "data", "rounds", "final accuracy", "total gas", "time of rounds", "verify", "page"],
                  rows, id="compare-table")

    def curve(value):
        return {v.name: [(r.round, value(r)) for r in v.rounds if r.metrics is not None] for v in views}

    compare = Panel("compare", "Runs side by side", [
        Chart("test accuracy", "round", "%", curve(lambda r: 100 * r.metrics.test_accuracy), id="compare-accuracy"),
        Chart("gas per round", "round", "gas", {v.name: [(r.round, r.gas if v.history else r.metrics.gas if r.metrics else 0)
                                                         for r in v.rounds] for v in views}, id="compare-gas"),
        Chart("seconds per round", "round", "s", curve(lambda r: r.metrics.seconds), id="compare-time"),
        table])
    notes = [("warn", f"{v.name}: the chain could not be read ({v.chain_error}); its figures are the run folder's", "")
             for v in views if v.chain_error]
    html = _document("OnChainFL explorer: runs side by side", ", ".join(v.name for v in views), notes, [compare], SCRIPT)
    for v in views:  # the page column links each run's own page
        link = pages.get(v.name)
        if link:
            html = html.replace(f"<span title=\"{escape(link)}\">{escape(link)}</span>", f'<a href="{escape(link)}">open</a>')
    return html


def write(html: str, target: Path) -> Path:
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(html)
    tmp.replace(target)
    return target
