"""Where the project's own files are: everything the code finds beside itself is under ROOT."""
from __future__ import annotations

from pathlib import Path

#: the repository: the folder holding fl/, configs/, contracts/, README.md
ROOT = Path(__file__).resolve().parents[2]
