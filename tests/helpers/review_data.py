"""Review test data: one enforcement zone, a fine schedule (two periods), a registered owner whose car
changed, and citations waiting for review with real evidence photos in the evidence store."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from desktop.demo.photos import street_photo
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, CitationViolation, EvidencePhoto, RegisteredOwner, ViolationCode, Zone
from desktop.services.cases.queries import plate_key
from desktop.services.core.context import AppContext

LA = ZoneInfo("America/Los_Angeles")
#: Friday 20 November 2026, 09:15 in Los Angeles: meters in force, no sweeping, no permit-only hours.
ISSUED = datetime(2026, 11, 20, 17, 15, tzinfo=timezone.utc)
LAT, LON = 34.0500, -118.2500
ZONE = "Z-TEST"
SCHEDULE = [  # code, description, fine from 2025-07-01, fine before, kind
    ("88.13B+", "METER EXP.", 6300, 5800, "meter"),
    ("80.69C", "PARKED OVER TIME LIMIT", 5800, 5300, "time_limit"),
    ("80.69BS", "NO PARK/STREET CLEAN", 7300, 6800, "street_cleaning"),
    ("80.58L", "PREFERENTIAL PARKING", 6800, 6300, "permit_only"),
    ("80.56E4+", "RED ZONE", 9300, 8800, "no_parking"),
]


def seed_reference(app: AppContext) -> None:
    """The zone, the fine schedule (two periods) and the registered owners the tests rely on."""
    with app.db.write_session() as s:
        ring = [[-118.2520, 34.0480], [-118.2480, 34.0480], [-118.2480, 34.0520], [-118.2520, 34.0520],
                [-118.2520, 34.0480]]
        s.add(Zone(code=ZONE, name="Test district", geometry={"type": "Polygon", "coordinates": [ring]},
                   regulations=[
                       {"kind": "metered", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], "start": "08:00",
                        "end": "20:00", "limit_minutes": 120},
                       {"kind": "street_cleaning", "days": ["Tue"], "start": "08:00", "end": "10:00"},
                       {"kind": "permit_only", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "18:00",
                        "end": "08:00", "permit_area": ZONE},
                   ], centroid_lat=LAT, centroid_lon=LON, source="test"))
        s.add(Zone(code="Z-OTHER", name="Elsewhere", geometry={"type": "Polygon", "coordinates": [[
            [-118.30, 34.10], [-118.29, 34.10], [-118.29, 34.11], [-118.30, 34.11], [-118.30, 34.10]]]},
            regulations=[], centroid_lat=34.105, centroid_lon=-118.295, source="test"))
        for code, desc, fine, old, kind in SCHEDULE:
            s.add(ViolationCode(code=code, description=desc, fine_cents=old, effective_from=date(2024, 7, 1),
                                effective_to=date(2025, 6, 30), kind=kind))
            s.add(ViolationCode(code=code, description=desc, fine_cents=fine, effective_from=date(2025, 7, 1),
                                kind=kind))
        common: dict[str, Any] = dict(jurisdiction="CA", address_raw="1 MAIN ST, LOS ANGELES, CA 90012",
                                      source="test", imported_at=ISSUED)
        # 7ABC123 was a Honda until the end of October 2026, a Toyota since.
        s.add(RegisteredOwner(plate="7ABC123", name="OLD, OWNER", name_key="OLD, OWNER", vehicle_make="HOND",
                              valid_from=date(2019, 1, 1), valid_to=date(2026, 10, 31), **common))
        s.add(RegisteredOwner(plate="7ABC123", name="NEW, OWNER", name_key="NEW, OWNER", vehicle_make="TOYT",
                              valid_from=date(2026, 11, 1), valid_to=None, **common))
        s.commit()


def photo_bytes(plate: str, taken: datetime, lat: float, lon: float, seed: int = 1) -> bytes:
    return street_photo(plate, "CA", "GY", "TOYT", taken.astimezone(LA), lat, lon, seed=seed)


def add_pending(app: AppContext, *, plate: str = "7ABC123", number: str | None = None,
                issued_at: datetime = ISSUED, code: str = "88.13B+", fine_cents: int | None = None,
                handheld_fine_cents: int | None = None, lat: float = LAT, lon: float = LON, make: str = "TOYT",
                jurisdiction: str = "CA", received_after: timedelta = timedelta(minutes=12),
                photos: list[dict[str, Any]] | None = None, observations: list[dict[str, Any]] | None = None,
                zone_code: str | None = ZONE, status: str = "pending_review") -> int:
    """A citation waiting for review, with one good photo unless ``photos`` says otherwise.

    Each photo dict may hold: data (bytes), taken (photo EXIF time), lat/lon (EXIF GPS),
    integrity, store (False: declared but not in the evidence store), declared_taken_at.
    """
    schedule = {c: f for c, _d, f, _o, _k in SCHEDULE}
    descriptions = {c: d for c, d, _f, _o, _k in SCHEDULE}
    fine = fine_cents if fine_cents is not None else schedule.get(code, 6300)
    handheld = handheld_fine_cents if handheld_fine_cents is not None else fine
    store = EvidenceStore(app.paths.evidence_dir)
    if photos is None:
        photos = [{"taken": issued_at - timedelta(seconds=40)}]
    with app.db.write_session() as s:
        add_pending.counter = getattr(add_pending, "counter", 0) + 1  # type: ignore[attr-defined]
        c = Citation(
            citation_number=number or f"R{add_pending.counter:07d}", device_id="HH-0001",  # type: ignore[attr-defined]
            officer_badge="1234", issued_at=issued_at, received_at=issued_at + received_after, plate=plate,
            plate_key=plate_key(plate), jurisdiction=jurisdiction, make=make, color="GY", lat=lat, lon=lon,
            accuracy_m=5.0, zone_code=zone_code, violation_code=code,
            violation_description=descriptions.get(code, "VIOLATION"), fine_cents=fine,
            handheld_fine_cents=handheld, observations=observations or [], status=status, evidence_status="ok",
            review_warnings=[],
        )
        c.violations.append(CitationViolation(position=0, code=code, description=descriptions.get(code),
                                              fine_cents=fine, handheld_fine_cents=handheld))
        for i, p in enumerate(photos):
            taken = p.get("taken", issued_at - timedelta(seconds=40))
            data = p.get("data") or photo_bytes(plate, taken, p.get("lat", lat), p.get("lon", lon), seed=i)
            if p.get("store", True):
                sha = store.put(data).sha256
            else:
                import hashlib

                sha = hashlib.sha256(data).hexdigest()
            c.photos.append(EvidencePhoto(
                position=i, sha256=sha, declared_bytes=len(data), taken_at=p.get("declared_taken_at", taken),
                caption="plate" if i == 0 else "context", integrity=p.get("integrity", "verified"),
                gps_lat=p.get("declared_lat"), gps_lon=p.get("declared_lon")))
        s.add(c)
        s.commit()
        return c.id


def warnings_of(app: AppContext, citation_id: int) -> dict[str, dict[str, Any]]:
    with app.db.reading() as s:
        c = s.get(Citation, citation_id)
        assert c is not None
        assert c.warning_count == len(c.review_warnings)
        return {w["code"]: w for w in c.review_warnings}
