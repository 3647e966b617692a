from pathlib import Path

from heating.households.lifecycle import activities_table, diagram


def test_lifecycle_doc_is_generated_from_the_table():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text()
    assert diagram() in doc


def test_activities_by_state_doc_is_generated_from_the_table():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text()
    assert activities_table() in doc
