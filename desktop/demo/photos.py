"""Believable evidence photos for the demo office: a street scene with a readable plate.

Each photo carries EXIF capture time and GPS, as a handheld's camera would write them.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from fractions import Fraction
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

_CAR_COLOURS = {
    "WT": (232, 232, 228), "BK": (30, 30, 34), "GY": (128, 130, 134), "SL": (185, 188, 192),
    "BL": (40, 70, 140), "RD": (160, 30, 30), "BN": (110, 75, 45), "GN": (40, 100, 60),
    "MR": (110, 20, 40), "GO": (190, 160, 90), "TN": (200, 180, 140), "OT": (90, 120, 110),
}


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType
        return ImageFont.load_default()


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    hundredths = round(abs(value) * 3600 * 100)
    deg, rest = divmod(hundredths, 3600 * 100)
    minutes, sec_h = divmod(rest, 60 * 100)
    return (Fraction(deg, 1), Fraction(minutes, 1), Fraction(sec_h, 100))


def street_photo(plate: str, jurisdiction: str, colour: str, make: str, taken_at: datetime,
                 lat: float, lon: float, *, seed: int, caption: str = "plate",
                 size: tuple[int, int] = (800, 600)) -> bytes:
    """A JPEG of a parked car whose plate reads `plate`, with EXIF time and GPS."""
    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (120, 150, 190))
    d = ImageDraw.Draw(img)
    # sky to street: buildings, sidewalk, road
    for _building in range(6):
        bx = rnd.randint(-40, w - 60)
        bw = rnd.randint(90, 220)
        bh = rnd.randint(120, 260)
        shade = rnd.randint(120, 190)
        d.rectangle([bx, 230 - bh, bx + bw, 230], fill=(shade, shade - 15, shade - 30))
        for wy in range(230 - bh + 12, 220, 26):
            for wx in range(bx + 10, bx + bw - 14, 24):
                d.rectangle([wx, wy, wx + 12, wy + 14], fill=(70, 80, 95))
    d.rectangle([0, 230, w, 290], fill=(170, 168, 160))  # sidewalk
    curb = (200, 40, 40) if rnd.random() < 0.3 else (190, 190, 185)
    d.rectangle([0, 288, w, 298], fill=curb)
    d.rectangle([0, 298, w, h], fill=(70, 72, 76))  # road
    for x in range(0, w, 80):
        d.rectangle([x, h - 40, x + 40, h - 34], fill=(225, 210, 90))
    body = _CAR_COLOURS.get(colour, (120, 120, 125))
    if caption == "plate":
        # rear of the car, close up
        d.rounded_rectangle([110, 250, w - 110, h - 60], radius=40, fill=body, outline=(20, 20, 20), width=3)
        d.rectangle([170, 275, w - 170, 360], fill=(60, 75, 90))  # rear window
        d.rectangle([130, 380, 210, 420], fill=(170, 20, 20))
        d.rectangle([w - 210, 380, w - 130, 420], fill=(170, 20, 20))
        px0, py0 = w // 2 - 150, 420
        d.rounded_rectangle([px0, py0, px0 + 300, py0 + 120], radius=10, fill=(245, 245, 240),
                            outline=(30, 30, 80), width=4)
        state_name = {"CA": "California", "NY": "New York", "TX": "Texas", "AZ": "Arizona",
                      "NV": "Nevada", "FL": "Florida", "WA": "Washington", "OR": "Oregon",
                      "IL": "Illinois"}.get(jurisdiction, jurisdiction)
        d.text((w // 2, py0 + 20), state_name, fill=(170, 20, 30), font=_font(22), anchor="mm")
        d.text((w // 2, py0 + 72), plate, fill=(20, 30, 110), font=_font(64), anchor="mm")
        d.text((w // 2, h - 30), make, fill=(235, 235, 235), font=_font(20), anchor="mm")
    else:
        # side view with the kerb and any signage
        d.rounded_rectangle([90, 300, w - 90, 470], radius=30, fill=body, outline=(20, 20, 20), width=3)
        d.polygon([(230, 300), (290, 230), (w - 290, 230), (w - 220, 300)], fill=body, outline=(20, 20, 20))
        for cx in (210, w - 210):
            d.ellipse([cx - 55, 420, cx + 55, 530], fill=(25, 25, 25))
            d.ellipse([cx - 25, 450, cx + 25, 500], fill=(150, 150, 150))
        d.rectangle([w - 60, 120, w - 54, 290], fill=(90, 90, 90))
        d.rectangle([w - 110, 120, w - 4, 190], fill=(240, 240, 240), outline=(180, 0, 0), width=4)
        d.text((w - 57, 140), "NO", fill=(180, 0, 0), font=_font(22), anchor="mm")
        d.text((w - 57, 168), "PARKING", fill=(180, 0, 0), font=_font(16), anchor="mm")
    stamp = taken_at.strftime("%Y-%m-%d %H:%M:%S")
    d.rectangle([0, 0, w, 28], fill=(0, 0, 0))
    d.text((8, 5), f"{stamp}  {lat:.5f},{lon:.5f}", fill=(255, 220, 0), font=_font(16))

    exif = Image.Exif()
    exif[0x010F] = "Zebra"  # Make
    exif[0x0110] = "TC58 Enforcement"  # Model
    exif[0x0112] = 1  # Orientation
    local = taken_at
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    offset = local.strftime("%z")
    exif_ifd[0x9011] = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = _dms(lat)
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = _dms(lon)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=78, exif=exif.tobytes())
    return buf.getvalue()
