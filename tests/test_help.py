"""The user guide is one click away on every page (docs/user-guide.md rendered in the app)."""
from __future__ import annotations

from pathlib import Path

from tests.fixtures import log_in, make_user

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "user-guide.md"


def test_every_page_links_to_the_user_guide_and_it_renders(client, world):
    log_in(client, make_user("clerk", world.village_a1), lang="zh_Hans_CN")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/help"' in home and "使用说明" in home
    page = client.get("/help")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    # the guide's own headings, as HTML (not Markdown source)
    assert "<h2>村级录入员（clerk）</h2>" in body and "## " not in body
    assert "<strong>登记农户</strong>" in body
    first_heading = next(line for line in GUIDE.read_text(encoding="utf-8").splitlines()
                         if line.startswith("# "))
    assert f"<h1>{first_heading[2:]}</h1>" in body


def test_the_guide_says_it_is_in_chinese_to_english_readers(client, world):
    log_in(client, make_user("finance", world.county), lang="en")
    body = client.get("/help").get_data(as_text=True)
    assert "written in Chinese" in body and "Help" in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/help").status_code == 302


def test_lines_wrapped_in_chinese_text_show_no_space(client, world):
    """The guide's source wraps long Chinese lines; 提示\\n   已登记 must not read 提示 已登记."""
    source = GUIDE.read_text(encoding="utf-8")
    assert "重复时会提示\n   已登记的村" in source  # the wrap this test is about
    log_in(client, make_user("clerk", world.village_a1), lang="zh_Hans_CN")
    body = client.get("/help").get_data(as_text=True)
    assert "重复时会提示已登记的村" in body
