"""Read back what a PDF page really draws: text fragments with positions, and filled rectangles."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import ContentStream


@dataclass(frozen=True)
class TextRun:
    text: str
    x: float
    y: float
    font_size: float


def _mul(a: list[float], b: list[float]) -> list[float]:
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3], a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_runs(pdf: bytes, page: int = 0) -> list[TextRun]:
    runs: list[TextRun] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            m = _mul(tm, cm)
            runs.append(TextRun(text.strip(), m[4], m[5], size))

    reader(pdf).pages[page].extract_text(visitor_text=visit)
    return runs


def rects(pdf: bytes, page: int = 0) -> list[tuple[float, float, float, float]]:
    """Every `re` rectangle on the page in page coordinates (x, y, w, h), transforms applied."""
    r = reader(pdf)
    pg = r.pages[page]
    ops = ContentStream(pg.get_contents(), r).operations
    ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    stack: list[list[float]] = []
    out = []
    for operands, op in ops:
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _mul([float(v) for v in operands], ctm)
        elif op == b"re":
            x, y, w, h = (float(v) for v in operands)
            out.append((x * ctm[0] + ctm[4], y * ctm[3] + ctm[5], w * ctm[0], h * ctm[3]))
    return out
