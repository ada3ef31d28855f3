"""Read back what a PDF page really draws: text fragments with positions, and filled rectangles."""

from __future__ import annotations

import io
import subprocess
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


def colour_problems(pdf: bytes) -> list[str]:
    """What in a PDF would print with cyan, magenta or yellow ink: colour operators other than a K-only
    `0 0 0 k`/`K` (RGB, gray-as-RGB, colour spaces), and images that are not DeviceGray or masks.

    Walks every page's content stream and every form XObject it uses (the notices draw their standing
    parts as forms), the way a preflight does.
    """
    r = reader(pdf)
    problems: list[str] = []
    seen: set[int] = set()

    def walk(content: object, resources: object, where: str) -> None:
        ops = ContentStream(content, r).operations
        for operands, op in ops:
            if op in (b"k", b"K"):
                c, m, y = (float(v) for v in operands[:3])
                if c or m or y:
                    problems.append(f"{where}: CMYK colour {operands} {op.decode()}")
            elif op in (b"rg", b"RG", b"sc", b"SC", b"scn", b"SCN", b"cs", b"CS"):
                problems.append(f"{where}: {op.decode()} {operands}")
            elif op in (b"g", b"G"):
                pass  # DeviceGray prints with K alone
            elif op == b"INLINE IMAGE":
                settings = operands.get("settings", {})
                if not (settings.get("/IM") or settings.get("/ImageMask")):
                    cs = settings.get("/CS") or settings.get("/ColorSpace")
                    if cs not in ("/G", "/DeviceGray"):
                        problems.append(f"{where}: inline image in {cs}")
        xobjects = (resources or {}).get("/XObject", {})  # type: ignore[union-attr]
        for name, ref in xobjects.items():
            obj = ref.get_object()
            key = id(obj)
            if key in seen:
                continue
            seen.add(key)
            if obj.get("/Subtype") == "/Image":
                if not obj.get("/ImageMask") and obj.get("/ColorSpace") != "/DeviceGray":
                    problems.append(f"{where}: image {name} in {obj.get('/ColorSpace')}")
            elif obj.get("/Subtype") == "/Form":
                walk(obj, obj.get("/Resources"), f"{where} form {name}")

    for i, page in enumerate(r.pages):
        walk(page.get_contents(), page.get("/Resources"), f"page {i + 1}")
    return problems


def unembedded_fonts(path: str) -> list[str]:
    """`pdffonts` lines of fonts that are not embedded (poppler-utils)."""
    out = subprocess.run(["pdffonts", path], check=True, capture_output=True, text=True, timeout=60).stdout
    rows = out.splitlines()[2:]
    return [row for row in rows if row.split()[-5] != "yes"] + ([] if rows else ["no fonts at all"])
