"""The typefaces every printed document uses: DejaVu Sans and DejaVu Sans Mono, bundled and embedded.

Print shops and the USPS preflight ask for every font embedded in the PDF (PDF/X-1a, PDF/A and most
RIPs refuse or substitute a font that is only named). ReportLab's standard fonts (Helvetica, Courier) are
never embedded and only cover Latin-1, so an owner called Łukasz, Şahin or Nguyễn printed as boxes.
DejaVu (Bitstream Vera licence, `resources/fonts/LICENSE-DejaVu.txt`) covers Latin, Greek, Cyrillic and
Vietnamese; ReportLab embeds the subset of glyphs a file uses (a notice batch carries a few tens of KB of
font data once per file, not per page).

`register()` runs when `reports.base` is imported (about 40 ms, once per process; the notice run's
worker processes inherit it from the fork server).
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from desktop.resources import resource

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_OBLIQUE = "DejaVuSans-Oblique"
FONT_BOLD_OBLIQUE = "DejaVuSans-BoldOblique"
FONT_MONO = "DejaVuSansMono"

FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FONT_OBLIQUE: "DejaVuSans-Oblique.ttf",
    FONT_BOLD_OBLIQUE: "DejaVuSans-BoldOblique.ttf",
    FONT_MONO: "DejaVuSansMono.ttf",
}

def font_path(name: str) -> Path:
    """Where the bundled TrueType file of `name` lives."""
    return resource("fonts", FILES[name])


def register() -> None:
    """Register the bundled fonts with ReportLab (idempotent); FileNotFoundError names a missing file."""
    known = set(pdfmetrics.getRegisteredFontNames())
    for name, file in FILES.items():
        if name in known:
            continue
        path = font_path(name)
        if not path.exists():
            raise FileNotFoundError(f"the bundled font {file} is missing from {path.parent}; reinstall Curbdesk")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    # <b> and <i> in paragraphs pick the family's faces
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, FONT_OBLIQUE)
    addMapping(FONT, 1, 1, FONT_BOLD_OBLIQUE)
