"""Rebuild the committed fonts.  Not used at run time; run it only to change them.

    python -m venv /tmp/fontvenv
    /tmp/fontvenv/bin/pip install fonttools justmytype-intl-cjk
    /tmp/fontvenv/bin/python heating/core/fonts/make_fonts.py            # all, ~2 min
    /tmp/fontvenv/bin/python heating/core/fonts/make_fonts.py noto       # Noto only
    /tmp/fontvenv/bin/python heating/core/fonts/make_fonts.py hanazono   # ~25 s, fonttools only

The Hanazono step needs only fontTools and Debian's ``fonts-hanazono`` (20170904), which
installs ``HanaMinA.ttf`` and ``HanaMinB.ttf`` under /usr/share/fonts/truetype/hanazono/; it
reads the committed Noto Regular to leave out what Noto already draws, so run it after the
Noto step.

Source: ``NotoSansSC[wght].ttf`` (TrueType outlines, variable weight, default instance Thin)
from the PyPI package ``justmytype-intl-cjk``; SIL OFL 1.1 (``OFL.txt``).  Steps:

1. static instances at wght=400 and wght=700 (``--update-name-table`` so the two faces get
   distinct PostScript names; without it ReportLab embeds only one of them);
2. layout tables (GSUB, GPOS, GDEF, BASE, STAT), vertical metrics and hinting dropped: ReportLab
   reads only cmap, glyf, loca, hmtx and the metrics headers;
3. Regular keeps every character the source maps (30,890: all of GB2312, 20,976 URO,
   6,582 Ext A, 217 Ext B+ of the 通用规范汉字表); Bold keeps GB2312 (7,445) plus ASCII,
   Latin-1, general and CJK punctuation, fullwidth forms: it sets fixed labels and titles only,
   and ``heating.core.pdf.face_for`` falls back to Regular for text it lacks.

Hanazono Mincho (GlyphWiki, Hanazono Font License, see ``HANAZONO-LICENSE.txt``), the
per-character fallback after Noto Regular for rare name characters (生僻字):

4. ``HanaMinB-Rare.ttf``: what HanaMinB maps in U+20000–U+2FA1F (CJK Extension B–F) and Noto
   does not;
5. ``HanaMinA-Rare.ttf``: what HanaMinA maps of the CJK Compatibility Ideographs (U+F900–FAFF),
   their Supplement (U+2F800–2FA1F), the URO and Extension A and Extension B–F, and neither Noto
   nor ``HanaMinB-Rare`` does;
   both without the tables ReportLab does not read (layout, vertical metrics, hinting, glyph
   names).
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
HANAZONO = Path("/usr/share/fonts/truetype/hanazono")
DROP = ["GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx", "DSIG", "FFTM", "prop"]


def gb2312() -> set[int]:
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


BASIC = (set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
         | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | {0x33A1, 0x2103, 0x2116})


def source() -> Path:
    import justmytype_intl_cjk  # the font's package, installed only where fonts are made

    return next(Path(justmytype_intl_cjk.__file__).parent.glob(
        "fonts/ofl/notosanssc/NotoSansSC*.ttf"))


def instance(var: Path, weight: int, out: Path) -> None:
    subprocess.run([sys.executable, "-m", "fontTools", "varLib.instancer",
                    "--update-name-table", str(var), f"wght={weight}", "-o", str(out)],
                   check=True)


def shrink(src: Path, dst: Path, keep: set[int] | None, stamp: int) -> None:
    font = TTFont(src, recalcTimestamp=False)
    font["head"].modified = stamp  # the source's date: the same run gives the same bytes
    have = set(font.getBestCmap())
    opts = subset.Options()
    opts.layout_features = []
    opts.drop_tables += DROP
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True  # a character we lack shows as a box, never as nothing
    opts.glyph_names = False
    subsetter = subset.Subsetter(opts)
    subsetter.populate(unicodes=sorted(have if keep is None else keep & have))
    subsetter.subset(font)
    font.save(dst)


def blocks(*ranges: tuple[int, int]) -> set[int]:
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


URO, EXT_A = (0x4E00, 0x9FFF), (0x3400, 0x4DBF)
EXT_B_TO_SUPPLEMENT = (0x20000, 0x2FA1F)  # Extension B–F and the Compatibility Supplement
COMPATIBILITY = (0xF900, 0xFAFF)


def hanazono() -> None:
    """The two fallback files: HanaMinB for Extension B–F, HanaMinA for the compatibility
    ideographs and any gap left; nothing Noto Regular (or HanaMinB-Rare) already maps."""
    noto = set(TTFont(HERE / "NotoSansSC-Regular.ttf", lazy=True).getBestCmap())
    source_b, source_a = HANAZONO / "HanaMinB.ttf", HANAZONO / "HanaMinA.ttf"
    keep_b = blocks(EXT_B_TO_SUPPLEMENT) - noto
    shrink(source_b, HERE / "HanaMinB-Rare.ttf", keep_b,
           TTFont(source_b, lazy=True)["head"].modified)
    have_b = set(TTFont(HERE / "HanaMinB-Rare.ttf", lazy=True).getBestCmap())
    keep_a = blocks(COMPATIBILITY, URO, EXT_A, EXT_B_TO_SUPPLEMENT) - noto - have_b
    shrink(source_a, HERE / "HanaMinA-Rare.ttf", keep_a,
           TTFont(source_a, lazy=True)["head"].modified)


def noto_fonts() -> None:
    var = source()
    stamp = TTFont(var, lazy=True)["head"].modified
    with tempfile.TemporaryDirectory() as tmp:
        regular, bold = Path(tmp, "regular.ttf"), Path(tmp, "bold.ttf")
        instance(var, 400, regular)
        instance(var, 700, bold)
        shrink(regular, HERE / "NotoSansSC-Regular.ttf", None, stamp)
        shrink(bold, HERE / "NotoSansSC-Bold.ttf", gb2312() | BASIC, stamp)
    (HERE / "OFL.txt").write_bytes((var.parent / "OFL.txt").read_bytes())


def main(which: list[str]) -> None:
    if not which or "noto" in which:
        noto_fonts()
    if not which or "hanazono" in which:
        hanazono()


if __name__ == "__main__":
    main(sys.argv[1:])
