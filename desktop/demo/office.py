"""The demo office: a believable Los Angeles-style agency to open the application on.

Deterministic from a seed and idempotent: running it again adds only what is missing,
so `demo --citations 1000000` after a plain `demo` grows the same office. The numbers
follow the real Los Angeles citation extract in shared/data (violation codes, fines,
makes, colours, out-of-state share).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

import desktop.demo as pkg
from desktop.demo.agencies import set_identities
from desktop.demo.photos import street_photo
from desktop.domain.addresses import AddressProblem, standardize
from desktop.domain.errors import UserError
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.roles import Role
from desktop.persistence.bulk import advance_id_sequences, copy_rows
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import (
    Citation,
    CitationViolation,
    Device,
    EvidencePhoto,
    LedgerEntry,
    Officer,
    Payment,
    Permit,
    PermitPlate,
    RegisteredOwner,
    Setting,
    User,
    ViolationCode,
    Zone,
)
from desktop.services.admin import users as user_service
from desktop.services.cases.queries import plate_key
from desktop.services.core.context import Actor, AppContext
from desktop.services.core.seal import SEALED, seal_row_dicts
from desktop.services.review.checks import recheck_pending

log = logging.getLogger(__name__)
LA = ZoneInfo("America/Los_Angeles")
#: more citations than this make the large office (bulk rows, a shared photo pool, COPY on PostgreSQL)
LARGE_FROM = 20000
Progress = Callable[[str, int, int], None]

#: Demo accounts (username, full name, role, password) — listed in README.
DEMO_USERS = [
    ("admin", "Avery Admin", Role.ADMIN, "curbdesk-admin"),
    ("supervisor", "Sam Ortega", Role.SUPERVISOR, "curbdesk-super"),
    ("clerk", "Casey Nguyen", Role.CLERK, "curbdesk-clerk"),
    ("clerk2", "Jordan Patel", Role.CLERK, "curbdesk-clerk"),
    ("hearing", "Harper Lee-Wong", Role.HEARING_OFFICER, "curbdesk-hearing"),
    ("mail", "Morgan Diaz", Role.MAIL_OFFICE, "curbdesk-mail"),
]

#: Los Angeles codes, descriptions, fines and kinds; weights from sample_data.csv.
VIOLATIONS = [
    ("88.13B+", "METER EXP.", 6300, "meter", 6781),
    ("80.56E4+", "RED ZONE", 9300, "no_parking", 3945),
    ("80.58L", "PREFERENTIAL PARKING", 6800, "permit_only", 2262),
    ("80.61", "STANDNG IN ALLEY", 6800, "no_parking", 705),
    ("80.69B", "NO PARKING", 7300, "no_parking", 636),
    ("22514", "FIRE HYDRANT", 6800, "no_parking", 468),
    ("80.69C", "PARKED OVER TIME LIMIT", 5800, "time_limit", 428),
    ("22500E", "BLOCKING DRIVEWAY", 6800, "no_parking", 409),
    ("22500H", "DOUBLE PARKING", 6800, "no_parking", 373),
    ("80.56E1", "WHITE ZONE", 5800, "no_parking", 324),
    ("22500F", "PARKED ON SIDEWALK", 6800, "no_parking", 302),
    ("22502A", "18 IN. CURB/2 WAY", 6300, "other", 280),
    ("80.56E2", "YELLOW ZONE", 5800, "no_parking", 236),
    ("80.69AP+", "NO STOP/STANDING", 9300, "no_parking", 226),
    ("80.69BS", "NO PARK/STREET CLEAN", 7300, "street_cleaning", 900),
]
MAKES = [("TOYT", 3159), ("HOND", 2132), ("NISS", 1453), ("FORD", 1449), ("CHEV", 1307), ("BMW", 983),
         ("MERZ", 955), ("DODG", 608), ("HYUN", 599), ("KIA", 586), ("LEXS", 542), ("VOLK", 538),
         ("JEEP", 518), ("AUDI", 399), ("MAZD", 338), ("INFI", 257), ("GMC", 235), ("SUBA", 228),
         ("TESL", 310)]
MODELS = {"TOYT": ["CAMRY", "COROLLA", "RAV4", "PRIUS"], "HOND": ["CIVIC", "ACCORD", "CR-V"],
          "NISS": ["ALTIMA", "SENTRA", "ROGUE"], "FORD": ["F150", "FOCUS", "ESCAPE"],
          "CHEV": ["MALIBU", "SILVERADO", "EQUINOX"], "BMW": ["328I", "X3", "530I"],
          "MERZ": ["C300", "E350", "GLC"], "TESL": ["MODEL 3", "MODEL Y"]}
COLOURS = [("WT", 4562), ("BK", 4353), ("GY", 3718), ("SL", 2359), ("BL", 1402), ("RD", 896),
           ("BN", 365), ("GN", 322), ("MR", 186), ("GO", 178), ("TN", 129)]
STATES = [("CA", 17594), ("AZ", 163), ("TX", 144), ("NV", 105), ("FL", 91), ("WA", 73), ("IL", 64),
          ("NY", 52), ("OR", 47)]

#: Nine downtown zones (name, south, west, north, east) in WGS 84.
ZONES = [
    ("Z-CHINATOWN", "Chinatown", 34.0600, -118.2450, 34.0680, -118.2340),
    ("Z-CIVIC-CENTER", "Civic Center", 34.0520, -118.2480, 34.0600, -118.2360),
    ("Z-LITTLE-TOKYO", "Little Tokyo", 34.0460, -118.2440, 34.0520, -118.2360),
    ("Z-BUNKER-HILL", "Bunker Hill", 34.0490, -118.2580, 34.0570, -118.2480),
    ("Z-HISTORIC-CORE", "Historic Core", 34.0420, -118.2540, 34.0490, -118.2440),
    ("Z-FINANCIAL", "Financial District", 34.0440, -118.2640, 34.0500, -118.2540),
    ("Z-FASHION", "Fashion District", 34.0330, -118.2560, 34.0420, -118.2440),
    ("Z-SOUTH-PARK", "South Park", 34.0340, -118.2700, 34.0440, -118.2560),
    ("Z-ARTS-DISTRICT", "Arts District", 34.0330, -118.2360, 34.0460, -118.2250),
]
STREETS = {
    "Z-CHINATOWN": ["N BROADWAY", "N HILL ST", "N SPRING ST", "ALPINE ST", "COLLEGE ST"],
    "Z-CIVIC-CENTER": ["W TEMPLE ST", "N MAIN ST", "W 1ST ST", "N LOS ANGELES ST"],
    "Z-LITTLE-TOKYO": ["E 1ST ST", "E 2ND ST", "S SAN PEDRO ST", "S CENTRAL AVE"],
    "Z-BUNKER-HILL": ["S GRAND AVE", "S OLIVE ST", "W 4TH ST", "S HOPE ST"],
    "Z-HISTORIC-CORE": ["S BROADWAY", "S SPRING ST", "S MAIN ST", "W 5TH ST"],
    "Z-FINANCIAL": ["S FIGUEROA ST", "S FLOWER ST", "W 6TH ST", "WILSHIRE BLVD"],
    "Z-FASHION": ["S LOS ANGELES ST", "E 9TH ST", "S MAPLE AVE", "E 12TH ST"],
    "Z-SOUTH-PARK": ["W OLYMPIC BLVD", "W PICO BLVD", "S HOPE ST", "W 11TH ST"],
    "Z-ARTS-DISTRICT": ["E 3RD ST", "TRACTION AVE", "S ALAMEDA ST", "MATEO ST"],
}
FIRST = ["MARIA", "JOSE", "JAMES", "LINDA", "DAVID", "SOPHIA", "MICHAEL", "ANA", "ROBERT", "KIM",
         "DANIEL", "GRACE", "CARLOS", "EMILY", "HYUN", "PRIYA", "THOMAS", "LUZ", "KEVIN", "AISHA",
         "WEI", "FATIMA", "JOHN", "ROSA", "ANDREW", "MEI", "LUIS", "SARAH", "OMAR", "NINA"]
LAST = ["GARCIA", "HERNANDEZ", "SMITH", "NGUYEN", "KIM", "LOPEZ", "JOHNSON", "MARTINEZ", "LEE",
        "RODRIGUEZ", "PATEL", "CHEN", "WILLIAMS", "GONZALEZ", "PARK", "BROWN", "RAMIREZ", "DAVIS",
        "TANAKA", "WILSON", "FLORES", "MORALES", "COHEN", "SINGH", "REYES", "ANDERSON"]
OWNER_STREETS = [("W OLYMPIC BLVD", "LOS ANGELES", "90015"), ("SUNSET BLVD", "LOS ANGELES", "90026"),
                 ("N VERMONT AVE", "LOS ANGELES", "90027"), ("S WESTERN AVE", "LOS ANGELES", "90018"),
                 ("VENTURA BLVD", "SHERMAN OAKS", "91403"), ("E COLORADO BLVD", "PASADENA", "91101"),
                 ("W MANCHESTER AVE", "INGLEWOOD", "90301"), ("LONG BEACH BLVD", "LONG BEACH", "90813"),
                 ("S ATLANTIC BLVD", "MONTEREY PARK", "91754"), ("W BURBANK BLVD", "BURBANK", "91506"),
                 ("MAIN ST", "SANTA MONICA", "90405"), ("E FLORENCE AVE", "HUNTINGTON PARK", "90255")]


def _weighted(pairs: list[tuple[Any, ...]]) -> tuple[list[Any], list[int]]:
    return [p[0] for p in pairs], [p[-1] for p in pairs]


_MAKE_V, _MAKE_W = _weighted(MAKES)
_COL_V, _COL_W = _weighted(COLOURS)
_ST_V, _ST_W = _weighted(STATES)
_VIO_W = [v[4] for v in VIOLATIONS]
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def demo_plate(index: int, seed: int) -> tuple[str, str]:
    """The plate and state of demo vehicle `index` (deterministic)."""
    rnd = random.Random(seed * 7919 + index)
    state = rnd.choices(_ST_V, _ST_W)[0]
    d = lambda: str(rnd.randint(0, 9))  # noqa: E731
    letter = lambda: rnd.choice(LETTERS)  # noqa: E731
    if state == "CA":
        plate = f"{rnd.randint(5, 9)}{letter()}{letter()}{letter()}{d()}{d()}{d()}"
    elif state in ("TX", "AZ", "FL", "IL", "NY"):
        plate = f"{letter()}{letter()}{letter()}{d()}{d()}{d()}{d()}"
    elif state == "NV":
        plate = f"{d()}{d()}{letter()}{d()}{d()}{d()}"
    else:
        plate = f"{letter()}{letter()}{letter()}{d()}{d()}{d()}"
    return plate, state


@dataclass
class DemoResult:
    citations_added: int
    citations_total: int
    photos_stored: int


def store_evidence(root: Path, data: bytes) -> str:
    """Write a demo photo into the evidence store (by digest, never rewritten)."""
    return EvidenceStore(root).put(data).sha256


def _setting(session: Any, key: str, default: Any) -> Any:
    row = session.get(Setting, key)
    return row.value if row is not None else default


def _devices_last_seen(app: AppContext) -> None:
    """The handhelds were last seen when their latest demo citation came in (the Devices screen)."""
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        latest = s.execute(select(Citation.device_id, func.max(Citation.received_at)).group_by(Citation.device_id)).all()
        for device_id, seen in latest:
            device = s.get(Device, device_id)
            if device is not None and device.last_seen_at is None and seen is not None:
                device.last_seen_at = seen
        uow.commit()


def _problem(raw: str) -> str:
    """Why a demo registry address cannot be mailed, in the words the owners import would use."""
    result = standardize(raw)
    return result.reason if isinstance(result, AddressProblem) else "The address could not be checked."


def _set(session: Any, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def _reference_data(app: AppContext, seed: int) -> None:
    actor = Actor.system("demo")
    for username, full, role, password in DEMO_USERS:
        with app.db.reading() as s:
            exists = s.scalar(select(User.id).where(User.username == username))
        if not exists:
            if user_service.has_users(app):
                admin = user_service.actor_for(app, "admin") if username != "admin" else actor
            else:
                admin = actor
            user_service.add_user(app, admin, username, full, role.value, password)
    with app.uow(actor) as uow:
        s = uow.session
        if s.get(Officer, "1234") is None:
            rnd = random.Random(seed)
            for i in range(12):
                badge = str(1234 + i * 17)
                s.add(Officer(badge=badge, name=f"{rnd.choice(FIRST).title()} {rnd.choice(LAST).title()}"))
                s.add(Device(device_id=f"HH-{i + 1:04d}", officer_badge=badge, endpoint_id="GW-DEMO",
                             app_version="4.2.1", seq_gaps=[]))
        for code, name, south, west, north, east in ZONES:
            if s.get(Zone, code) is None:
                ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
                regs: list[dict[str, Any]] = [
                    {"kind": "metered", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
                     "start": "08:00", "end": "20:00", "limit_minutes": 120},
                    {"kind": "street_cleaning", "days": [["Tue"], ["Wed"], ["Thu"]][len(code) % 3],
                     "start": "08:00", "end": "10:00"},
                ]
                if code in ("Z-CHINATOWN", "Z-ARTS-DISTRICT", "Z-SOUTH-PARK"):
                    regs.append({"kind": "permit_only", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                                 "start": "18:00", "end": "08:00", "permit_area": code})
                s.add(Zone(code=code, name=name, geometry={"type": "Polygon", "coordinates": [ring]},
                           regulations=regs, centroid_lat=(south + north) / 2,
                           centroid_lon=(west + east) / 2, source="demo"))
        if not s.scalar(select(func.count()).select_from(ViolationCode)):
            for code, desc, fine, kind, _w in VIOLATIONS:
                s.add(ViolationCode(code=code, description=desc, fine_cents=fine - 500,
                                    effective_from=date(2024, 7, 1), effective_to=date(2025, 6, 30), kind=kind))
                s.add(ViolationCode(code=code, description=desc, fine_cents=fine,
                                    effective_from=date(2025, 7, 1), kind=kind))
        _set(s, "agency.profile", _setting(s, "agency.profile", "CA"))
        set_identities(s, actor)  # California under Los Angeles, England under its own council
        uow.audit("demo.reference_data", "setting", "demo", reason="demo office created")
        uow.commit()


NOT_A_DEMO = ("This database holds a real office (accounts or cases the demo did not make); the demo fills only "
              "a new, empty database or a demo one, so choose another with --db or --data-dir.")


def refuse_real_office(app: AppContext) -> None:
    """The demo adds accounts whose passwords are in README and fictional cases and payments: it runs only on
    a database that is empty or holds the demo (every account a demo account, and cases only if the demo's
    anchor is stamped), and says so in one sentence otherwise."""
    demo_names = [u[0] for u in DEMO_USERS]
    with app.db.reading() as s:
        others = s.scalar(select(func.count()).select_from(User).where(User.username.not_in(demo_names)))
        anchored = s.get(Setting, "demo.anchor") is not None
        cases = s.scalar(select(Citation.id).limit(1)) is not None
        payments = s.scalar(select(Payment.id).limit(1)) is not None
    if others or (not anchored and (cases or payments)):
        raise UserError(NOT_A_DEMO)


def build_demo(app: AppContext, citations: int = 2000, seed: int = 7,
               progress: Progress | None = None) -> DemoResult:
    """Fill the database with the demo office; adds only what is missing. Refuses a database that holds
    anything but a demo (see `refuse_real_office`)."""
    refuse_real_office(app)
    app.paths.ensure()
    _reference_data(app, seed)
    note = progress or (lambda _stage, _done, _total: None)
    now = app.now()
    with app.db.reading() as s:
        have = int(_setting(s, "demo.citations", 0))
    if have >= citations:
        if citations <= 20000:
            run_extensions(app, note)
        _advance_sequences(app)
        with app.db.reading() as s:  # counted after the extensions, which may add cases of their own
            total = int(s.scalar(select(func.count()).select_from(Citation)) or 0)
        return DemoResult(0, total, 0)

    large = citations > LARGE_FROM
    plate_pool = max(400, int(citations * 0.55))
    span_days = 42 if citations <= 5000 else 365
    anchor = _setting_anchor(app, now)
    photos_stored = 0
    photo_pool: list[tuple[str, int, str]] = []
    if large:
        note("Making the shared photo pool", 0, 1)
        for i in range(48):
            plate, state = demo_plate(i, seed)
            data = street_photo(plate, state, "GY", "TOYT", anchor.astimezone(LA), 34.05, -118.25,
                                seed=seed + i, caption="plate" if i % 2 == 0 else "scene")
            photo_pool.append((store_evidence(app.paths.evidence_dir, data), len(data),
                               "plate" if i % 2 == 0 else "context"))

    with app.db.reading() as s:
        owners_have = int(_setting(s, "demo.plates", 0))
        admin_id = s.scalar(select(User.id).where(User.username == "clerk"))
    batch = 5000 if large else 500
    pg = app.db.dialect == "postgresql"
    _owners(app, seed, owners_have, plate_pool, anchor, note)

    with app.db.reading() as s:
        owner_ids: dict[str, int] = {
            plate: oid for plate, oid in s.execute(
                select(RegisteredOwner.plate, RegisteredOwner.id).where(RegisteredOwner.valid_to.is_(None))
            ).all()
        }
    added = 0
    index = have
    while index < citations:
        upto = min(citations, index + batch)
        rows, violations, photos, ledger, payments = [], [], [], [], []
        with app.uow(Actor.system("demo")) as uow:
            s = uow.session
            next_id = int(s.scalar(select(func.coalesce(func.max(Citation.id), 0))) or 0) + 1
            pay_id = int(s.scalar(select(func.coalesce(func.max(Payment.id), 0))) or 0) + 1
            entry_id = int(s.scalar(select(func.coalesce(func.max(LedgerEntry.id), 0))) or 0) + 1
            for i in range(index, upto):
                rnd = random.Random(seed * 1_000_003 + i)
                device = i % 12
                cnum = f"HH{device + 1:04d}-{i // 12 + 1:06d}"
                vehicle = rnd.randrange(plate_pool)
                plate, state = demo_plate(vehicle, seed)
                make = random.Random(vehicle).choices(_MAKE_V, _MAKE_W)[0]
                colour = random.Random(vehicle + 1).choices(_COL_V, _COL_W)[0]
                model = random.Random(vehicle + 2).choice(MODELS.get(make, ["SEDAN"]))
                zcode, _zn, south, west, north, east = ZONES[rnd.randrange(len(ZONES))]
                lat = rnd.uniform(south, north)
                lon = rnd.uniform(west, east)
                code, desc, fine, kind, _w = rnd.choices(VIOLATIONS, _VIO_W)[0]
                age_days = span_days * (1 - (i / max(citations, 1))) + rnd.uniform(-0.5, 0.5)
                local_day = (anchor - timedelta(days=max(age_days, 0.05))).astimezone(LA)
                hour = rnd.choices(range(7, 21), [3, 8, 10, 10, 9, 8, 8, 8, 7, 6, 5, 4, 3, 2])[0]
                issued = datetime.combine(local_day.date(), time(hour, rnd.randrange(60), rnd.randrange(60)),
                                          tzinfo=LA)
                if issued > now:
                    issued = now - timedelta(minutes=rnd.randint(5, 300))
                received = issued + timedelta(minutes=rnd.randint(2, 90))
                age = (now - issued).days
                if age < 2:
                    status = CaseStatus.PENDING_REVIEW
                elif rnd.random() < 0.03:
                    status = CaseStatus.VOIDED
                elif rnd.random() < (0.45 if age > 21 else 0.2):
                    status = CaseStatus.PAID
                else:
                    status = CaseStatus.OPEN
                handheld = fine if rnd.random() > 0.02 else fine - 500
                cid = next_id + (i - index)
                observations = []
                if kind == "time_limit":
                    first = issued - timedelta(minutes=rnd.choice([95, 130, 150, 185]))
                    observations = [{"kind": "chalk", "first_seen_at": first.isoformat(),
                                     "second_seen_at": (issued - timedelta(minutes=1)).isoformat()}]
                street = rnd.choice(STREETS[zcode])
                approved_at = issued + timedelta(days=1, hours=2) if status not in (
                    CaseStatus.PENDING_REVIEW, CaseStatus.VOIDED) else None
                rows.append(dict(
                    id=cid, citation_number=cnum, source_event_id=f"demo-{cnum}", device_id=f"HH-{device + 1:04d}",
                    officer_badge=str(1234 + device * 17), issued_at=issued, received_at=received,
                    plate=plate, plate_key=plate_key(plate), jurisdiction=state, plate_type="PAS", make=make,
                    model=model, color=colour, vin=None, registration_expiry=f"{issued.year + 1}-{rnd.randint(1, 12):02d}",
                    lat=round(lat, 6), lon=round(lon, 6), accuracy_m=round(rnd.uniform(3, 15), 1),
                    address=f"{rnd.randint(1, 19) * 100 + rnd.randint(0, 98)} {street}", zone_code=zcode,
                    space=f"M-{rnd.randint(1000, 1999)}" if kind == "meter" else None,
                    violation_code=code, violation_description=desc, fine_cents=fine,
                    handheld_fine_cents=handheld, observations=observations,
                    remarks=rnd.choice([None, None, "Vehicle unattended.", "Driver left before citation served.",
                                        "Meter display flashing expired.", "Chalked tyre, no movement."]),
                    status=status.value, evidence_status="ok", signature_state="unsigned",
                    profile_code="CA", profile_version=1,
                    owner_id=owner_ids.get(plate), approved_at=approved_at, stage=None, next_action=None,
                    next_action_date=None, on_hold=False, content_digest=None,
                    closed_at=approved_at + timedelta(days=rnd.randint(1, 20)) if status == CaseStatus.PAID and approved_at else None,
                    version=1,
                ))
                violations.append(dict(citation_id=cid, position=0, code=code, description=desc,
                                       handheld_fine_cents=handheld, fine_cents=fine))
                if large:
                    sha, size, caption = photo_pool[rnd.randrange(len(photo_pool))]
                    photos.append(dict(citation_id=cid, position=0, sha256=sha, declared_bytes=size,
                                       taken_at=issued - timedelta(seconds=20), caption=caption,
                                       integrity="verified", integrity_reason=None, gps_lat=34.05, gps_lon=-118.25,
                                       width=800, height=600, verified_at=received))
                else:
                    for p in range(1 + (rnd.random() < 0.6) + (rnd.random() < 0.25)):
                        taken = issued - timedelta(seconds=rnd.randint(5, 90))
                        jitter = 0.0 if rnd.random() > 0.04 else 0.01
                        data = street_photo(plate, state, colour, make, taken, lat + jitter, lon,
                                            seed=i * 3 + p, caption="plate" if p == 0 else "scene")
                        sha = store_evidence(app.paths.evidence_dir, data)
                        photos_stored += 1
                        integrity = "verified"
                        if rnd.random() < 0.01:
                            integrity = "integrity_failed"
                        photos.append(dict(citation_id=cid, position=p, sha256=sha, declared_bytes=len(data),
                                           taken_at=taken, caption="plate" if p == 0 else "context",
                                           integrity=integrity,
                                           integrity_reason="digest mismatch on both downloads" if integrity != "verified" else None,
                                           gps_lat=round(lat + jitter, 6), gps_lon=round(lon, 6), width=800, height=600,
                                           verified_at=received))
                        if integrity != "verified":
                            rows[-1]["evidence_status"] = "integrity_failed"
                if approved_at:
                    ledger.append(dict(id=entry_id, citation_id=cid, kind="fine", amount_cents=fine, at=approved_at,
                                       effective_date=issued.date(), user_id=admin_id, payment_id=None,
                                       dedupe_key="fine", memo=f"{code} {desc}"))
                    entry_id += 1
                    rows[-1]["next_action"] = "delinquent_notice" if status == CaseStatus.OPEN else None
                    rows[-1]["next_action_date"] = (issued + timedelta(days=21)).date() if status == CaseStatus.OPEN else None
                    rows[-1]["stage"] = "citation" if status == CaseStatus.OPEN else None
                if status == CaseStatus.PAID:
                    paid_at = rows[-1]["closed_at"]
                    source, method = rnd.choice([("processor", "card"), ("counter", "cash"),
                                                 ("lockbox", "check"), ("processor", "card")])
                    payments.append(dict(id=pay_id, source=source, method=method, external_id=f"demo-{cnum}",
                                         amount_cents=fine, received_at=paid_at, value_date=paid_at.date(),
                                         reference=cnum, payer_name=None,
                                         card_last4=f"{rnd.randint(0, 9999):04d}" if method == "card" else None,
                                         status="matched", match_method="citation_number"))
                    ledger.append(dict(id=entry_id, citation_id=cid, kind="payment", amount_cents=-fine, at=paid_at,
                                       effective_date=paid_at.date(), payment_id=pay_id, user_id=None,
                                       dedupe_key=f"payment:{pay_id}", memo=f"{method} payment"))
                    entry_id += 1
                    pay_id += 1
            # Core inserts of uniform rows: one executemany per table, not one statement per row.
            for table, batch_rows in ((Citation, rows), (CitationViolation, violations), (EvidencePhoto, photos),
                                      (Payment, payments), (LedgerEntry, ledger)):
                # sealed as the application seals what it writes (a Core insert has no mapper event to do it):
                # otherwise the office's first audit checkpoint adopts every row, a million-row UPDATE in
                # its first daily run
                if table in SEALED:
                    seal_row_dicts(s, table, batch_rows)
                if batch_rows and large and pg:  # COPY: the million-citation office in minutes
                    copy_rows(s, table, batch_rows)
                elif batch_rows:
                    s.execute(insert(table), batch_rows)
            advance_id_sequences(s, Citation.__tablename__, Payment.__tablename__,  # explicit ids above
                                 LedgerEntry.__tablename__)
            _set(s, "demo.citations", upto)
            if not large:
                for r in rows:
                    uow.audit("citation.received", "citation", r["id"], reason=f"field sync from {r['device_id']}")
                    if r["approved_at"]:
                        uow.audit("citation.approved", "citation", r["id"], after={"status": "open"})
                    if r["status"] == CaseStatus.PAID.value:
                        uow.audit("payment.posted", "citation", r["id"], reason="paid in full")
            else:
                uow.audit("demo.citations_generated", "setting", "demo",
                          after={"from": index, "to": upto})
            uow.commit()
        added += upto - index
        index = upto
        note("Citations", index, citations)
    _devices_last_seen(app)
    if not large:
        run_extensions(app, note)
    else:
        # The citations in review carry their warnings, as a sync leaves them (the small office's Review
        # extension does this); written in bulk they had none, and each approval then found "new warnings".
        recheck_pending(app, lambda done, total: note("Review checks of the citations in review", done, total))
    _advance_sequences(app)
    if large and pg:
        # Rows written by COPY have no planner statistics, and no visibility map (so no index-only scan: a count
        # of the case list reads the whole table) until autovacuum gets to them; VACUUM runs outside a transaction.
        note("Planner statistics and visibility map", 0, 1)
        with app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET statement_timeout = 0"))
            conn.execute(text("VACUUM (ANALYZE)"))
    with app.db.reading() as s:  # counted after the extensions, which may add cases of their own
        total = int(s.scalar(select(func.count()).select_from(Citation)) or 0)
    return DemoResult(added, total, photos_stored)


def _advance_sequences(app: AppContext) -> None:
    """Every id sequence past the rows the demo wrote with explicit ids, so the office's own next citation,
    payment ... is numbered after them (PostgreSQL)."""
    with app.uow(Actor.system("demo")) as uow:
        advance_id_sequences(uow.session)
        uow.commit()


def run_extensions(app: AppContext, progress: Progress) -> None:
    """Each capability adds to the demo in its own `desktop.demo.<area>` module,
    with `ORDER: int` and `extend_demo(app, progress)` (idempotent, like the rest)."""
    modules = [importlib.import_module(f"desktop.demo.{m.name}")
               for m in pkgutil.iter_modules(pkg.__path__) if m.name not in ("office", "simulator")]
    for mod in sorted((m for m in modules if hasattr(m, "extend_demo")), key=lambda m: getattr(m, "ORDER", 50)):
        mod.extend_demo(app, progress)


def _setting_anchor(app: AppContext, now: datetime) -> datetime:
    """The demo's 'today', fixed at first run so that later runs extend the same office."""
    with app.uow(Actor.system("demo")) as uow:
        value = _setting(uow.session, "demo.anchor", None)
        if value is None:
            value = now.isoformat()
            _set(uow.session, "demo.anchor", value)
            uow.commit()
        return datetime.fromisoformat(value)


