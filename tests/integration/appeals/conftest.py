"""Fixtures for the appeals tests: cases under each profile, appellant documents, hearing slots."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab.pdfgen.canvas import Canvas

from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, Device, EvidencePhoto, LedgerEntry, Notice, Zone
from tests.helpers.factories import add_citation
from tests.helpers.identities import give_identity

REAL_GPS = Path("/work/shared/data/photos_exif/gps")


def pdf_bytes(text: str = "Receipt for parking meter payment", pages: int = 1) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf)
    for i in range(pages):
        c.drawString(72, 720, f"{text} (page {i + 1})")
        c.showPage()
    c.save()
    return buf.getvalue()


def png_bytes(label: str = "SIGN") -> bytes:
    im = Image.new("RGB", (320, 200), (250, 250, 245))
    d = ImageDraw.Draw(im)
    d.rectangle([20, 20, 300, 180], outline=(200, 0, 0), width=6)
    d.text((60, 90), label, fill=(0, 0, 0))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def bomb_png() -> bytes:
    """A tiny file that decodes to 10,000 x 10,000 pixels (100 megapixels): a decompression bomb."""
    import struct

    width = height = 10_000
    raw = b"".join(b"\x00" + b"\x00" * (width // 8) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def make_case(app, *, profile: str = "CA", issued_at: datetime | None = None, fine_cents: int = 6300,
              paid_cents: int = 0, penalty_cents: int = 0, notice_mailed: datetime | None = None,
              photos: int = 0, zone: bool = False, **extra) -> int:
    """A case under `profile`; optionally paid, with a penalty, a mailed notice, stored photos and a zone."""
    issued = issued_at or datetime(2026, 11, 20, 17, 15, tzinfo=UTC)
    give_identity(app, profile)
    if profile == "ENG":
        extra.setdefault("jurisdiction", "GB")
        extra.setdefault("plate", "KX19ABC")
    cid = add_citation(app, issued_at=issued, fine_cents=fine_cents, profile_code=profile,
                       zone_code="Z-TEST" if zone else None, address="612 N BROADWAY",
                       remarks="Meter display flashing expired.", accuracy_m=6.0, **extra)
    with app.db.write_session() as s:
        case = s.get(Citation, cid)
        case.observations = [{"kind": "chalk", "first_seen_at": (issued - timedelta(hours=2)).isoformat(),
                              "second_seen_at": (issued - timedelta(minutes=1)).isoformat()}]
        if zone and s.get(Zone, "Z-TEST") is None:
            ring = [[-118.2450, 34.0460], [-118.2350, 34.0460], [-118.2350, 34.0540], [-118.2450, 34.0540],
                    [-118.2450, 34.0460]]
            s.add(Zone(code="Z-TEST", name="Test zone", geometry={"type": "Polygon", "coordinates": [ring]},
                       regulations=[], centroid_lat=34.05, centroid_lon=-118.24))
        if s.get(Device, "HH-0001") is None:
            s.add(Device(device_id="HH-0001", officer_badge="1234", seq_gaps=[]))
        if paid_cents:
            s.add(LedgerEntry(citation_id=cid, kind="payment", amount_cents=-paid_cents, at=issued + timedelta(days=2),
                              effective_date=(issued + timedelta(days=2)).date(), dedupe_key="payment:test"))
        if penalty_cents:
            s.add(LedgerEntry(citation_id=cid, kind="penalty", amount_cents=penalty_cents,
                              at=issued + timedelta(days=22), effective_date=(issued + timedelta(days=22)).date(),
                              dedupe_key="penalty:test"))
        if notice_mailed is not None:
            kind = "notice_to_owner" if profile == "ENG" else "notice_of_delinquent_violation"
            stage = "notice_to_owner" if profile == "ENG" else "delinquent_notice"
            s.add(Notice(citation_id=cid, kind=kind, stage=stage, status="mailed", queued_at=notice_mailed,
                         mailed_at=notice_mailed, dedupe_key=f"stage:{stage}"))
        if photos:
            store = EvidenceStore(app.paths.evidence_dir)
            sources = sorted(REAL_GPS.glob("*.jpg"))[:photos]
            for i, src in enumerate(sources):
                stored = store.put(src.read_bytes())
                s.add(EvidencePhoto(citation_id=cid, position=i, sha256=stored.sha256, declared_bytes=stored.size,
                                    taken_at=issued - timedelta(seconds=30 - i), caption="plate" if i == 0 else "context",
                                    integrity="verified", gps_lat=34.05 + 0.0001 * i, gps_lon=-118.25,
                                    width=640, height=480))
        s.commit()
    return cid


def number_of(app, cid: int) -> str:
    with app.db.reading() as s:
        return s.get(Citation, cid).citation_number


