"""Where the project's own folders are: the checkout this package runs from."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
