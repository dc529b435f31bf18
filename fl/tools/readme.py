"""Regenerated tables in README.md live between `<!-- name:begin -->` and `<!-- name:end -->`."""
from __future__ import annotations

from pathlib import Path

from fl.core.errors import UserError
from fl.core.paths import ROOT

README = ROOT / "README.md"


def replace_section(name: str, text: str, path: Path = README) -> None:
    """Put `text` between the markers of section `name` in `path`, in place of what was there."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    content = path.read_text()
    if begin not in content or end not in content:
        raise UserError(f"{path} has no {begin} ... {end} markers to write the {name} table between")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text.rstrip()}\n{end}{tail}")
