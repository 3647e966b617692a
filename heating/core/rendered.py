"""What every renderer returns, the strings a document prints from its data, and the refusal
of a document that would print a box."""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Iterable

from heating.core.pdf import missing_glyphs

#: ``field(metadata=NOT_PRINTED)``: a data-class field that names the case for messages but is
#: not printed (so the printability check leaves it out)
NOT_PRINTED = {"printed": False}
#: printed on a document of a case whose head is printed in the print spelling (印刷用名)
PRINT_NAME_NOTE = "注：户主登记姓名含字库未收录的生僻字，本文件按印刷用名打印。"


@dataclass(frozen=True)
class Rendered:
    """A PDF.  Every character in it is printed in a face that has it: a document holding a
    character no bundled font has is never made (``UnprintableError``)."""
    pdf: bytes


@dataclass(frozen=True)
class Unprintable:
    """Characters no bundled font has, in the text of one case."""
    case: str  #: the case number; "" for the document's own text (title, area, office …)
    name: str  #: the head of household, as the user knows the case
    chars: tuple[str, ...]


class UnprintableError(Exception):
    """The document was not made: it would print these characters as boxes.  ``problems``
    names every case at fault; the fix is a print spelling on the case (or correcting the
    text).  The message holds code points only, never a name (it may be logged)."""

    def __init__(self, problems: Iterable[Unprintable]) -> None:
        self.problems = tuple(problems)
        super().__init__("unprintable characters: " + "; ".join(
            f"case {p.case or '-'} " + " ".join(f"U+{ord(ch):04X}" for ch in p.chars)
            for p in self.problems))


def check_printable(items: Iterable[tuple[str, str, Iterable[str]]]) -> None:
    """``items``: (case, name, the texts printed for it).  Raises ``UnprintableError`` naming
    every case with a character no bundled font has; returns when everything prints."""
    problems = []
    for case, name, texts in items:
        chars = missing_glyphs(list(texts))
        if chars:
            problems.append(Unprintable(case, name, tuple(chars)))
    if problems:
        raise UnprintableError(problems)


def printed_texts(data: Any) -> list[str]:
    """Every string a data class prints, including those in its lists and nested data
    classes (fields marked ``NOT_PRINTED`` left out): what the printability check reads."""
    out: list[str] = []
    for f in fields(data):
        if f.metadata.get("printed", True) is False:
            continue
        value = getattr(data, f.name)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str):
                out.append(item)
            elif is_dataclass(item):
                out.extend(printed_texts(item))
    return out
