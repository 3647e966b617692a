from pathlib import Path

from heating.households.lifecycle import diagram


def test_lifecycle_doc_is_generated_from_the_table():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text()
    assert diagram() in doc
