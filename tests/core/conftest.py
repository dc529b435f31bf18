"""Tests of fl/core/: they never touch the chain."""
import pytest


@pytest.fixture(autouse=True)
def isolation():
    """No chain snapshot and revert around these tests."""
