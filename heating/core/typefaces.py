"""The faces PDFs embed and which one sets each character.  Domain-free; ``heating.core.pdf``
re-exports every name, so documents import from there.

- Noto Sans SC Regular and Bold (``fonts()``: registered once per process, on first use);
- the Hanazono fallbacks for rare name characters Noto lacks (``rare_faces()``: registered only
  when a text needs one, ~0.1 s and ~30 MB once per process);
- ``runs`` (which face sets each character), ``missing_glyphs`` (what no face has),
  ``face_for`` (Bold or Regular), ``show_chars`` (characters with their codes, for messages);
- ``to_unicode_cmap``: ReportLab 5.1's ToUnicode writer, fixed for characters beyond the BMP
  and installed once where the fonts are registered.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "NotoSansSC"
BOLD = "NotoSansSC-Bold"
#: ReportLab's own ToUnicode writer, before ``_register`` replaces it (tests compare the two)
REPORTLAB_TO_UNICODE_CMAP = ttfonts.makeToUnicodeCMap
#: the fallbacks after Noto Regular, in order: (font name, file); see fonts/README.md
RARE_FACES = (("HanaMinB", "HanaMinB-Rare.ttf"),  # CJK Extension B–F
              ("HanaMinA", "HanaMinA-Rare.ttf"))  # compatibility ideographs, their supplement
#: whitespace is never "missing": a line break or tab is layout, not a glyph
_LAYOUT = frozenset("\n\r\t\u00a0\u3000 ")


@dataclass(frozen=True)
class Fonts:
    regular: TTFont
    bold: TTFont
    #: code points each face maps (its cmap)
    regular_chars: frozenset[int]
    bold_chars: frozenset[int]


_lock = threading.Lock()
_fonts: list[Fonts] = []  # filled once by fonts()
_rare: list[tuple[tuple[str, frozenset[int]], ...]] = []  # filled once by rare_faces()


def fonts() -> Fonts:
    """The registered faces; the first call in a process parses the files (~0.2 s)."""
    if not _fonts:
        with _lock:
            if not _fonts:
                _fonts.append(_register())
    return _fonts[0]


def _register() -> Fonts:
    # Process-wide ReportLab setting, made once with the fonts: compressed streams stay
    # binary (ASCII85 makes a certificate run 20 % larger; every PDF reader takes binary).
    rl_config.useA85 = 0
    ttfonts.makeToUnicodeCMap = to_unicode_cmap
    regular = TTFont(REGULAR, str(FONT_DIR / "NotoSansSC-Regular.ttf"))
    bold = TTFont(BOLD, str(FONT_DIR / "NotoSansSC-Bold.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(bold)
    # <b> in a Paragraph picks the bold face; there is no italic CJK face
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                  boldItalic=BOLD)
    return Fonts(regular, bold, frozenset(regular.face.charToGlyph),
                 frozenset(bold.face.charToGlyph))


def rare_faces() -> tuple[tuple[str, frozenset[int]], ...]:
    """(font name, code points) of the Hanazono fallbacks, registered on the first call in a
    process (~0.1 s, ~30 MB): only a document with a character Noto lacks pays for them."""
    fonts()
    if not _rare:
        with _lock:
            if not _rare:
                faces = []
                for name, filename in RARE_FACES:
                    font = TTFont(name, str(FONT_DIR / filename))
                    pdfmetrics.registerFont(font)
                    faces.append((name, frozenset(font.face.charToGlyph)))
                _rare.append(tuple(faces))
    return _rare[0]


def _utf16(code: int) -> str:
    """A code point as UTF-16BE hex: 4 digits in the BMP, a surrogate pair (8) beyond it."""
    if code < 0x10000:
        return "%04X" % code
    code -= 0x10000
    return "%04X%04X" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """ReportLab's ``ttfonts.makeToUnicodeCMap`` with every destination written as UTF-16BE,
    as the PDF specification asks (9.10.3): U+20BB7 → ``<D842DFB7>``, not ``<20BB7>``.  The
    same text as ReportLab's for characters in the BMP."""
    cmap = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        "<< /Registry (%s)" % fontname,
        "/Ordering (%s)" % fontname,
        "/Supplement 0",
        ">> def",
        "/CMapName /%s def" % fontname,
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <%02X>" % (len(subset) - 1),
        "endcodespacerange",
        "%d beginbfchar" % len(subset),
    ] + ["<%02X> <%s>" % (i, _utf16(v)) for i, v in enumerate(subset)] + [
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(cmap)


def _chain(font: str) -> list[tuple[str, frozenset[int]]]:
    """The faces tried in turn for a character of text set in ``font``."""
    f = fonts()
    first = [(BOLD, f.bold_chars), (REGULAR, f.regular_chars)] if font == BOLD else [
        (REGULAR, f.regular_chars)]
    return first + list(rare_faces())


def _noto_has(text: str, font: str) -> bool:
    have = fonts().bold_chars if font == BOLD else fonts().regular_chars
    return all(ord(ch) in have or ch in _LAYOUT for ch in text)


def runs(text: str, font: str = REGULAR) -> list[tuple[str, str]]:
    """``text`` as (font name, piece) runs: each character in ``font`` when it has it, else
    in the first face of the chain that does (Bold → Regular → HanaMinB → HanaMinA).
    Whitespace stays in the run it is in.  A character no face has stays in ``font`` (it
    would print as a box: documents check ``missing_glyphs`` first and refuse)."""
    if _noto_has(text, font):  # nearly every text: no fallback face is even loaded
        return [(font, text)] if text else []
    chain = _chain(font)
    out: list[tuple[str, str]] = []
    current, piece = font, ""
    for ch in text:
        face = current if ch in _LAYOUT else next(
            (name for name, chars in chain if ord(ch) in chars), font)
        if face != current and piece:
            out.append((current, piece))
            piece = ""
        current = face
        piece += ch
    if piece:
        out.append((current, piece))
    return out


def missing_glyphs(text: str | Iterable[str]) -> list[str]:
    """Characters of ``text`` (a string, or strings) that no bundled face can draw, each once,
    in order of first appearance.  ``[]`` means everything prints."""
    regular = fonts().regular_chars
    parts = [text] if isinstance(text, str) else text
    seen: dict[str, None] = {}
    for part in parts:
        for ch in part or "":
            if ord(ch) not in regular and ch not in _LAYOUT and ch not in seen:
                seen[ch] = None
    if not seen:
        return []
    rare = rare_faces()
    return [ch for ch in seen if not any(ord(ch) in chars for _name, chars in rare)]


def show_chars(chars: Iterable[str]) -> str:
    """Characters for a message, each with its code (a browser may lack the glyph too):
    “𰀀” U+30000 “\ue000” U+E000."""
    return " ".join(f"“{ch}” U+{ord(ch):04X}" for ch in chars)


def face_for(text: str, bold: bool = True) -> str:
    """The font name to set ``text`` in: Bold when asked for, unless Bold lacks a character
    that Regular has (half a name in bold would look like two fonts); characters only the
    Hanazono faces have come from them either way (``runs``)."""
    if not bold:
        return REGULAR
    f = fonts()
    if all(ord(ch) in f.bold_chars or ord(ch) not in f.regular_chars or ch in _LAYOUT
           for ch in text):
        return BOLD
    return REGULAR
