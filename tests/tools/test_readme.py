"""Regenerated README tables are written between their markers and nowhere else."""
import pytest

from fl.core.errors import UserError
from fl.tools.readme import replace_section


def test_section_is_replaced_between_its_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- t:begin -->\nold\n<!-- t:end -->\nrest\n")
    replace_section("t", "| new |", readme)
    assert readme.read_text() == "intro\n<!-- t:begin -->\n| new |\n<!-- t:end -->\nrest\n"


def test_missing_markers_are_a_clear_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(UserError, match="has no <!-- t:begin --> ... <!-- t:end --> markers"):
        replace_section("t", "x", readme)
