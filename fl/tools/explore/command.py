"""`python -m fl explore RUN...`: write each run's page (RUN/explorer.html) and, for several runs,
one page that puts them side by side."""
from __future__ import annotations

import os
from pathlib import Path

from fl.core.errors import UserError
from fl.tools.explore.page import PAGE, render, render_many, write
from fl.tools.explore.view import check_run_folder, read_run

COMPARE_PAGE = Path("runs") / PAGE


def explore(runs: list[str], out: str | None = None, metrics: bool = True, log=print) -> list[Path]:
    """The pages written: each run's, then (for several runs) the side-by-side page at `out`
    (default runs/explorer.html). Every folder is checked before anything is written."""
    folders = [Path(r) for r in runs]
    for folder in folders:
        check_run_folder(folder)
    if len({f.resolve() for f in folders}) != len(folders):
        raise UserError("a run is named twice; name each run folder once")
    if out is not None and len(folders) == 1 and not out.endswith(".html"):
        raise UserError(f"--out {out!r}: the page is an HTML file; name it ….html")
    views, written = [], []
    for folder in folders:
        log(f"explorer: reading {folder} (its chain, and verify's checks)")
        view = read_run(folder, metrics=metrics, progress=True)
        if view.chain_error:
            log(f"explorer: the chain of {folder} could not be read ({view.chain_error}); the page shows the run folder only")
        target = Path(out) if out and len(folders) == 1 else folder / PAGE
        written.append(write(render(view), target))
        views.append(view)
        log(f"explorer: {target}")
    if len(folders) > 1:
        target = Path(out) if out else COMPARE_PAGE
        target.parent.mkdir(parents=True, exist_ok=True)
        links = {v.name: os.path.relpath(page, target.parent) for v, page in zip(views, written)}
        written.append(write(render_many(views, links), target))
        log(f"explorer: {target} (the runs side by side)")
    return written
