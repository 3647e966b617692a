"""Line breaking for CJK text with the line-start and line-end prohibitions (避头尾).

Pure: characters and their widths in, line slices out; ``heating.core.pdf`` uses it for every
paragraph and for text wrapped on a canvas, so all PDFs break lines the same way.

Rules (GB/T 15834 and CLREQ, the usual ones of Chinese typesetting):

- a line may break between any two CJK characters;
- no line starts with closing punctuation (，。、；：？！ and the closing brackets and quotes
  ）」』】》” …), and no line ends with an opening one (（「『【《“ …): the character before is
  pushed to the next line with it (push-out: nothing hangs in the margin, so a table cell
  keeps its border);
- a Latin word or a number (KFR-72LW, 6,800.00, https://…) is not cut, unless it alone is
  wider than the line;
- spaces at a soft break are dropped from the start of the next line.

ReportLab's own CJK wrapping knows no full-width comma, semicolon, colon, question or
exclamation mark, and no line-end rule at all: a line there can start with "，".
"""
from __future__ import annotations

from typing import Callable, Container, Sequence

#: may not start a line: closing punctuation, stops, and marks that belong to what precedes
NO_START = frozenset(
    "，。、；：？！）」』】〕〗〙〛》〉］｝”’．｡､…‥·・～％‰℃々〃"
    ",.;:?!)]}%"
)
#: may not end a line: opening brackets and quotes
NO_END = frozenset("（「『【〔〖〘〚《〈［｛“‘([{")
#: ReportLab's tolerance when comparing a line's width with the room it has
FUZZ = 1e-6


def _in_word(ch: str) -> bool:
    """Part of a Latin word or a number: kept together."""
    return bool(ch) and ch.isascii() and not ch.isspace()


def may_break(before: str, after: str) -> bool:
    """May a line end after ``before`` and the next one start with ``after``?"""
    if after in NO_START or before in NO_END:
        return False
    return not (_in_word(before) and _in_word(after))


def _break_before(items: Sequence[str], start: int, overflow: int) -> int:
    """Where to end a line that holds ``items[start:overflow]`` and has no room for
    ``items[overflow]``: the last allowed break; failing that, the last one that keeps the
    punctuation rules (a word too long for the line is cut); failing that, the overflow."""
    for k in range(overflow, start, -1):
        if may_break(items[k - 1], items[k]):
            return k
    for k in range(overflow, start, -1):
        if items[k] not in NO_START and items[k - 1] not in NO_END:
            return k
    return overflow


def break_lines(items: Sequence[str], widths: Sequence[float],
                room: float | Callable[[int], float],
                hard: Container[int] = ()) -> list[tuple[int, int, bool]]:
    """Lines of ``items`` (one character each; ``hard`` holds the indexes of forced line
    breaks, which end their line) as ``(start, end, hard_break)`` slices, each no wider than
    ``room`` (a width, or a function of the line number) unless one item alone is wider."""
    width_of_line = room if callable(room) else (lambda _n: room)
    lines: list[tuple[int, int, bool]] = []
    n, start = len(items), 0
    while start < n:
        limit = width_of_line(len(lines))
        used, i = 0.0, start
        while i < n:
            if i in hard:
                lines.append((start, i + 1, True))
                start = i + 1
                break
            used += widths[i]
            if used > limit + FUZZ and i > start:
                end = _break_before(items, start, i)
                lines.append((start, end, False))
                start = end
                while start < n and items[start] == " " and start not in hard:
                    start += 1
                break
            i += 1
        else:
            lines.append((start, n, False))
            start = n
    return lines


def trailing_space_width(items: Sequence[str], widths: Sequence[float], start: int,
                         end: int) -> float:
    """The width of the spaces that end ``items[start:end]`` (not counted when aligning)."""
    total = 0.0
    while end > start and items[end - 1] == " ":
        end -= 1
        total += widths[end]
    return total
