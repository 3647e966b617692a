"""PDF building blocks: the embedded CJK fonts, paragraph styles, page furniture, QR codes.

Domain-free.  Every document embeds Noto Sans SC (TrueType, SIL OFL 1.1, committed under
``fonts/``; ``fonts/README.md`` says how the files were made), so a PDF prints the same on any
reader, offline, and its text can be extracted.  ReportLab embeds only the glyphs a document
uses (a one-page certificate is ~50 KB).  Rare name characters (生僻字) Noto lacks, CJK
Extension B–F and the compatibility ideographs, come from subsets of Hanazono Mincho, chosen
per character.

Faces (``heating.core.typefaces``, re-exported here):

- ``fonts()`` registers the two Noto faces once per process (~0.2 s), on first use, not at
  import; the Hanazono faces (``RARE_FACES``) are registered only when a text needs one.
- ``runs(text, font)`` cuts text into runs of one face each (Bold → Regular → HanaMinB →
  HanaMinA); ``draw_string``, ``text_width``, ``wrap``, ``fit`` and ``para`` use it, so every
  character is set in a face that has it.
- ``missing_glyphs(text)`` lists the characters no bundled face has (Extension G, private
  use): a document holding one is not made (callers raise; a box is never printed).
- ``face_for(text, bold=True)`` gives Bold unless Bold lacks a character Regular has (Bold
  covers GB 2312 only; Regular covers all of the CJK Unified Ideographs and Extension A).
- ToUnicode: ReportLab 5.1 writes the text-layer entry of a character beyond the BMP as one
  5-digit number (``<2C317>``), which readers drop; ``to_unicode_cmap`` writes UTF-16BE
  surrogate pairs (``<D870DF17>``) and is installed once, where the fonts are registered.

Documents:

- Lines break by the rules of ``heating.core.linebreak`` (避头尾: no line starts with "，"),
  in paragraphs (``CJKParagraph``) and on canvases (``wrap``) alike.
- ``new_canvas`` makes canvases with ``invariant=1``: the same data gives the same bytes.
- ``qr_path`` draws a QR code as one filled path (ReportLab's QR widget costs several times
  as much: TECH-NOTES).
"""
from __future__ import annotations

import functools
from datetime import date
from typing import IO, Any, Iterable
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph
from reportlab.platypus.paragraph import (
    ParaLines,
    _handleBulletWidth,
    cjkU,
    makeCJKParaLine,
)

from heating.core.linebreak import break_lines, trailing_space_width
from heating.core.typefaces import (  # noqa: F401 (re-exported: documents import from here)
    BOLD,
    FONT_DIR,
    RARE_FACES,
    REGULAR,
    REPORTLAB_TO_UNICODE_CMAP,
    Fonts,
    face_for,
    fonts,
    missing_glyphs,
    rare_faces,
    runs,
    show_chars,
    to_unicode_cmap,
)

PAGE_WIDTH, PAGE_HEIGHT = A4


# -- text helpers -------------------------------------------------------------------------

def cn_date(value: date | None) -> str:
    """2026-11-28 -> 2026年11月28日; None -> ""."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def text_width(text: str, font: str, size: float) -> float:
    """The width of ``text`` as ``draw_string`` sets it (fallback faces included)."""
    return sum(pdfmetrics.stringWidth(piece, face, size) for face, piece in runs(text, font))


def draw_string(canvas: Canvas, x: float, y: float, text: str, font: str, size: float,
                align: str = "left") -> None:
    """``text`` at (x, y), each character in a face that has it; ``align`` "left", "centre"
    (x is the middle) or "right" (x is the right end)."""
    pieces = runs(text, font)
    if align != "left":
        width = sum(pdfmetrics.stringWidth(p, f, size) for f, p in pieces)
        x -= width / 2 if align == "centre" else width
    obj = canvas.beginText(x, y)
    for face, piece in pieces:
        obj.setFont(face, size)
        obj.textOut(piece)
    canvas.drawText(obj)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` by the rules of
    ``heating.core.linebreak`` (anywhere between CJK characters but not before "，" or after
    "（", at spaces between Latin words, inside a Latin word only when it alone is too wide,
    e.g. a long URL).  Explicit newlines are kept."""
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        lines.extend(_wrap_line(paragraph, font, size, width))
    return lines or [""]


