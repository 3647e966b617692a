"""PDF building blocks: the embedded CJK fonts, paragraph styles, page furniture, QR codes.

Domain-free.  Every document embeds Noto Sans SC (TrueType, SIL OFL 1.1, committed under
``fonts/``; ``fonts/README.md`` says how the files were made), so a PDF prints the same on any
reader, offline, and its text can be extracted.  ReportLab embeds only the glyphs a document
uses (a one-page certificate is ~50 KB).

- ``fonts()`` registers the two faces once per process (~0.2 s), on first use, not at import.
- ``missing_glyphs(text)`` lists the characters the Regular face cannot draw (CJK Extension B
  and later, mostly): callers report them instead of printing a silent box.
- ``face_for(text, bold=True)`` gives Bold unless Bold lacks one of the characters (Bold covers
  GB 2312 only; Regular covers all of the CJK Unified Ideographs and Extension A).
- ``new_canvas`` makes canvases with ``invariant=1``: the same data gives the same bytes.
- ``qr_path`` draws a QR code as one filled path (ReportLab's QR widget costs several times
  as much: TECH-NOTES).
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Iterable
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "NotoSansSC"
BOLD = "NotoSansSC-Bold"
PAGE_WIDTH, PAGE_HEIGHT = A4
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
    regular = TTFont(REGULAR, str(FONT_DIR / "NotoSansSC-Regular.ttf"))
    bold = TTFont(BOLD, str(FONT_DIR / "NotoSansSC-Bold.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(bold)
    # <b> in a Paragraph picks the bold face; there is no italic CJK face
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                  boldItalic=BOLD)
    return Fonts(regular, bold, frozenset(regular.face.charToGlyph),
                 frozenset(bold.face.charToGlyph))


def missing_glyphs(text: str | Iterable[str], bold: bool = False) -> list[str]:
    """Characters of ``text`` (a string, or strings) the face cannot draw, each once, in order
    of first appearance.  ``[]`` means everything prints."""
    have = fonts().bold_chars if bold else fonts().regular_chars
    parts = [text] if isinstance(text, str) else text
    seen: dict[str, None] = {}
    for part in parts:
        for ch in part or "":
            if ord(ch) not in have and ch not in _LAYOUT and ch not in seen:
                seen[ch] = None
    return list(seen)


def face_for(text: str, bold: bool = True) -> str:
    """The font name to draw ``text`` in: Bold when asked for and Bold has every character,
    otherwise Regular (a rare character in bold would come out as a box)."""
    if bold and not missing_glyphs(text, bold=True):
        return BOLD
    return REGULAR


# -- text helpers -------------------------------------------------------------------------

def cn_date(value: date | None) -> str:
    """2026-11-28 -> 2026年11月28日; None -> ""."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def text_width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: anywhere between CJK characters, at
    spaces between Latin words, and inside a Latin word only when it alone is too wide (a long
    URL).  Explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        lines.extend(_wrap_line(paragraph, font, size, width))
    return lines or [""]


def _wrap_line(text: str, font: str, size: float, width: float) -> list[str]:
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return [text]
    lines, line, word_start = [], "", -1  # word_start: where the Latin word in ``line`` began
    for ch in text:
        candidate = line + ch
        if line and pdfmetrics.stringWidth(candidate, font, size) > width:
            if ch == " ":
                lines.append(line)
                line, word_start = "", -1
                continue
            if ch.isascii() and 0 < word_start < len(line):  # carry the word over
                lines.append(line[:word_start].rstrip())
                line = line[word_start:] + ch
                word_start = 0
                continue
            lines.append(line)
            line, word_start = ch, (0 if ch.isascii() and ch.isalnum() else -1)
            continue
        if ch.isascii() and ch.isalnum():
            if word_start < 0:
                word_start = len(line)
        else:
            word_start = -1
        line = candidate
    if line:
        lines.append(line)
    return lines


def fit(text: str, font: str, width: float,
        steps: Iterable[tuple[float, int]]) -> tuple[float, list[str]]:
    """Set ``text`` in a box ``width`` wide: ``steps`` are (size, most lines) pairs, largest
    first; the first that fits is used.  When none does, the last step's lines are cut and the
    last kept line ends in "…", so a cut is visible rather than silent."""
    size, max_lines, lines = 0.0, 1, [text]
    for size, max_lines in steps:
        lines = wrap(text, font, size, width)
        if len(lines) <= max_lines:
            return size, lines
    kept = lines[:max_lines]
    last = kept[-1]
    while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
        last = last[:-1]
    return size, kept[:-1] + [last + "…"]


# -- paragraph styles (platypus documents) -------------------------------------------------

