"""The documents' TrueType fonts, read once per process instead of once per PDF.

fpdf2's `add_font` parses the whole font for every document (its character map and the
width of each of DejaVu's ~6,000 glyphs): half the time of drawing an invoice, paid again
for every confirmation e-mail with a PDF attached. Here each font is parsed once and each
document gets a copy that shares what drawing only reads (the widths, the character map,
the glyph ids, the font descriptor) and owns what a document changes: the glyphs it used
(its subset), its place in the document's font list and its fontTools font, which fpdf2
cuts down to the used glyphs in place when the PDF is written (so it cannot be shared; it
is opened lazily, which costs little). The PDF's bytes are the same as with `add_font`.
"""

from __future__ import annotations

import copy
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

_parsing = threading.Lock()


@cache
def _parsed(path: Path, style: str) -> TTFFont:
    """The font as `add_font` builds it, on a scratch document (only its parse is kept)."""
    from fpdf import FPDF

    with _parsing:
        scratch = FPDF()
        scratch.add_font("template", style, str(path))
        return scratch.fonts[f"template{style}"]


def add_font(pdf: FPDF, family: str, style: str, path: Path) -> None:
    """`pdf.add_font(family, style, str(path))`, from the process's parse of the font."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap

    template = _parsed(path, style)
    if template.color_font is not None:  # drawn per document: not shared (not DejaVu's case)
        pdf.add_font(family, style, str(path))
        return
    font = copy.copy(template)
    font.i = len(pdf.fonts) + 1
    font.fontkey = f"{family.lower()}{style}"
    font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(template.cw)  # a defaultdict: reading a missing width stores it
    font.glyph_ids = dict(template.glyph_ids)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None  # built from the file when text shaping asks for it
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font
