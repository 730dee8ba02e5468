"""The documents' TrueType fonts, read once per process instead of once per PDF.

fpdf2's `add_font` parses the whole font for every document (its character map and the
width of each of DejaVu's ~3,300 glyphs): half the time of drawing an invoice, paid again
for every confirmation e-mail with a PDF attached. Here each font is parsed once and each
document gets a copy that shares what drawing only reads (the widths, the character map,
the glyph ids, the font descriptor) and owns what a document changes: the glyphs it used
(its subset), its place in the document's font list and its fontTools font, which fpdf2
cuts down to the used glyphs in place when the PDF is written (so it cannot be shared; it
is opened lazily, which costs little).

Cutting the font down was most of what was left: fontTools reads the names, outlines and
layout tables of all ~3,300 glyphs to keep a few dozen. So each process also keeps a base
subset of each font (Latin, Greek, Cyrillic, punctuation and currency signs: ~1,100
glyphs, glyph names kept), and a document whose glyphs all lie in it is cut down from the
base instead (half the time of an invoice); one with a glyph outside it (Armenian, Hebrew,
Georgian, ...) from the whole font. Either way the PDF's bytes are the same as with
fpdf2's own `add_font`: a subset of a subset holding the same glyphs is the same font.
"""

from __future__ import annotations

import copy
import io
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

_parsing = threading.Lock()

# The characters of the base subset: what names, addresses, amounts and labels mostly use.
BASE_REPERTOIRE: tuple[range, ...] = (
    range(0x20, 0x250),  # Basic Latin, Latin-1, Latin Extended-A and B
    range(0x370, 0x460),  # Greek, Cyrillic
    range(0x1E00, 0x1F00),  # Latin Extended Additional (Vietnamese, Welsh, ...)
    range(0x2010, 0x2050),  # dashes, quotes, bullets, ellipsis, per mille
    range(0x20A0, 0x20C1),  # currency signs
    range(0x2116, 0x2117),  # numero sign
    range(0x2122, 0x2123),  # trade mark
)
# As fpdf2 subsets: the tables it drops are not worth keeping in the base either.
_DROPPED_TABLES = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT",
                   "CBLC", "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]


@cache
def _parsed(path: Path, style: str) -> TTFFont:
    """The font as `add_font` builds it, on a scratch document (only its parse is kept)."""
    from fpdf import FPDF

    with _parsing:
        scratch = FPDF()
        scratch.add_font("template", style, str(path))
        return scratch.fonts[f"template{style}"]


@cache
def _base_subset(path: Path) -> tuple[bytes, frozenset[str]]:
    """The font cut down to BASE_REPERTOIRE (glyph names kept), and the names it holds."""
    from fontTools import subset, ttLib

    with _parsing:
        font = ttLib.TTFont(path, recalcTimestamp=False)  # the head table's date unchanged
        options = subset.Options(notdef_outline=True, recommended_glyphs=True,
                                 glyph_names=True)
        options.drop_tables += _DROPPED_TABLES
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[code for block in BASE_REPERTOIRE for code in block])
        subsetter.subset(font)
        names = frozenset(font.getGlyphOrder())
        buffer = io.BytesIO()
        font.save(buffer)
        font.close()
        return buffer.getvalue(), names


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


def subset_from_base(font: TTFFont, path: Path) -> None:
    """Before the PDF is written: cut `font` down from the base subset when it holds every
    glyph the document used (see the module's docstring)."""
    from fontTools import ttLib

    data, names = _base_subset(path)
    if not names.issuperset(font.subset.get_all_glyph_names()):
        return
    font.ttfont.close()
    font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)


FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
FILES = {"": FONTS / "DejaVuSans.ttf", "B": FONTS / "DejaVuSans-Bold.ttf"}


@cache
def _document_class() -> type[FPDF]:
    from fpdf import FPDF

    class DocumentPDF(FPDF):
        """An fpdf2 document with the documents' fonts, embedded from the base subsets."""

        def output(self, *args: Any, **kwargs: Any) -> Any:
            for style, path in FILES.items():
                subset_from_base(self.fonts[f"{FAMILY.lower()}{style}"], path)
            return super().output(*args, **kwargs)

    return DocumentPDF


def document_pdf(**options: Any) -> FPDF:
    """A new fpdf2 document (`FPDF(**options)`) with the documents' Unicode font, family
    FAMILY ("DejaVu"), regular and bold ("B"): parsed once per process and embedded from
    the base subset when it holds every glyph used (see the module's docstring)."""
    pdf = _document_class()(**options)
    for style, path in FILES.items():
        add_font(pdf, FAMILY, style, path)
    return pdf