@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    """CJK paragraph styles (``wordWrap="CJK"`` breaks lines between any two Han characters).
    Shared: derive a new style rather than changing one of these."""
    fonts()
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=10.5, leading=16,
                          wordWrap="CJK")
    return {
        "body": base,
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=20, leading=28,
                                alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=10.5, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", base, fontName=BOLD, fontSize=12, leading=17,
                                  spaceBefore=6, spaceAfter=3),
        "cell": ParagraphStyle("cell", base, fontSize=10, leading=13),
        "label": ParagraphStyle("label", base, fontName=BOLD, fontSize=10, leading=13),
        "label_center": ParagraphStyle("label_center", base, fontName=BOLD, fontSize=10,
                                       leading=13, alignment=TA_CENTER),
        "cell_center": ParagraphStyle("cell_center", base, fontSize=10, leading=13,
                                      alignment=TA_CENTER),
        "small": ParagraphStyle("small", base, fontSize=8.5, leading=11),
        "small_center": ParagraphStyle("small_center", base, fontSize=8.5, leading=11,
                                       alignment=TA_CENTER),
    }


def para(text: str | None, style: ParagraphStyle, bold: bool = False) -> Paragraph:
    """A Paragraph of plain text: markup characters escaped, newlines kept.  ``bold`` uses
    ``face_for`` so a rare character falls back to Regular instead of a box."""
    # Paragraph collapses whitespace, U+3000 too; no-break spaces survive (four ≈ one em)
    markup = escape(text or "").replace("\n", "<br/>").replace("\u3000", "\u00a0" * 4)
    if bold:
        markup = f'<font name="{face_for(text or "")}">{markup}</font>'
    return Paragraph(markup, style)


# -- canvases and page furniture -----------------------------------------------------------

def new_canvas(out: IO[bytes], *, title: str, subject: str = "", author: str = "",
               creator: str = "heating", **kwargs: Any) -> Canvas:
    """An A4 canvas whose output depends only on what is drawn (fixed dates and document ID)."""
    fonts()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1,
                    initialFontName=REGULAR, **kwargs)  # no unembedded Helvetica
    canvas.setTitle(title)
    canvas.setSubject(subject)
    canvas.setAuthor(author)
    canvas.setCreator(creator)
    canvas.setProducer(creator)
    return canvas


class NumberedCanvas(Canvas):
    """A canvas for platypus documents that writes "第 n 页 / 共 N 页" on every page once the
    page count is known (the pages are held until ``save``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fonts()
        kwargs.setdefault("invariant", 1)
        kwargs.setdefault("pageCompression", 1)
        if not kwargs.get("initialFontName"):  # platypus passes None: Helvetica, unembedded
            kwargs["initialFontName"] = REGULAR
        super().__init__(*args, **kwargs)
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            page_footer(self, self._pageNumber, total)
            super().showPage()
        super().save()


def page_footer(canvas: Canvas, page: int, pages: int, note: str = "") -> None:
    """Page number centred at the foot of the page, an optional note at the left."""
    canvas.saveState()
    canvas.setFont(REGULAR, 8)
    canvas.setFillGray(0.35)
    canvas.drawCentredString(PAGE_WIDTH / 2, 28, f"第 {page} 页 / 共 {pages} 页")
    if note:
        canvas.drawString(56, 28, note)
    canvas.restoreState()


def draw_title(canvas: Canvas, text: str, y: float, size: float = 24,
               spacing: float = 0) -> None:
    """A centred bold title; ``spacing`` adds space between characters (letter-spaced titles
    are usual on Chinese certificates)."""
    font = face_for(text)
    if not spacing:
        canvas.setFont(font, size)
        canvas.drawCentredString(PAGE_WIDTH / 2, y, text)
        return
    width = pdfmetrics.stringWidth(text, font, size) + spacing * (len(text) - 1)
    obj = canvas.beginText(PAGE_WIDTH / 2 - width / 2, y)
    obj.setFont(font, size)
    obj.setCharSpace(spacing)
    obj.textOut(text)
    obj.setCharSpace(0)  # the text state outlives the text object
    canvas.drawText(obj)


# -- QR codes ------------------------------------------------------------------------------

def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), error correction M (15 %), no quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_path(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw ``data`` as a QR code whose lower-left corner is (x, y), ``size`` points square.

    One filled path of one rectangle per horizontal run of dark modules, written in module
    units under a scaling transform: the coordinates are small integers, so the path is a
    string join rather than thousands of float conversions (ReportLab's QR widget takes ~4x
    as long).  Leave a quiet zone of 4 modules around it (white margin) for scanners."""
    matrix = qr_matrix(data)
    n = len(matrix)
    runs = []
    for row_index, row in enumerate(matrix):
        bottom = n - 1 - row_index
        start = -1
        for col, dark in enumerate(row + [False]):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                runs.append(f"{start} {bottom} {col - start} 1 re")
                start = -1
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(size / n, size / n)
    canvas.setFillGray(0)
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()
