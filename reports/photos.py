"""Print-resolution derivatives of evidence photos, and the check that a JPEG is whole.

Evidence originals are large and never rewritten; notices embed a small derivative made once, so a batch
page costs a few tens of kilobytes and ReportLab embeds each file once however often it is drawn.

Pillow decodes a JPEG whose compressed data is damaged without complaint (libjpeg only warns and fills
the rest with grey), so `jpeg_problem` walks the file's marker structure first: a photo printed on a
legal notice must be the photo that was taken, not a grey-smeared guess.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps


class CorruptPhoto(OSError):
    """The photo's file is damaged: its structure is broken or it does not decode."""


PRINT_LONG_EDGE_PX = 600  # about 235 dpi across the 2.55 in photo box of a notice
PRINT_JPEG_QUALITY = 70


def make_print_derivative(src: str | os.PathLike[str], dest: str | os.PathLike[str],
                          long_edge: int = PRINT_LONG_EDGE_PX, quality: int = PRINT_JPEG_QUALITY,
                          grey: bool = True) -> Path:
    """Write a baseline JPEG of `src` at most `long_edge` px on its long side, EXIF rotation applied.

    `grey` (the notices' copy) makes a one-channel image: it prints with black ink alone (a DeviceGray
    image in the PDF) and is about a quarter of the work. The JPEG decoder decodes only the luminance and
    scales while decoding (`draft()`: 1/2, 1/4 or 1/8 of the size when the original is at least twice as
    large), and a bilinear reduction finishes it: 4 ms for an 800 x 600 photo where a colour copy with
    Lanczos and an optimised encoding took 26 ms. The colour copy (`grey=False`) is the hearing packet's,
    where a kerb's colour is evidence. The file is written to a temporary name and renamed, so a reader
    never sees half a copy. Raises OSError (from Pillow) for a file that is not a readable image.
    """
    dest_path = Path(dest)
    with open(src, "rb") as fh:
        head = fh.read(2)
    if head == b"\xff\xd8":
        problem = jpeg_problem(Path(src).read_bytes())
        if problem:
            raise CorruptPhoto(problem)
    mode = "L" if grey else "RGB"
    with Image.open(src) as opened:
        opened.draft(mode, (long_edge, long_edge))
        im: Image.Image = ImageOps.exif_transpose(opened)
        if im.mode != mode:
            im = im.convert(mode)
        im.thumbnail((long_edge, long_edge), Image.Resampling.BILINEAR if grey else Image.Resampling.LANCZOS)
        fd, tmp = tempfile.mkstemp(prefix=".deriv-", suffix=".jpg", dir=dest_path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                im.save(fh, "JPEG", quality=quality, optimize=not grey)
            os.replace(tmp, dest_path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return dest_path


_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0-7 carry no length


def jpeg_problem(data: bytes) -> str | None:
    """Why a JPEG file is damaged, or None when its structure is whole (ITU-T T.81 annex B).

    Checks: starts with SOI; every marker segment's length stays inside the file; a frame header comes
    before the scan; inside entropy-coded data only stuffed FF00 bytes and restart markers in their
    cyclic order RST0..RST7 appear; the file ends with EOI. It does not decode the image (Pillow does
    that when the derivative is made); it finds what libjpeg would only warn about.
    """
    n = len(data)
    if n < 4 or data[:2] != b"\xff\xd8":
        return "not a JPEG file (no start-of-image marker)"
    pos = 2
    frame = False
    while pos < n:
        if data[pos] != 0xFF:
            return f"corrupt data at byte {pos:,}: a marker was expected"
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return None
        if marker in _STANDALONE:
            continue
        if marker == 0x00:
            return f"corrupt data at byte {pos:,}: a stuffed byte outside compressed data"
        if pos + 2 > n:
            break
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > n:
            return f"the file is cut short (a segment at byte {pos:,} runs past the end)"
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = True
        pos += length
        if marker == 0xDA:
            if not frame:
                return "compressed data before any frame header"
            expect = 0
            while True:
                i = data.find(b"\xff", pos)
                if i < 0 or i + 1 >= n:
                    return "the file is cut short (compressed data runs to the end)"
                nxt = data[i + 1]
                if nxt == 0x00 or nxt == 0xFF:
                    pos = i + 1 if nxt == 0xFF else i + 2
                    continue
                if 0xD0 <= nxt <= 0xD7:
                    if nxt - 0xD0 != expect:
                        return (f"corrupt compressed data at byte {i:,}: restart marker {nxt - 0xD0} "
                                f"where {expect} was due")
                    expect = (expect + 1) % 8
                    pos = i + 2
                    continue
                if nxt < 0xC0:
                    return f"corrupt compressed data at byte {i:,} (invalid marker FF{nxt:02X})"
                pos = i
                break
    return "the file is cut short (no end-of-image marker)"
