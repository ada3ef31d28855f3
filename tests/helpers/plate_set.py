"""A labelled synthetic test set of plate photos for the plate reader (issue 20): deterministic from a seed.

Each sample is an 800x600 JPEG of a car's rear with one plate, and its label (the plate, its style, the
conditions, and whether a person could read it). Plates are drawn with Pillow and the fonts installed
(DejaVu Sans Bold / Condensed Bold / Mono Bold; the real plate fonts are not free to ship), in the layouts
of five US states and the two UK plates:

* ``CA`` white, dark-blue characters, red "California" above (1ABC234);
* ``NY`` white with a gold band, navy characters, "NEW YORK" above (ABC1234);
* ``TX`` white, black characters, "TEXAS" above (ABC1234 / AB1C234);
* ``FL`` white, green characters, "Florida" above, "Sunshine State" below (ABCD12 / 123ABC);
* ``IL`` white, dark-red characters, "Land of Lincoln" above (AB 12345);
* ``UK_FRONT`` white, ``UK_REAR`` yellow: black characters, blue GB band at the left (AB12 CDE).

Conditions: plate width 130-320 px in the photo (a close-up at 2-4 m), rotation up to +-8 degrees and a
slight perspective shear, Gaussian blur up to radius 1.6, glare (a white ellipse over part of the plate),
night (dark, a headlight gradient and sensor noise), dirt (brown blotches). A sample is *legible* unless its
plate is narrower than 150 px with blur above 1.2 (the test set keeps those to check that no reading is
taken from them rather than a wrong one).
"""

from __future__ import annotations

import io
import random
import string
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu/"
LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IOQ")  # most states leave these out


@dataclass(frozen=True)
class Style:
    code: str
    jurisdiction: str
    background: tuple[int, int, int]
    ink: tuple[int, int, int]
    top: str
    top_ink: tuple[int, int, int]
    font: str
    aspect: float  # width / height
    pattern: str  # L letter, D digit, space kept


STYLES = (
    Style("CA", "CA", (246, 246, 242), (22, 32, 110), "California", (180, 20, 30), "DejaVuSans-Bold.ttf", 2.0,
          "DLLLDDD"),
    Style("NY", "NY", (250, 248, 240), (18, 30, 90), "NEW YORK", (18, 30, 90), "DejaVuSansCondensed-Bold.ttf", 2.0,
          "LLLDDDD"),
    Style("TX", "TX", (244, 244, 244), (10, 10, 10), "TEXAS", (10, 10, 10), "DejaVuSansMono-Bold.ttf", 2.0,
          "LLLDDDD"),
    Style("FL", "FL", (248, 248, 246), (20, 110, 50), "Florida", (230, 110, 20), "DejaVuSans-Bold.ttf", 2.0,
          "LLLLDD"),
    Style("IL", "IL", (245, 245, 245), (130, 20, 30), "Land of Lincoln", (30, 30, 120),
          "DejaVuSansCondensed-Bold.ttf", 2.0, "LL DDDDD"),
    Style("UK_FRONT", "GB", (250, 250, 250), (5, 5, 5), "", (5, 5, 5), "DejaVuSansCondensed-Bold.ttf", 4.7,
          "LLDD LLL"),
    Style("UK_REAR", "GB", (246, 200, 30), (5, 5, 5), "", (5, 5, 5), "DejaVuSansCondensed-Bold.ttf", 4.7,
          "LLDD LLL"),
    # dark plates with light characters: California's legacy black plate (yellow on black, still valid on
    # classic cars) and Delaware's navy plate (white digits)
    Style("CA_BLACK", "CA", (18, 18, 20), (236, 196, 40), "CALIFORNIA", (236, 196, 40), "DejaVuSans-Bold.ttf", 2.0,
          "LLL DDD"),
    Style("DE", "DE", (20, 36, 82), (245, 245, 245), "DELAWARE", (230, 190, 60), "DejaVuSansCondensed-Bold.ttf",
          2.0, "DDDDDD"),
)
DARK = frozenset({"CA_BLACK", "DE"})


@dataclass(frozen=True)
class Sample:
    plate: str
    """As printed, without spaces (what a correct reading is)."""
    jurisdiction: str
    style: str
    width_px: int
    angle: float
    blur: float
    glare: bool
    night: bool
    dirt: bool
    legible: bool
    jpeg: bytes


