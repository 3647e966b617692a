"""The page furniture written once (templates/_macros/page.html): the breadcrumb trail and the POST
buttons that ask before they act, and a guard that no template writes either by hand again."""
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask, render_template_string, session
from flask_babel import refresh

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
IMPORT = '{% from "_macros/page.html" import crumbs, post_button, confirmed_form %}'


def render(app: Flask, source: str, **context: Any) -> str:
    with app.test_request_context("/households/7?tab=1"):
        return render_template_string(IMPORT + source, **context)


def area(id_: int, level: str, name: str, parent_id: int | None = None) -> SimpleNamespace:
    return SimpleNamespace(id=id_, level=level, name=name, parent_id=parent_id)


def test_crumbs_link_each_area_into_the_filtered_list(app):
    county, town, village = area(1, "county", "东县"), area(2, "township", "西山乡", 1), area(3, "village", "李村", 2)
    html = render(app, "{{ crumbs([('Households', '/households/')], areas=[county, town, village], "
                       "area_link='households.index', current='Case 7') }}",
                  county=county, town=town, village=village)
    assert html.startswith('<nav class="crumbs" aria-label="当前位置">')  # Chinese by default and html.endswith("</nav>")
    assert html.count(" › ") == 4  # five crumbs, one separator between each two
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', html) == [
        ("/households/", "Households"),
        ("/households/?township=2", "西山乡"),
        ("/households/?township=2&amp;village=3", "李村")]
    assert " › 东县 › " in html  # the list does not filter by county: plain text
    assert html.endswith(" › Case 7</nav>")  # the page itself, last and not a link


def test_crumbs_plain_areas_skip_missing_and_take_another_separator(app):
    town = area(2, "township", "西山乡", 1)
    html = render(app, "{{ crumbs([('Notices', '/publicity/')], areas=[town, None]) }}"
                       "{{ crumbs([('Case 7', '/households/7'), ('My visits', '/visits')], sep='·') }}",
                  town=town)
    first, second = html.split("</nav>")[:2]
    assert first.endswith('<a href="/publicity/">Notices</a> › 西山乡')  # no link, no crumb for None
    assert second.endswith('<a href="/households/7">Case 7</a> · <a href="/visits">My visits</a>')


def test_crumbs_label_is_translated(app):
    for lang, label in (("zh_Hans_CN", "当前位置"), ("en", "Breadcrumb")):
        with app.test_request_context("/"):
            session["lang"] = lang
            refresh()  # the app context (and its cached locale) outlives each request here
            html = render_template_string(IMPORT + "{{ crumbs(current='x') }}")
        assert f'<nav class="crumbs" aria-label="{label}">x</nav>' == html


def test_post_button_carries_csrf_confirmation_hidden_fields_and_reason(app):
    html = render(app, "{{ post_button('/batches/4/drop', 'Drop batch', confirm='Drop it? \"All\" of it.', "
                       "class_='danger', hidden={'page': 2}, reason='Reason', size=10, title='why not') }}")
    form = re.fullmatch(r'<form method="post" action="/batches/4/drop" class="inline" '
                        r'data-confirm="([^"]+)">(.*)</form>', html, re.S)
    assert form, html
    assert form.group(1) == "Drop it? &#34;All&#34; of it."  # escaped, the JS reads it back intact
    inner = form.group(2)
    token = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', inner)
    assert token and len(token.group(1)) > 20
    assert '<input type="hidden" name="page" value="2">' in inner
    assert ('<input type="text" name="reason" required maxlength="500" size="10" placeholder="Reason" '
            'aria-label="原因">') in inner  # the box's label: "Reason" in the reader's language
    assert inner.rstrip().endswith('<button type="submit" class="danger" title="why not">Drop batch</button>')
    assert inner.index("csrf_token") < inner.index('name="page"') < inner.index('name="reason"') < inner.index("<button")


def test_post_button_without_confirmation_or_reason_is_a_bare_button(app):
    html = render(app, "{{ post_button('/admin/users/3/unlock', 'Unlock', form_class='action-form') }}")
    assert "data-confirm" not in html and 'type="text"' not in html and "title=" not in html
    assert html.startswith('<form method="post" action="/admin/users/3/unlock" class="action-form">')
    assert re.search(r'name="csrf_token"[^>]*>\s*<button type="submit">Unlock</button>\s*</form>$', html)


def test_post_button_optional_note(app):
    html = render(app, "{{ post_button('/c/1/approve', 'Approve', reason='Note', reason_name='note', "
                       "reason_label='Note', reason_required=false, maxlength=200) }}")
    assert '<input type="text" name="note" maxlength="200" placeholder="Note" aria-label="Note">' in html


def test_confirmed_form_wraps_the_callers_fields(app):
    html = render(app, "{% call confirmed_form(None, 'Send?', class_='case-form', novalidate=true) %}"
                       "<input name=\"bank\">{% endcall %}"
                       "{% call confirmed_form('/bank.csv', None, method='get') %}<button>CSV</button>{% endcall %}")
    posted, got = html.split("</form>")[:2]
    assert posted.startswith('<form method="post" class="case-form" novalidate data-confirm="Send?">')
    assert "action=" not in posted  # no action: the form posts to the page's own URL, query string kept
    assert 'name="csrf_token"' in posted and '<input name="bank">' in posted
    assert got.startswith('<form method="get" action="/bank.csv" class="inline">')
    assert "csrf_token" not in got and "data-confirm" not in got  # a GET carries no token; no question asked


HAND_WRITTEN = {
    "breadcrumb": re.compile(r'class="crumbs"|aria-label="breadcrumb"|&rsaquo;|›', re.I),
    "confirmation": re.compile(r"data-confirm=|onsubmit=|confirm\(", re.I),
}


def test_no_template_hand_writes_a_breadcrumb_or_a_confirmation():
    """Breadcrumbs and confirmed forms come from templates/_macros/page.html only (the per-button
    data-confirm-button of the inspection's pass / fail pair is a different, button-level question)."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.relative_to(TEMPLATES).as_posix() == "_macros/page.html":
            continue
        text = path.read_text(encoding="utf-8").replace("data-confirm-button=", "")
        for what, pattern in HAND_WRITTEN.items():
            found += [f"{path.relative_to(TEMPLATES)}: {what}: {m.group(0)}" for m in pattern.finditer(text)]
    assert found == []
    assert len(list(TEMPLATES.rglob("*.html"))) > 40  # the walk did read the templates
