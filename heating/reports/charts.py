"""The programme's charts, drawn once for the page and the PDF: ReportLab ``Drawing`` objects
(bars of done % by township, the monthly progress line against the target's straight line to
the deadline), placed as they are into the monthly report's PDF and turned into inline SVG for
the dashboard by ``to_svg``.  No JavaScript, nothing fetched: the page draws offline.

``renderSVG`` writes inline ``style=`` attributes, which a Content-Security-Policy without
'unsafe-inline' forbids; ``to_svg`` moves every declaration into its presentation attribute
(``fill=``, ``stroke=``, ``font-size=`` …) and the SVG it returns holds no ``style``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from markupsafe import Markup
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from heating.core import typefaces
from heating.core.pdf import text_width

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

BAR = colors.HexColor("#2f6f9f")
LOW = colors.HexColor("#c0392b")  # the bottom three
TARGET = colors.HexColor("#7f8c8d")
GRID = colors.HexColor("#d5d8dc")
INK = colors.HexColor("#222222")
#: the page's font for chart text; the PDF embeds the same face
FONT_FAMILY = "Noto Sans SC, NotoSansSC, Microsoft YaHei, PingFang SC, sans-serif"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # a percentage, 0 … (may pass 100)
    low: bool = False


def done_bars(bars: Sequence[Bar], *, width: float = 480, title: str = "",
              unit: str = "%") -> Drawing:
    """Horizontal bars, one per township, in the order given (the ranking); the bottom three
    (``low``) in red.  The axis runs to 100 % or to the largest value."""
    font = _font()
    row, top, size = 18.0, 22.0 if title else 6.0, 9.0
    label_w = max([text_width(b.label, font, size) for b in bars] + [40.0]) + 8
    value_w = 46.0
    height = top + row * max(len(bars), 1) + 18
    drawing = Drawing(width, height, initialFontName=font)
    plot_x, plot_w = label_w, max(width - label_w - value_w, 60)
    scale = max([100.0] + [b.value for b in bars])
    if title:
        drawing.add(String(0, height - 14, title, fontName=font, fontSize=11, fillColor=INK))
    for tick in range(0, 101, 25):
        x = plot_x + plot_w * tick / scale
        drawing.add(Line(x, 14, x, height - top, strokeColor=GRID, strokeWidth=0.5))
        drawing.add(String(x, 3, f"{tick}{unit}", fontName=font, fontSize=7, fillColor=INK,
                           textAnchor="middle"))
    for i, bar in enumerate(bars):
        y = height - top - row * (i + 1) + 4
        drawing.add(String(label_w - 6, y + 3, bar.label, fontName=font, fontSize=size,
                           fillColor=INK, textAnchor="end"))
        length = plot_w * max(bar.value, 0) / scale
        drawing.add(Rect(plot_x, y, max(length, 0.5), row - 8, strokeColor=None,
                         fillColor=LOW if bar.low else BAR))
        drawing.add(String(plot_x + length + 4, y + 3, f"{bar.value:.1f}{unit}", fontName=font,
                           fontSize=size, fillColor=INK))
    return drawing


@dataclass(frozen=True)
class Point:
    day: date
    value: int


def progress_line(actual: Sequence[Point], starts_on: date, deadline: date, target: int, *,
                  width: float = 480, height: float = 220, title: str = "",
                  actual_label: str = "", target_label: str = "") -> Drawing:
    """Households done at each month's end (``actual``) against the target's straight line
    from 0 on ``starts_on`` to ``target`` on ``deadline``."""
    font = _font()
    drawing = Drawing(width, height, initialFontName=font)
    left, bottom, right, top = 46.0, 30.0, 12.0, 34.0 if title else 22.0
    plot_w, plot_h = width - left - right, height - bottom - top
    last = max([deadline] + [p.day for p in actual])
    span = max((last - starts_on).days, 1)
    peak = max([target, 1] + [p.value for p in actual])

    def xy(day: date, value: float) -> tuple[float, float]:
        return (left + plot_w * (day - starts_on).days / span, bottom + plot_h * value / peak)

    if title:
        drawing.add(String(0, height - 14, title, fontName=font, fontSize=11, fillColor=INK))
    for i in range(5):
        value = peak * i / 4
        y = bottom + plot_h * i / 4
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=GRID, strokeWidth=0.5))
        drawing.add(String(left - 4, y - 3, f"{value:,.0f}", fontName=font, fontSize=7,
                           fillColor=INK, textAnchor="end"))
    month = date(starts_on.year, starts_on.month, 1)
    while month <= last:
        if month >= starts_on:
            x, _ = xy(month, 0)
            drawing.add(Line(x, bottom - 3, x, bottom, strokeColor=INK, strokeWidth=0.5))
            drawing.add(String(x, bottom - 13, f"{month.month}", fontName=font, fontSize=7,
                               fillColor=INK, textAnchor="middle"))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    x0, y0 = xy(starts_on, 0)
    x1, y1 = xy(deadline, target)
    drawing.add(Line(x0, y0, x1, y1, strokeColor=TARGET, strokeWidth=1,
                     strokeDashArray=[4, 3]))
    points = [(starts_on, 0)] + [(p.day, p.value) for p in actual]
    flat = [c for day, value in points for c in xy(day, value)]
    if len(points) > 1:
        drawing.add(PolyLine(flat, strokeColor=BAR, strokeWidth=2))
    for day, value in points[1:]:
        x, y = xy(day, value)
        drawing.add(Rect(x - 2, y - 2, 4, 4, strokeColor=None, fillColor=BAR))
    legend_y = height - top + 8
    drawing.add(Line(left, legend_y + 3, left + 18, legend_y + 3, strokeColor=BAR,
                     strokeWidth=2))
    drawing.add(String(left + 22, legend_y, actual_label, fontName=font, fontSize=8,
                       fillColor=INK))
    offset = left + 40 + text_width(actual_label, font, 8)
    drawing.add(Line(offset, legend_y + 3, offset + 18, legend_y + 3, strokeColor=TARGET,
                     strokeWidth=1, strokeDashArray=[4, 3]))
    drawing.add(String(offset + 22, legend_y, target_label, fontName=font, fontSize=8,
                       fillColor=INK))
    return drawing


def to_svg(drawing: Drawing, *, label: str) -> Markup:
    """The drawing as an inline ``<svg>`` element for a page: no XML prolog, no ``style``
    attributes (their declarations become presentation attributes), the page's font family,
    scaled to its container (``viewBox``), no ids (several charts share a page), and an
    accessible name (``role="img"``)."""
    root = ET.fromstring(renderSVG.drawToString(drawing).encode("utf-8"))
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, sep, value = declaration.partition(":")
                if sep and name.strip():
                    element.set(name.strip(), value.strip())
        if "font-family" in element.attrib:
            element.set("font-family", FONT_FAMILY)
    # renderSVG clips to the drawing through a fixed id ("clip"): several charts on one page
    # would share the first one's clip; the charts draw inside their bounds, so drop it
    for element in root.iter():
        element.attrib.pop("clip-path", None)
        element.attrib.pop("id", None)
    for tag in ("title", "desc", "clipPath"):
        for found in root.findall(f"{{{SVG_NS}}}{tag}"):
            root.remove(found)
    title = ET.Element(f"{{{SVG_NS}}}title")
    title.text = label
    root.insert(0, title)
    for attribute in ("width", "height"):
        root.attrib.pop(attribute, None)
    root.set("class", "chart")
    root.set("role", "img")
    root.set("aria-label", label)
    return Markup(ET.tostring(root, encoding="unicode"))


def _font() -> str:
    typefaces.fonts()  # registered once per process: text widths and the PDF need the face
    return typefaces.REGULAR