def _owners(app: AppContext, seed: int, have: int, want: int, anchor: datetime, note: Progress) -> None:
    if have >= want:
        return
    step = 20000
    for start in range(have, want, step):
        end = min(want, start + step)
        rows = []
        for v in range(start, end):
            rnd = random.Random(seed * 31 + v)
            plate, state = demo_plate(v, seed)
            make = random.Random(v).choices(_MAKE_V, _MAKE_W)[0]
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            street, city, zipc = rnd.choice(OWNER_STREETS)
            number = rnd.randint(100, 9999)
            unit = f" APT {rnd.randint(1, 40)}" if rnd.random() < 0.2 else ""
            raw = f"{number} {street}{unit}, {city}, CA {zipc}"
            bad = rnd.random() < 0.015
            if bad:
                raw = rnd.choice(["GENERAL DELIVERY", "C/O ABC LEASING", "UNKNOWN"])
            # A few vehicles changed hands during the demo period: the earlier owner must not get notices.
            sold = rnd.random() < 0.03
            valid_from = date(2019 + rnd.randint(0, 5), rnd.randint(1, 12), 1)
            base = dict(plate=plate, jurisdiction=state, vehicle_make=make,
                        vehicle_model=random.Random(v + 2).choice(MODELS.get(make, ["SEDAN"])),
                        vehicle_year=rnd.randint(2008, 2025), vin=None, source="DMV demo extract",
                        imported_at=anchor)
            if sold:
                prev_first, prev_last = rnd.choice(FIRST), rnd.choice(LAST)
                switch = (anchor - timedelta(days=20)).date()
                rows.append(dict(base, name=f"{prev_last}, {prev_first}", name_key=f"{prev_last}, {prev_first}",
                                 address_raw=f"{rnd.randint(100, 9999)} {rnd.choice(OWNER_STREETS)[0]}, LOS ANGELES, CA 90012",
                                 address_line1=None, city="LOS ANGELES", state="CA", zip="90012",
                                 address_status="ok", address_problem=None, valid_from=valid_from,
                                 valid_to=switch - timedelta(days=1)))
                valid_from = switch
            rows.append(dict(base, name=f"{last}, {first}", name_key=f"{last}, {first}", address_raw=raw,
                             address_line1=None if bad else f"{number} {street}{unit}",
                             city=None if bad else city, state=None if bad else "CA", zip=None if bad else zipc,
                             address_status="unparsed" if bad else "ok",
                             address_problem=_problem(raw) if bad else None,
                             valid_from=valid_from, valid_to=None))
        with app.uow(Actor.system("demo")) as uow:
            if app.db.dialect == "postgresql" and want > 20000:  # COPY for the large office
                copy_rows(uow.session, RegisteredOwner, rows)
            else:
                uow.session.execute(insert(RegisteredOwner), rows)
            _set(uow.session, "demo.plates", end)
            if start == 0:
                _permits(uow.session, seed, anchor)
            uow.commit()
        note("Registered owners", end, want)


def _permits(session: Any, seed: int, anchor: datetime) -> None:
    rnd = random.Random(seed + 99)
    for n in range(240):
        plate, state = demo_plate(rnd.randrange(400), seed)
        zone = rnd.choice(["Z-CHINATOWN", "Z-ARTS-DISTRICT", "Z-SOUTH-PARK"])
        start = (anchor - timedelta(days=rnd.randint(30, 300))).replace(hour=0, minute=0, second=0, microsecond=0)
        permit = Permit(permit_number=f"PPD-{zone[2:6]}-{n + 1:05d}", type="residential", holder_name=None,
                        zones=[zone], valid_from=start, valid_to=start + timedelta(days=365), status="active")
        permit.plates.append(PermitPlate(plate=plate, jurisdiction=state))
        session.add(permit)


def ensure_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
