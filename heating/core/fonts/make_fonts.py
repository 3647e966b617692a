"""Rebuild the two committed fonts.  Not used at run time; run it only to change them.

    python -m venv /tmp/fontvenv
    /tmp/fontvenv/bin/pip install fonttools justmytype-intl-cjk
    /tmp/fontvenv/bin/python heating/core/fonts/make_fonts.py   # ~1.5 min, ~250 MB RAM

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
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
DROP = ["GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx", "DSIG"]


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


def main() -> None:
    var = source()
    stamp = TTFont(var, lazy=True)["head"].modified
    with tempfile.TemporaryDirectory() as tmp:
        regular, bold = Path(tmp, "regular.ttf"), Path(tmp, "bold.ttf")
        instance(var, 400, regular)
        instance(var, 700, bold)
        shrink(regular, HERE / "NotoSansSC-Regular.ttf", None, stamp)
        shrink(bold, HERE / "NotoSansSC-Bold.ttf", gb2312() | BASIC, stamp)
    (HERE / "OFL.txt").write_bytes((var.parent / "OFL.txt").read_bytes())


if __name__ == "__main__":
    main()
