"""The QR code drawn on a notice carries the pay URL: every module read back from the rendered page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from reports import geometry as geo
from reports.notices import NoticeOfViolation
from reports.qr import encode_rows
from reports.samples import sample_notice


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_every_module_of_the_pay_qr_is_where_it_belongs(tmp_path: Path) -> None:
    n = sample_notice("CA", number=42)
    doc = NoticeOfViolation(n)
    pdf = tmp_path / "n.pdf"
    pdf.write_bytes(doc.render())
    dpi = 400
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "p")],
                   check=True)
    page = Image.open(tmp_path / "p.png").convert("L")
    rows = encode_rows(n.agency.pay_url(n.facts.citation_number, n.facts.plate))
    count = len(rows)
    x, y = doc.qr_origin()
    module = geo.QR_SIZE / (count + 8)
    height = doc.page_size[1]
    wrong = []
    for r in range(-1, count + 1):  # one module of quiet zone around the symbol must read light
        for c in range(-1, count + 1):
            px = (x + (4 + c + 0.5) * module) / 72 * dpi
            py = (height - (y + geo.QR_SIZE - (4 + r + 0.5) * module)) / 72 * dpi
            dark = page.getpixel((round(px), round(py))) < 128
            want = 0 <= r < count and 0 <= c < count and rows[r][c] == "1"
            if dark != want:
                wrong.append((r, c))
    assert not wrong, f"{len(wrong)} modules read wrong, e.g. {wrong[:5]}"
