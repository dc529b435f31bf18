"""What a panel of the experiment explorer (`python -m fl explore`) holds: plain data that the
explorer renders into HTML and SVG (fl/tools/explore/page.py). The run's own panels (overview,
rounds, clients) and each on-chain mechanism's panel (`Feature.panel`) are built from these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, a tooltip, and a style: "ok", "bad", "warn", "hash" (monospace, shortened)."""
    text: str
    title: str = ""
    style: str = ""


def hash_cell(value: str | None, title: str = "") -> Cell:
    """A hash or address, shown shortened, whole in its tooltip and in the page's text."""
    return Cell(value or "", title or (value or ""), "hash")


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Union[Cell, str, int, float]]]
    caption: str = ""
    #: the table's HTML id (tests and links find it by this)
    id: str = ""
    #: per row, the HTML id of a hidden detail block a click on the row shows (None: no detail)
    details: list[str | None] = field(default_factory=list)


@dataclass
class Heatmap:
    """A matrix of numbers shown as colours (e.g. a committee's scores: members × candidates)."""
    title: str
    row_labels: list[str]
    column_labels: list[str]
    values: list[list[float | None]]  # None: no value (a member does not score itself)
    caption: str = ""
    id: str = ""


@dataclass
class Chart:
    """Line (or bar) series over rounds."""
    title: str
    x_label: str
    y_label: str
    series: dict[str, list[tuple[float, float]]]
    kind: str = "line"  # "line" or "bar"
    id: str = ""


@dataclass
class Facts:
    """Labelled values, one per line."""
    items: list[tuple[str, Union[Cell, str]]]
    id: str = ""


@dataclass
class Note:
    text: str
    level: str = "info"  # "info", "warn" or "error"


@dataclass
class Detail:
    """A block hidden until its row is clicked (a round's commitments)."""
    id: str
    title: str
    blocks: list["Block"]


Block = Union[Table, Heatmap, Chart, Facts, Note, Detail]


@dataclass
class Panel:
    """One section of the page. `client_columns` adds columns to the Clients panel
    (column -> client id -> value), e.g. a reward balance or committee memberships."""
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    client_columns: dict[str, dict[int, Union[Cell, str]]] = field(default_factory=dict)


@dataclass
class PanelSource:
    """What a panel is built from: the run folder and, where it could be read, the run's chain."""
    run: Path
    cfg: Any  # fl.core.config.ExperimentConfig
    info: dict[str, Any]  # chain.json
    summary: dict[str, Any] | None  # summary.json (None while the run is going)
    history: Any  # fl.chain.history.ChainHistory, or None when the chain could not be read
    clients: dict[int, str]  # client id -> address
    #: round -> (first block, last block) of its transactions
    round_blocks: dict[int, tuple[int, int]] = field(default_factory=dict)

    def client_of(self, address: str) -> str:
        """`client N` for a registered client's address, else the address."""
        for client_id, known in self.clients.items():
            if known.lower() == str(address).lower():
                return f"client {client_id}"
        return str(address)

    def round_of_block(self, block: int) -> int | None:
        for round_, (first, last) in self.round_blocks.items():
            if first <= block <= last:
                return round_
        return None
