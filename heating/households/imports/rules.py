"""What a household file may contain: the columns and their header spellings, the words clerks
write for each choice, the registration form's bounds (read from its validators), portable
messages, and the uploader's villages by name.  Used by ``households.imports``."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from flask_babel import LazyString, force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.redact import redact
from heating.core.spreadsheet_read import header_key
from heating.extensions import db
from heating.households.forms import HouseholdForm
from heating.households.lifecycle import INACTIVE_STATES, STATES
from heating.households.models import PREVIOUS_HEATING

#: the device a conversion type starts with (the clerk corrects it on the case)
DEFAULT_DEVICE = {"gas": "gas_boiler", "electric": "heat_pump"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the template's header, exactly as the issue gives it
    required: bool
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("head_name", "户主姓名", True, ("户主", "姓名", "户主名称", "户主姓名(签字)")),
    Column("id_number", "身份证号", True, ("身份证号码", "户主身份证号", "户主身份证号码",
                                          "公民身份号码", "身份证", "身份证件号码")),
    Column("phone", "联系电话", True, ("手机号", "手机号码", "电话", "联系方式", "手机",
                                       "电话号码", "联系电话(手机)")),
    Column("township", "乡镇", False, ("乡镇(街道)", "乡镇/街道", "乡(镇)", "乡镇名称",
                                        "镇(乡)", "街道")),
    Column("village", "村", True, ("村(社区)", "村/社区", "行政村", "村名", "村庄", "村名称",
                                   "所在村", "村委会")),
    Column("address", "组/门牌号", False, ("门牌号", "组别/门牌号", "组/户号", "门牌",
                                           "组及门牌号", "组门牌号")),
    Column("residents", "常住人口", True, ("人口", "人口数", "常住人口(人)", "常住人口数",
                                           "家庭人口")),
    Column("heated_area", "供暖面积(平方米)", True, ("供暖面积", "取暖面积", "供暖面积(㎡)",
                                                   "供暖面积(m2)", "供暖面积(平米)",
                                                   "采暖面积", "采暖面积(平方米)")),
    Column("previous_heating", "原取暖方式", False, ("取暖方式", "原采暖方式")),
    Column("coal_stoves", "原燃煤炉具数", True, ("燃煤炉具数", "炉具数", "原燃煤炉具数(个)",
                                                "燃煤炉具数量", "炉具数量")),
    Column("conversion_type", "改造类型", True, ("改造方式", "改造类别", "类型")),
    Column("bank_name", "开户银行", False, ("开户行", "银行", "开户银行名称")),
    Column("bank_account", "银行账号", False, ("银行卡号", "账号", "社保卡号",
                                                "银行账号(社保卡号)", "银行账号/社保卡号",
                                                "卡号")),
    Column("account_holder", "账户名", False, ("户名", "账户名称", "开户人", "开户人姓名",
                                               "持卡人")),
    Column("low_income", "低保户", False, ("是否低保户", "低保/困难户", "低保", "是否低保",
                                           "低保困难户")),
)
#: read when a file has them, never in the template: the ledger export's 状态 (case state),
#: so that a re-uploaded ledger does not bring withdrawn and cancelled cases back as new ones
LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("state", "状态", False, ("案件状态",)),
)
TEMPLATE_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)
BY_KEY = {c.key: c for c in COLUMNS + LEDGER_COLUMNS}
ALIASES: dict[str, str] = {header_key(name): c.key for c in COLUMNS + LEDGER_COLUMNS
                           for name in (c.header, *c.aliases)}

CONVERSION_WORDS = {"煤改气": "gas", "气代煤": "gas", "燃气": "gas", "天然气": "gas", "气": "gas",
                    "gas": "gas", "煤改电": "electric", "电代煤": "electric", "电": "electric",
                    "electric": "electric"}
HEATING_ALIASES = {"散煤炉": "coal_stove", "燃煤炉": "coal_stove", "煤炉": "coal_stove",
                   "蜂窝煤炉": "coal_stove", "炉子": "coal_stove", "燃煤炉具": "coal_stove",
                   "土暖气": "coal_boiler", "燃煤锅炉": "coal_boiler", "小锅炉": "coal_boiler",
                   "火炕": "coal_kang", "燃煤火炕": "coal_kang", "炕": "coal_kang",
                   "其他": "other", "其它": "other"}
YES = {"是", "y", "yes", "true", "1", "√", "✓", "低保", "低保户", "有"}
NO = {"否", "n", "no", "false", "0", "×", "", "无", "不是", "非低保"}
#: footer lines under the table (signatures, stamps, dates, totals) are not households
FOOTER = re.compile(r"(填表人|填报人|制表人|审核人|审批人|负责人|经办人|联系人|村委会|盖章|"
                    r"日期|合计|总计|小计|备注|说明|^注[:：])")
FOOTER_CELLS = 4


# --- the form's rules, read from its validators -------------------------------------------------
def _validators(name: str) -> list[Any]:
    return list(getattr(HouseholdForm, name).kwargs.get("validators", ()))


def _required_message(name: str) -> Any:
    for v in _validators(name):
        if isinstance(v, (DataRequired, InputRequired)) and v.message:
            return v.message
    return _l("This field is required.")


def _range(name: str) -> tuple[Any, Any, Any]:
    v = next(v for v in _validators(name) if isinstance(v, NumberRange))
    return v.min, v.max, v.message


def _max_length(name: str) -> int:
    return next(v.max for v in _validators(name) if isinstance(v, Length))


@dataclass(frozen=True)
class Rules:
    residents: tuple[Any, Any, Any]
    heated_area: tuple[Any, Any, Any]
    coal_stoves: tuple[Any, Any, Any]
    programme_year: tuple[Any, Any, Any]
    lengths: dict[str, int]
    required: dict[str, Any]

    @classmethod
    def from_form(cls) -> "Rules":
        return cls(
            _range("residents"), _range("heated_area"), _range("coal_stoves"),
            _range("programme_year"),
            {n: _max_length(n) for n in ("head_name", "group_name", "house_no", "bank_name",
                                         "account_holder")},
            {n: _required_message(n) for n in ("head_name", "id_number", "phone", "residents",
                                               "heated_area", "coal_stoves")})


RULES = Rules.from_form()


# --- messages ------------------------------------------------------------------------------------
def portable(message: Any) -> dict[str, Any]:
    """A lazy message as {"m": message id, "p": parameters} (shown later in any language);
    anything else as its text.  Parameters quoting a cell go through ``safe_text``: a clerk's
    ID number typed into the wrong column must not reach the stored preview."""
    if isinstance(message, LazyString) and message._args:
        params = {k: safe_text(str(v)) if isinstance(v, (str, LazyString)) else v
                  for k, v in message._kwargs.items()}
        return {"m": message._args[0], "p": params}
    return {"t": safe_text(str(message))}


_FOUR_DIGITS = re.compile(r"[0-9]{4}")


def safe_text(text: str) -> str:
    """``text`` with anything that looks like an ID or account number masked (every pattern
    of ``redact`` needs four digits in a row, so most text is returned as it is, cheaply)."""
    folded = unicodedata.normalize("NFKC", text)
    return redact(folded) if _FOUR_DIGITS.search(folded) else text


def render(message: dict[str, Any]) -> str:
    if "m" in message:
        return gettext(message["m"], **message.get("p", {}))
    return message.get("t", "")


def render_problem(problem: dict[str, Any]) -> str:
    """One stored row message: “Column B (身份证号): …” or the bare reason."""
    reason = render(problem)
    if problem.get("c"):
        return gettext("Column %(letter)s (%(col)s): %(reason)s", letter=problem.get("l", ""),
                       col=problem["c"], reason=reason)
    return reason


# --- the uploader's villages ---------------------------------------------------------------------
@dataclass(frozen=True)
class VillageRef:
    id: int
    township_id: int
    county_id: int
    code: str
    name: str
    township_name: str


def name_key(text: str) -> str:
    """A name as compared: NFKC (full-width letters and digits folded), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


