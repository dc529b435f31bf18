"""The partition report of a run: label counts per client as a text table and a PNG heat map."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def table(counts: np.ndarray) -> str:
    """One row per client (its label counts and total), a header of class ids, a total row."""
    clients, classes = counts.shape
    width = max(len(str(int(counts.sum()))), len(str(classes - 1)), 5)
    header = "client".rjust(6) + "".join(f"{c:>{width + 1}}" for c in range(classes)) + "total".rjust(width + 2)
    rows = [f"{client:>6}" + "".join(f"{int(n):>{width + 1}}" for n in counts[client]) + f"{int(counts[client].sum()):>{width + 2}}"
            for client in range(clients)]
    total = "total".rjust(6) + "".join(f"{int(n):>{width + 1}}" for n in counts.sum(0)) + f"{int(counts.sum()):>{width + 2}}"
    return "\n".join([header, *rows, total]) + "\n"


def heat_map(counts: np.ndarray, target: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clients, classes = counts.shape
    fig, ax = plt.subplots(figsize=(min(2 + 0.35 * classes, 30), min(1.5 + 0.3 * clients, 30)))
    image = ax.imshow(counts, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set(xlabel="class", ylabel="client", title=title)
    if classes <= 50:
        ax.set_xticks(range(classes))
    if clients <= 50:
        ax.set_yticks(range(clients))
    fig.colorbar(image, ax=ax, label="training samples")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return target


def write(folder: Path, counts: np.ndarray, title: str) -> tuple[Path, Path]:
    """partition.txt and partition.png in `folder`."""
    text = Path(folder) / "partition.txt"
    text.write_text(f"{title}\nlabel counts per client (rows) and class (columns)\n\n{table(counts)}")
    return text, heat_map(counts, Path(folder) / "partition.png", title)
