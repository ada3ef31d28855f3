"""Fixtures for the report tests: varied evidence photos made with Pillow plus real GPS photos."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter

from reports.data import EvidencePhoto
from reports.photos import make_print_derivative

REAL_PHOTOS = Path("/work/shared/data/photos_exif/gps")
_SIZES = [(1600, 1200), (1200, 1600), (640, 480), (2048, 1536), (800, 800), (1920, 1080), (480, 640)]


def _make_photo(path: Path, seed: int) -> None:
    """A street-scene-like picture: sky/road gradient, a 'car' box, a plate, noise (varied per seed)."""
    rnd = random.Random(seed)
    w, h = _SIZES[seed % len(_SIZES)]
    im = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(im)
    sky = (rnd.randrange(90, 200), rnd.randrange(120, 220), rnd.randrange(170, 255))
    road = (rnd.randrange(40, 110),) * 3
    for y in range(h):
        t = y / h
        c = tuple(int(sky[i] * (1 - t) + road[i] * t) for i in range(3))
        draw.line([(0, y), (w, y)], fill=c)
    car = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
    x0, y0 = rnd.randrange(w // 8, w // 3), rnd.randrange(h // 3, h // 2)
    draw.rounded_rectangle([x0, y0, x0 + w // 2, y0 + h // 3], radius=w // 40, fill=car)
    draw.rectangle([x0 + w // 5, y0 + h // 4, x0 + w // 5 + w // 8, y0 + h // 4 + h // 22], fill="white")
    draw.text((x0 + w // 5 + 6, y0 + h // 4 + 4), f"8ABC{seed:03d}", fill="black")
    for _ in range(200):
        px, py = rnd.randrange(w), rnd.randrange(h)
        draw.point((px, py), fill=(rnd.randrange(256),) * 3)
    im = im.filter(ImageFilter.GaussianBlur(0.6))
    im.save(path, "JPEG", quality=90)


@pytest.fixture(scope="session")
def evidence_photos(tmp_path_factory: pytest.TempPathFactory) -> list[EvidencePhoto]:
    """22 print derivatives: 20 generated photos (several sizes and orientations) and 2 real GPS photos."""
    src = tmp_path_factory.mktemp("photo-src")
    out = tmp_path_factory.mktemp("photo-print")
    photos: list[EvidencePhoto] = []
    for i in range(20):
        original = src / f"gen{i:02d}.jpg"
        _make_photo(original, i)
        deriv = make_print_derivative(original, out / f"gen{i:02d}.jpg")
        photos.append(EvidencePhoto(str(deriv), f"Generated view {i}"))
    for name in ("DSCN0010.jpg", "DSCN0027.jpg"):
        deriv = make_print_derivative(REAL_PHOTOS / name, out / name)
        photos.append(EvidencePhoto(str(deriv), f"Real photo {name}"))
    return photos