_VILLAGE_SUFFIXES = ("村民委员会", "村委会", "居委会", "社区", "村")
_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")


def _short(key: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[:-len(suffix)]
    return key


class Places:
    """The active villages the uploader may import into, found by name (with or without the
    村/镇/乡 suffix)."""

    def __init__(self, villages: Iterable[VillageRef]) -> None:
        self.villages = list(villages)
        self.townships: dict[str, set[int]] = {}
        self.by_name: dict[str, list[VillageRef]] = {}
        for v in self.villages:
            for key in {name_key(v.township_name),
                        _short(name_key(v.township_name), _TOWNSHIP_SUFFIXES)}:
                self.townships.setdefault(key, set()).add(v.township_id)
            for key in {name_key(v.name), _short(name_key(v.name), _VILLAGE_SUFFIXES)}:
                self.by_name.setdefault(key, []).append(v)

    @classmethod
    def for_user(cls, user: Any) -> "Places":
        scope = permissions.scope_for(user, permissions.PERMISSIONS["household.import"])
        if scope.empty:
            return cls([])
        township = Area.__table__.alias("t")
        query = (select(Area.id, Area.code, Area.name, Area.parent_id, township.c.name,
                        township.c.parent_id, township.c.retired_at)
                 .join(township, Area.parent_id == township.c.id)
                 .where(Area.level == "village", Area.retired_at.is_(None)))
        refs = []
        for vid, code, name, tid, tname, cid, t_retired in db.session.execute(query):
            if t_retired is None and scope.covers(vid, tid, cid):
                refs.append(VillageRef(vid, tid, cid, code, name, tname))
        return cls(refs)

    def township_ids(self, text: str) -> set[int]:
        key = name_key(text)
        return self.townships.get(key) or self.townships.get(
            _short(key, _TOWNSHIP_SUFFIXES), set())

    def villages_named(self, text: str) -> list[VillageRef]:
        key = name_key(text)
        exact = self.by_name.get(key)
        if exact:
            return exact
        return self.by_name.get(_short(key, _VILLAGE_SUFFIXES), [])


def previous_heating_words() -> dict[str, str]:
    """Chinese labels of the previous-heating kinds (as the form shows them) and the words
    clerks write, folded for comparison."""
    words = {name_key(k): v for k, v in HEATING_ALIASES.items()}
    with force_locale("zh_Hans_CN"):
        for code, label in PREVIOUS_HEATING.items():
            text = name_key(str(label))
            words[text] = code
            words[re.sub(r"\(.*?\)", "", text)] = code  # “燃煤锅炉（土暖气）” without the aside
    for code in PREVIOUS_HEATING:
        words[code] = code
    return words


def previous_heating_choices() -> list[str]:
    with force_locale("zh_Hans_CN"):
        return [str(label) for label in PREVIOUS_HEATING.values()]


def closed_state_words() -> frozenset[str]:
    """How a 状态 cell names a withdrawn or cancelled case, folded for comparison: the
    ledger's Chinese labels (撤销, 注销), with 已 in front, the English labels and the codes."""
    words = set()
    for code in INACTIVE_STATES:
        words.add(code)
        with force_locale("en"):
            words.add(str(STATES[code]).lower())
        with force_locale("zh_Hans_CN"):
            label = name_key(str(STATES[code]))
        words.update({label, "已" + label})
    return frozenset(words)