@lru_cache(maxsize=32)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS + name, size)


def _text(rnd: random.Random, pattern: str) -> str:
    return "".join(rnd.choice(LETTERS) if c == "L" else rnd.choice(string.digits) if c == "D" else " "
                   for c in pattern)


def _fit(draw: ImageDraw.ImageDraw, text: str, name: str, max_w: float, max_h: float) -> ImageFont.FreeTypeFont:
    size = int(max_h)
    while size > 6:
        font = _font(name, size)
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
        if x1 - x0 <= max_w and y1 - y0 <= max_h:
            return font
        size -= 2
    return _font(name, 6)


def plate_image(style: Style, text: str, width: int) -> Image.Image:
    """The plate alone, ``width`` px wide, in ``style``'s layout."""
    height = int(width / style.aspect)
    img = Image.new("RGBA", (width, height), style.background + (255,))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, width - 1, height - 1], radius=max(3, width // 40),
                        outline=(150, 150, 150) if style.code in DARK else (40, 40, 40), width=2)
    left = 0
    if style.code.startswith("UK"):
        band = int(width * 0.09)
        d.rectangle([2, 2, band, height - 3], fill=(0, 50, 160))
        d.text((band // 2 + 2, int(height * 0.72)), "GB", fill=(255, 255, 255),
               font=_font("DejaVuSans-Bold.ttf", max(6, band // 2)), anchor="mm")
        left = band
        font = _fit(d, text, style.font, (width - left) * 0.86, height * 0.72)
        d.text((left + (width - left) / 2, height / 2), text, fill=style.ink, font=font, anchor="mm")
        return img
    if style.code == "NY":
        d.rectangle([2, int(height * 0.86), width - 3, height - 3], fill=(230, 170, 30))
    top_font = _fit(d, style.top, "DejaVuSans-Bold.ttf", width * 0.6, height * 0.17)
    d.text((width / 2, height * 0.13), style.top, fill=style.top_ink, font=top_font, anchor="mm")
    font = _fit(d, text, style.font, width * 0.84, height * 0.50)
    d.text((width / 2, height * 0.53), text, fill=style.ink, font=font, anchor="mm")
    if style.code == "FL":
        small = _fit(d, "Sunshine State", "DejaVuSans.ttf", width * 0.5, height * 0.12)
        d.text((width / 2, height * 0.89), "Sunshine State", fill=style.ink, font=small, anchor="mm")
    return img


def sample(seed: int) -> Sample:
    """One labelled photo; the same seed always gives the same photo."""
    rnd = random.Random(seed)
    style = STYLES[seed % len(STYLES)]
    text = _text(rnd, style.pattern)
    width = rnd.randint(130, 320) if style.aspect < 3 else rnd.randint(220, 420)
    angle = rnd.uniform(-8, 8)
    blur = rnd.choice((0, 0, 0.5, 0.8, 1.2, 1.6))
    glare, night, dirt = rnd.random() < 0.2, rnd.random() < 0.2, rnd.random() < 0.2
    scene = Image.new("RGB", (800, 600), (rnd.randint(90, 160), rnd.randint(100, 170), rnd.randint(120, 200)))
    d = ImageDraw.Draw(scene)
    d.rectangle([0, 330, 800, 600], fill=(68, 70, 74))
    body = tuple(rnd.randint(20, 230) for _ in range(3))
    d.rounded_rectangle([90, 200, 710, 560], radius=40, fill=body, outline=(20, 20, 20), width=3)  # type: ignore[arg-type]
    d.rectangle([150, 225, 650, 320], fill=(55, 70, 85))
    plate = plate_image(style, text, width)
    if dirt:  # brown blotches over the plate (composited: the plate stays opaque under them)
        mud = Image.new("RGBA", plate.size, (0, 0, 0, 0))
        pd = ImageDraw.Draw(mud)
        for _ in range(rnd.randint(3, 8)):
            x, y = rnd.randint(0, plate.width), rnd.randint(0, plate.height)
            r = rnd.randint(2, max(3, plate.height // 6))
            pd.ellipse([x - r, y - r, x + r, y + r], fill=(100, 80, 50, rnd.randint(60, 140)))
        plate = Image.alpha_composite(plate, mud)
    shear = rnd.uniform(-0.08, 0.08)
    plate = plate.transform(plate.size, Image.Transform.AFFINE, (1, shear, -shear * plate.height / 2, 0, 1, 0),
                            resample=Image.Resampling.BICUBIC)
    plate = plate.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    px, py = 400 - plate.width // 2, rnd.randint(380, 520 - plate.height // 2)
    scene.paste(plate, (px, py), plate)
    d.text((8, 6), f"2026-11-{rnd.randint(10, 28)} 0{rnd.randint(0, 9)}:{rnd.randint(10, 59)}:07",
           fill=(255, 220, 0), font=_font("DejaVuSans.ttf", 16))
    if glare:
        overlay = Image.new("RGBA", scene.size, (0, 0, 0, 0))
        od = ImageDraw.Draw(overlay)
        gx = px + rnd.randint(0, plate.width)
        od.ellipse([gx - width // 6, py - 10, gx + width // 6, py + plate.height + 10], fill=(255, 255, 255, 120))
        overlay = overlay.filter(ImageFilter.GaussianBlur(8))
        scene = Image.alpha_composite(scene.convert("RGBA"), overlay).convert("RGB")
    if night:
        scene = scene.point(lambda v: int(v * 0.35))
        # seeded (Pillow's effect_noise draws from C's rand(): a night photo differed from run to run)
        grain = np.random.default_rng(seed).normal(128, 18, (scene.height, scene.width)).clip(0, 255)
        noise = Image.fromarray(grain.astype(np.uint8)).convert("RGB")
        scene = Image.blend(scene, noise, 0.12)
    if blur:
        scene = scene.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=80)
    legible = not (width < 150 and blur > 1.2)
    return Sample(text.replace(" ", ""), style.jurisdiction, style.code, width, round(angle, 1), blur, glare, night,
                  dirt, legible, out.getvalue())


DEV_SEED = 1000
"""The development split: the reader was tuned looking at these photos' failures."""
HELD_OUT_SEED = 50_000
"""The held-out split: never looked at while tuning, reported next to the development split."""


def labelled_set(count: int, first_seed: int = DEV_SEED) -> list[Sample]:
    return [sample(first_seed + i) for i in range(count)]


def categories(s: Sample) -> list[str]:
    """The categories a sample counts in for the per-category table (a photo counts in several)."""
    out = [f"style {s.style}", "dark plate" if s.style in DARK else "light plate",
           "angle <3" if abs(s.angle) < 3 else "angle 3-6" if abs(s.angle) < 6 else "angle 6-8",
           f"blur {s.blur:g}", "width <180" if s.width_px < 180 else "width 180-260" if s.width_px < 260 else "width 260+"]
    out += [name for name, on in (("glare", s.glare), ("night", s.night), ("dirt", s.dirt)) if on]
    if not (s.glare or s.night or s.dirt or s.blur):
        out.append("clean (no glare/night/dirt/blur)")
    return out


def style(code: str) -> Style:
    return next(s for s in STYLES if s.code == code)


def scene_with(plates: list[tuple[str, str, int, tuple[int, int]]], *, blur: float = 0.0,
               stamp: bool = True) -> bytes:
    """An 800x600 JPEG of a car's rear with the given plates (style code, text, width, top-left corner)
    and no other condition: for tests of what the reader does with two plates, a tiny one, a blurred one."""
    scene = Image.new("RGB", (800, 600), (130, 150, 180))
    d = ImageDraw.Draw(scene)
    d.rectangle([0, 330, 800, 600], fill=(68, 70, 74))
    d.rounded_rectangle([40, 200, 760, 560], radius=40, fill=(150, 40, 40), outline=(20, 20, 20), width=3)
    for code, text, width, corner in plates:
        plate = plate_image(style(code), text, width)
        scene.paste(plate, corner, plate)
    if stamp:
        d.text((8, 6), "2026-11-19 09:14:07", fill=(255, 220, 0), font=_font("DejaVuSans.ttf", 16))
    if blur:
        scene = scene.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=85)
    return out.getvalue()
