"""A file with the ledger's 状态 (state) column: rows naming a withdrawn (撤销) or cancelled
(注销) case — by Chinese label, with 已, by English label or code — are skipped, never
imported and left out of the duplicate checks; other states import as usual, and a file
without the column is read as before."""
from __future__ import annotations

import pytest

from heating.households import imports
from heating.households.imports import rules
from tests.fixtures import make_case, make_user
from tests.imports.helpers import grid, row, xlsx

HEADERS = rules.TEMPLATE_HEADERS + ("状态",)
SKIPPED = "This case was withdrawn or cancelled (%(state)s): it is not imported."


@pytest.fixture
def clerk(world):
    return make_user("clerk", world.village_a1)


def parse(user, rows, headers=HEADERS):
    return imports.parse(xlsx(grid(rows, headers=headers)), user)


@pytest.mark.parametrize("word", ["撤销", "已撤销", "注销", "已注销", " 注 销 ", "withdrawn",
                                  "Cancelled", "CANCELLED"])
def test_closed_states_are_skipped(clerk, word):
    parsed = parse(clerk, [row(1, 状态=word), row(2, 状态="草稿"), row(3)])
    skipped, draft, blank = parsed.rows
    assert skipped.status == "skipped" and not skipped.importable
    assert [p["m"] for p in skipped.problems + skipped.warnings] == [SKIPPED]
    assert skipped.id_masked and skipped.name == row(1)["户主姓名"]
    assert (draft.status, blank.status) == ("new", "new")
    assert [r.number for r in parsed.importable] == [3, 4]


def test_a_skipped_row_is_checked_for_nothing_else(clerk):
    """Its cells may be as the case was when it closed (or incomplete): no errors about them,
    no duplicate of the same ID number later in the file, no shared-account warning."""
    first = row(1, 状态="撤销", 常住人口="", 改造类型="?")
    again = row(1)  # the same household, registered again
    parsed = parse(clerk, [first, again])
    skipped, new = parsed.rows
    assert skipped.status == "skipped" and skipped.problems == []
    assert new.status == "new", new.problems + new.warnings


def test_a_skipped_row_is_not_a_duplicate_of_an_active_case(clerk, world):
    active = make_case(world.village_a1, clerk, id_number=row(1)["身份证号"])
    (r,) = parse(clerk, [row(1, 状态="已撤销")]).rows
    assert r.status == "skipped" and active.id  # not "duplicate": it is reported as closed


def test_other_states_and_files_without_the_column_are_unchanged(clerk):
    parsed = parse(clerk, [row(n, 状态=s) for n, s in enumerate(["已安装", "验收通过", ""], 1)])
    assert [r.status for r in parsed.rows] == ["new", "new", "new"]
    parsed = parse(clerk, [row(1)], headers=rules.TEMPLATE_HEADERS)
    assert parsed.rows[0].status == "new" and "state" not in parsed.columns


def test_the_template_has_no_state_column():
    assert "状态" not in rules.TEMPLATE_HEADERS
