"""Chinese first: the catalog is complete, covers every string in the code, and is used."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.fixtures import log_in, make_user

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "heating" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _catalog():
    with PO.open("rb") as f:
        return read_po(f)


def test_catalog_is_complete():
    untranslated = [m.id for m in _catalog() if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_catalog_covers_every_string_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_pgettext:1c,2",
                    # Babel's default would skip folders starting with "_": templates/_macros
                    "--ignore-dirs", ".*", "-o", str(pot), str(ROOT)],
                   check=True, cwd=ROOT, capture_output=True)
    # (context, id): one English word may need two Chinese ones ("Failed": 不通过 for an
    # inspection, 发放失败 for a payment), told apart by a pgettext context
    with pot.open("rb") as f:
        wanted = {(m.context or "", m.id) for m in read_po(f) if m.id}
    have = {(m.context or "", m.id) for m in _catalog() if m.id}
    assert sorted(wanted - have, key=str) == []
    assert ("", "Breadcrumb") in wanted  # a string only templates/_macros/page.html has


def test_default_language_is_simplified_chinese(client, world):
    body = client.get("/login").get_data(as_text=True)
    assert "登录" in body and 'lang="zh-CN"' in body
    client.get("/lang/en")
    body = client.get("/login").get_data(as_text=True)
    assert "Log in" in body and 'lang="en"' in body


def test_validation_messages_in_chinese(client, post, world):
    log_in(client, make_user("clerk", world.village_a1), lang="zh_Hans_CN")
    from tests.households.test_flow import form_data
    body = post("/households/new", form_data(world, id_number="110105194912310021")
                ).get_data(as_text=True)
    assert "校验" in body


#: one %-placeholder as Python's ``%`` operator reads it: ``%(name)s``, ``%d``, ``%.2f``, ``%%``
#: (the conversion is any character, so a bare ``%`` shows up as an unsupported one)
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                          r"[hlL]?(?P<conversion>.?)", re.S)
_CONVERSIONS = set("diouxXeEfFgGcrsa%")


def placeholders(text: str) -> tuple[list[str], list[str]]:
    """(placeholders as written, problems) of one message: ``%(n)d`` → ``(n)d``, ``%%`` → ``%``;
    a ``%`` Python's formatting would refuse (``发票金额比例（%）``) is a problem."""
    found, problems = [], []
    for m in _PLACEHOLDER.finditer(text):
        if m["conversion"] not in _CONVERSIONS or not m["conversion"]:
            problems.append(f"bare % at {m.start()}: {text[m.start():m.start() + 6]!r}")
        else:
            found.append(f"({m['name']}){m['conversion']}" if m["name"] is not None
                         else m["conversion"])
    if any(p.startswith("(") for p in found) and any(
            not p.startswith("(") and p != "%" for p in found):
        problems.append("named and positional placeholders mixed")
    return found, problems


def _named(found: list[str]) -> frozenset[str]:
    return frozenset(p[:p.index(")") + 1] for p in found if p.startswith("("))


def _positional(found: list[str]) -> list[str]:
    return [p.replace("i", "d") for p in found if not p.startswith("(") and p != "%"]


def placeholder_problems(msgids: tuple[str, ...], msgstr: str) -> list[str]:
    """What is wrong with one translation's placeholders (``msgids``: singular, plural)."""
    wanted, problems = placeholders(msgids[-1])[0], []
    for msgid in msgids:
        problems += [f"msgid: {p}" for p in placeholders(msgid)[1]]
    got, bad = placeholders(msgstr)
    problems += [f"msgstr: {p}" for p in bad]
    if _named(got) not in {_named(placeholders(m)[0]) for m in msgids}:
        problems.append(f"names {sorted(_named(got))} ≠ {sorted(_named(wanted))}")
    if _positional(got) != _positional(wanted):
        problems.append(f"positional {_positional(got)} ≠ {_positional(wanted)}")
    if "%" in got and not wanted:
        # a message without placeholders is %-formatted in templates only: a literal percent
        # sign must read the same either way, so write the full-width ％
        problems.append("%% in a message that is not %-formatted everywhere: write ％")
    return problems


CATALOGS = sorted((ROOT / "heating" / "translations").glob("*/LC_MESSAGES/messages.po"))


def test_catalogs_found():
    assert PO in CATALOGS


@pytest.mark.parametrize("po", CATALOGS, ids=[p.parent.parent.name for p in CATALOGS])
def test_placeholders_of_every_entry_match_its_msgid(po):
    """Templates %-format every message (Jinja's new-style gettext, even without variables),
    so one bare ``%`` in a translation is a 500 on every page showing it, in that language
    only.  Each entry keeps the msgid's placeholders: the same names, the same positional
    conversions in order, and no bare ``%``."""
    wrong = []
    with po.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if text:
                wrong += [f"{ids[0]!r}: {p}" for p in placeholder_problems(ids, text)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("msgid,msgstr,problems", [
    ("Share of the invoice (percent)", "发票金额比例（%）", 1),
    ("Share of the invoice (percent)", "发票金额比例（％）", 0),
    ("Share of the invoice (percent)", "发票金额比例（%%）", 1),
    ("%(n)d cases, %(total)s yuan", "%(n)d 户，共 %(total)s 元", 0),
    ("%(n)d cases, %(total)s yuan", "%(n)d 户", 1),
    ("%(n)d cases", "%(m)d 户", 1),
    ("%(rate)s%% of the invoice", "发票金额的 %(rate)s%%", 0),
    ("%(rate)s%% of the invoice", "发票金额的 %(rate)s%", 1),
    ("%s of %d", "%s / %i", 0),
    ("%s of %d", "%d / %s", 1),
    ("%(n)s and %s", "%(n)s 和 %s", 2),  # mixed, in msgid and in msgstr
    ("100%", "百分之百", 1),
])
def test_placeholder_check(msgid, msgstr, problems):
    assert len(placeholder_problems((msgid,), msgstr)) == problems
