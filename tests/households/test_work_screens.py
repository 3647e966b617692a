"""The screens of everyday case work: the home page's true counts and its link to the full
queue (oldest waiting first), the case page's action row (one reason box per move that needs
one) and the return reason shown where the clerk looks (top of the case, the returned list)."""
from __future__ import annotations

import html
import re

from heating.extensions import db
from heating.households import services
from tests.fixtures import log_in, make_case, make_user

LIST_IDS = re.compile(r'<tr>\s*<td><a href="/households/(\d+)">\1</a>')
FORM = re.compile(r'<form method="post" action="/households/\d+/do/(\w+)"([^>]*)>(.*?)</form>',
                  re.S)


def _forms(body: str) -> dict[str, tuple[str, str]]:
    """action → (opening-tag attributes, inner HTML) of each lifecycle form on the page."""
    return {action: (attrs, inner) for action, attrs, inner in FORM.findall(body)}


def _returned(world, clerk, reviewer, *reasons: str):
    """A case returned once per reason (resubmitted in between), the last reason latest."""
    hh = make_case(world.village_a1, clerk, state="submitted", head_name="退回户")
    for n, reason in enumerate(reasons):
        if n:
            hh.state = "submitted"  # the clerk's fixes and resubmission, not under test here
        services.transition(hh, "return", reviewer, reason)
        db.session.commit()
    return hh


def test_reviewer_home_says_the_true_count_and_links_to_the_whole_queue_oldest_first(
        app, client, world):
    clerk = make_user("clerk", world.village_a1)
    waiting = [make_case(world.village_a1 if n % 2 else world.village_a2, clerk,
                         state="submitted").id for n in range(53)]
    make_case(world.village_a1, clerk)  # a draft: not waiting for the reviewer
    make_case(world.village_b1, make_user("clerk", world.village_b1), state="submitted")
    log_in(client, make_user("reviewer", world.town_a))
    body = client.get("/").get_data(as_text=True)
    assert 'Waiting for my review <span class="count">53</span>' in body
    assert "The first 50 of 53 are shown." in body
    # the home table itself starts with the longest waiting
    assert LIST_IDS.findall(body)[:2] == [str(waiting[0]), str(waiting[1])]
    link = html.unescape(re.search(r'href="(/households/\?[^"]*)">Show all 53 \(oldest first\)',
                                   body).group(1))
    assert "state=submitted" in link and "order=oldest" in link
    app.config["PAGE_SIZE"] = 20
    seen, url = [], link
    while url:
        page = client.get(url).get_data(as_text=True)
        assert "53 found" in page
        seen += [int(i) for i in LIST_IDS.findall(page)]
        nxt = re.search(r'href="(/households/\?[^"]*after=\d+[^"]*)"', page)
        url = html.unescape(nxt.group(1)) if nxt else None
    assert seen == sorted(waiting)  # oldest first, every case once, over keyset pages


def test_household_list_newest_first_by_default(client, world):
    clerk = make_user("clerk", world.village_a1)
    ids = [make_case(world.village_a1, clerk).id for _ in range(3)]
    log_in(client, clerk)
    newest = client.get("/households/").get_data(as_text=True)
    assert [int(i) for i in LIST_IDS.findall(newest)] == ids[::-1]
    oldest = client.get("/households/?order=oldest").get_data(as_text=True)
    assert [int(i) for i in LIST_IDS.findall(oldest)] == ids
    odd = client.get("/households/?order=sideways")
    assert odd.status_code == 200
    assert [int(i) for i in LIST_IDS.findall(odd.get_data(as_text=True))] == ids[::-1]


def test_clerk_home_counts_beyond_fifty(client, world):
    clerk = make_user("clerk", world.village_a1)
    for _ in range(51):
        make_case(world.village_a1, clerk)
    log_in(client, clerk)
    body = client.get("/").get_data(as_text=True)
    assert 'My drafts <span class="count">51</span>' in body
    assert "Show all 51" in body


def test_action_row_one_reason_box_per_move_attached_to_its_button(client, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="submitted")
    log_in(client, make_user("reviewer", world.town_a))
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    forms = _forms(body)
    assert set(forms) == {"approve", "return", "withdraw", "cancel"}
    approve_attrs, approve = forms["approve"]
    assert 'name="reason"' not in approve  # approving needs no reason: no box
    assert "data-confirm=" in approve_attrs  # …but a confirmation
    labels = {"return": "Reason for returning (required)",
              "withdraw": "Reason for withdrawal (required)",
              "cancel": "Reason for cancellation (required)"}
    buttons = {"return": "Return to village", "withdraw": "Withdraw case",
               "cancel": "Cancel case"}
    for action, label in labels.items():
        attrs, inner = forms[action]
        assert inner.count('name="reason"') == 1, action
        box = re.search(r'<label for="([\w-]+)">([^<]+)</label>', inner)
        assert box.group(2) == label
        assert f'id="{box.group(1)}"' in inner  # the label is the box's own
        assert f">{buttons[action]}</button>" in inner  # the button sits in the same form
    assert "data-confirm=" in forms["withdraw"][0] and "data-confirm=" in forms["cancel"][0]
    # the reason boxes come after the approve button's row, not between it and its neighbour
    assert body.index("/do/approve") < body.index('class="reason-actions"')
    assert "Reason (required)" not in body


def test_action_row_in_chinese_names_each_reason(client, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="submitted")
    log_in(client, make_user("reviewer", world.town_a), lang="zh_Hans_CN")
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    for label in ("退回原因（必填）", "撤销原因（必填）", "注销原因（必填）"):
        assert body.count(label) == 1
    assert "原因（必填）\"" not in body  # no anonymous placeholder box left


def test_returned_case_shows_its_latest_reason_at_the_top(client, world):
    clerk = make_user("clerk", world.village_a1)
    reviewer = make_user("reviewer", world.town_a)
    hh = _returned(world, clerk, reviewer, "旧原因：缺身份证复印件", "银行卡户名与户主不一致")
    for user in (clerk, reviewer):
        log_in(client, user)
        body = client.get(f"/households/{hh.id}").get_data(as_text=True)
        top = body[:body.index('<div class="actions">')]
        assert "Returned by the township. Reason:" in top
        assert "银行卡户名与户主不一致" in top and "旧原因" not in top
    # once resubmitted the box is gone (the timeline keeps the history)
    hh.state = "submitted"
    db.session.commit()
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert "Returned by the township. Reason:" not in body and "银行卡户名与户主不一致" in body


def test_returned_lists_have_a_reason_column(client, world):
    clerk = make_user("clerk", world.village_a1)
    reviewer = make_user("reviewer", world.town_a)
    hh = _returned(world, clerk, reviewer, "旧原因：缺身份证复印件", "银行卡户名与户主不一致")
    other = _returned(world, clerk, reviewer, "缺少签字")
    log_in(client, clerk, lang="zh_Hans_CN")
    home = client.get("/").get_data(as_text=True)
    section = home[home.index("退回给我的"):home.index("我的草稿")]
    assert "<th>退回原因</th>" in section
    assert "银行卡户名与户主不一致" in section and "缺少签字" in section
    assert "旧原因" not in section
    listed = client.get("/households/?state=returned").get_data(as_text=True)
    assert "<th>退回原因</th>" in listed
    assert "银行卡户名与户主不一致" in listed and "缺少签字" in listed and "旧原因" not in listed
    assert "<th>退回原因</th>" not in client.get("/households/").get_data(as_text=True)
    assert hh.id != other.id
