"""Print-resolution derivatives of evidence photos.

Evidence originals are large and never rewritten; notices embed a small derivative made once, so a batch
page costs a few tens of kilobytes and ReportLab embeds each file once however often it is drawn.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

PRINT_LONG_EDGE_PX = 600  # about 235 dpi across the 2.55 in photo box of a notice
PRINT_JPEG_QUALITY = 70


def make_print_derivative(src: str | os.PathLike[str], dest: str | os.PathLike[str],
                          long_edge: int = PRINT_LONG_EDGE_PX, quality: int = PRINT_JPEG_QUALITY) -> Path:
    """Write a baseline RGB JPEG of `src` at most `long_edge` px on its long side, EXIF rotation applied.

    `draft()` lets the JPEG decoder scale while decoding (PLATFORM-NOTES: 11 ms instead of 15 for a
    1600x1200 photo). The file is written to a temporary name and renamed, so a reader never sees half
    a derivative. Raises OSError (from Pillow) for a file that is not a readable image.
    """
    dest_path = Path(dest)
    with Image.open(src) as im:
        im.draft("RGB", (long_edge, long_edge))
        im = ImageOps.exif_transpose(im)
        if im.mode != "RGB":
            im = im.convert("RGB")
        im.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
        fd, tmp = tempfile.mkstemp(prefix=".deriv-", suffix=".jpg", dir=dest_path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                im.save(fh, "JPEG", quality=quality, optimize=True)
            os.replace(tmp, dest_path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return dest_path