def _wrap_line(text: str, font: str, size: float, width: float) -> list[str]:
    if text_width(text, font, size) <= width:
        return [text]
    chars = list(text)
    widths = [text_width(ch, font, size) for ch in chars]
    return [text[start:end].rstrip(" ") for start, end, _hard in break_lines(chars, widths, width)]


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
    while last and text_width(last + "…", font, size) > width:
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


class CJKParagraph(Paragraph):
    """A Paragraph whose CJK lines break by ``heating.core.linebreak`` (避头尾) instead of
    ReportLab's own rules, which let a line start with "，" and know no line-end rule."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:  # noqa: N802, N803 (ReportLab's names)
        if not isinstance(maxWidths, (list, tuple)):
            maxWidths = [maxWidths]
        if hasattr(self, "blPara") and getattr(self, "_splitpara", 0):
            return self.blPara  # the second half of a split paragraph keeps its lines
        style = self.style
        units = []
        for frag in self.frags:
            text = frag.text if isinstance(frag.text, str) else frag.text.decode("utf8")
            units.extend([cjkU(ch, frag, "utf8") for ch in text] if text
                         else [cjkU("", frag, "utf8")])
        if not any(units):  # no text at all: ReportLab's empty paragraph
            return super().breakLinesCJK(maxWidths)
        self.height = 0
        _handleBulletWidth(self.bulletText, style, maxWidths)
        auto = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        items = [str(u) for u in units]
        widths = [u.width for u in units]
        hard = {i for i, u in enumerate(units) if hasattr(u.frag, "lineBreak")}

        def room(n: int) -> float:
            return maxWidths[min(n, len(maxWidths) - 1)]

        lines = []
        for n, (start, end, hard_break) in enumerate(break_lines(items, widths, room, hard)):
            used = sum(widths[start:end]) - trailing_space_width(items, widths, start, end)
            lines.append(makeCJKParaLine(units[start:end], room(n), used, room(n) - used,
                                         hard_break, auto not in ("", "off")))
        return ParaLines(kind=1, lines=lines)


def para(text: str | None, style: ParagraphStyle, bold: bool = False) -> Paragraph:
    """A Paragraph of plain text: markup characters escaped, newlines kept, every character
    in a face that has it (``runs``), lines broken by the 避头尾 rules.  ``bold`` (or a bold
    style) uses ``face_for``, so a character Bold lacks sets the text in Regular."""
    text = text or ""
    font = face_for(text, bold or style.fontName == BOLD)
    parts = []
    for face, piece in runs(text, font):
        # Paragraph collapses whitespace, U+3000 too; no-break spaces survive (four ≈ one em)
        markup = escape(piece).replace("\n", "<br/>").replace("\u3000", "\u00a0" * 4)
        parts.append(markup if face == style.fontName else f'<font name="{face}">{markup}</font>')
    return CJKParagraph("".join(parts), style)


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
    width = text_width(text, font, size) + spacing * (len(text) - 1)
    obj = canvas.beginText(PAGE_WIDTH / 2 - width / 2, y)
    obj.setCharSpace(spacing)
    for face, piece in runs(text, font):
        obj.setFont(face, size)
        obj.textOut(piece)
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


def print_name_note(rows: Any, wording: str) -> list[Any]:
    """The small note under a list PDF (notice, roster) naming the rows printed with a print
    spelling (印刷用名); ``wording`` holds ``{rows}``.  Nothing when no row uses one."""
    used = [str(r.seq) for r in rows if r.print_name_used]
    return [para(wording.format(rows="、".join(used)), styles()["small"])] if used else []
