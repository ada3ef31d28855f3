"""The appellant's own PDFs, appended to the evidence packet page for page after a title sheet each.

Bounded and defensive, because the file came from outside: at most `MAX_PAGES_PER_DOCUMENT` pages of each
document are appended (the rest are named on the title sheet, the original stays on file); a file that is
missing, encrypted, malformed or otherwise unreadable costs one title sheet with one sentence saying so, and
never the packet. pypdf copies the pages' content streams as they are (no re-encoding, nothing executed).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from reports.data import AppellantDocument

log = logging.getLogger(__name__)

MAX_PAGES_PER_DOCUMENT = 40
"""An appellant's PDF beyond this is cut (a 500-page upload must not make a 500-page packet)."""


def _title_sheet(title: str, lines: Sequence[str], page_size: tuple[float, float]) -> bytes:
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page_size, title=title, creator="Curbdesk", invariant=1)
    story = [Paragraph(escape(title), styles["Heading2"]), Spacer(0, 8)]
    story += [Paragraph(escape(line), styles["BodyText"]) for line in lines]
    doc.build(story)
    return buf.getvalue()


def append_appellant_pdfs(packet: bytes, documents: Sequence[AppellantDocument],
                          page_size: tuple[float, float] = letter, max_pages: int = MAX_PAGES_PER_DOCUMENT) -> bytes:
    """`packet` with each PDF among `documents` appended (title sheet, then its pages)."""
    pdfs = [d for d in documents if d.media_type == "application/pdf" or d.file_name.lower().endswith(".pdf")]
    if not pdfs:
        return packet
    from pypdf import PdfReader, PdfWriter  # lazy: pypdf costs 66 ms; only packets and previews need it

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(packet)))
    for doc in pdfs:
        title = f"Appellant document: {doc.file_name}"
        head = [f"SHA-256 {doc.sha256}"]
        try:
            source = PdfReader(Path(doc.path), strict=False)
            if source.is_encrypted and not source.decrypt(""):
                raise ValueError("it is protected by a password")
            total = len(source.pages)
            shown = min(total, max_pages)
            pages = [source.pages[i] for i in range(shown)]
            cut = [f"Only its first {shown} of {total} pages are reproduced here; the original is on file."] \
                if total > shown else []
            sheet = _title_sheet(title, head + [f"{total} page(s), reproduced on the following pages as received."]
                                 + cut, page_size)
            staged = PdfWriter()  # copied first, so a page that fails half-way leaves the packet untouched
            for page in pages:
                staged.add_page(page)
            body = io.BytesIO()
            staged.write(body)
        except Exception as exc:  # noqa: BLE001 - a hostile or broken upload must never break the packet
            log.warning("appellant document %s not reproduced: %s", doc.file_name, exc)
            reason = str(exc).strip().rstrip(".") or type(exc).__name__
            writer.append(PdfReader(io.BytesIO(_title_sheet(title, head + [
                f"This document could not be reproduced ({reason[:160]}); the original is on file under the "
                "SHA-256 above."], page_size))))
            continue
        writer.append(PdfReader(io.BytesIO(sheet)))
        writer.append(PdfReader(body))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
