"""The demo office's review queue: believable warnings, at least one of every kind.

The generated demo already has citations waiting for review, photo GPS jitter on a few photos, a
few fine mismatches, failed evidence and permits for some plates. This step makes sure a clerk
opening the review screen meets every kind of warning on real-looking rows (each adjustment is
deterministic, recorded in the ``demo.review`` setting and done once):

* a make that differs from the registration, a stolen plate on the hot list, a misread plate,
  a duplicate written by a second officer minutes later, a citation that reached the office a day
  late, a photo taken long before the citation, a missing photo, a chalked vehicle whose time
  limit had not yet run out, a street-cleaning citation outside the sweeping window; three plates typed
  one character off what their photo shows (a digit, a letter, the leading digit: the "Plate photo" check);

then it runs the review checks over the whole queue, and reads the plates in the photos of the citations
in review (the other photos wait for ``main.py plates read``). The demo's districts post meters, sweeping
and (in three districts) preferential parking; a waiting citation whose code those rules cannot
support (and that is not one of the examples above) is re-coded to what the district posts, so
that the queue is not flooded with zone-rule warnings no real office would see.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from desktop.demo.office import store_evidence
from desktop.demo.photos import street_photo
from desktop.domain import plates
from desktop.domain.lifecycle import CaseStatus
from desktop.persistence.models import (
    Citation,
    CitationViolation,
    CitationWarnings,
    EvidencePhoto,
    HotlistEntry,
    Permit,
    PermitPlate,
    RegisteredOwner,
    Setting,
    ViolationCode,
)
from desktop.services.core.context import Actor, AppContext
from desktop.services.review.checks import evaluate, recheck_pending
from desktop.services.review.plates import read_plates

ORDER = 30
LA = ZoneInfo("America/Los_Angeles")
KEY = "demo.review"
EXAMPLES = ("make", "hotlist", "plate", "duplicate", "late", "photo_time", "missing_photo", "chalk",
            "permit", "fine", "plate_photo_digit", "plate_photo_letter", "plate_photo_first")
OTHER_MAKES = {"TOYT": "HOND", "HOND": "TOYT", "NISS": "MAZD", "FORD": "CHEV", "CHEV": "FORD", "BMW": "MERZ",
               "MERZ": "BMW", "TESL": "TOYT"}


def _schedule(session: Any, code: str, when: datetime) -> ViolationCode | None:
    day = when.astimezone(LA).date()
    rows = [v for v in session.scalars(select(ViolationCode).where(ViolationCode.code == code))
            if v.effective_from <= day and (v.effective_to is None or day <= v.effective_to)]
    return max(rows, key=lambda v: v.effective_from) if rows else None


def _recode(session: Any, c: Citation, code: str) -> None:
    line = _schedule(session, code, c.issued_at)
    if line is None:
        return
    c.violation_code, c.violation_description, c.fine_cents = code, line.description, line.fine_cents
    c.handheld_fine_cents = line.fine_cents
    for v in c.violations:
        v.code, v.description, v.fine_cents, v.handheld_fine_cents = code, line.description, line.fine_cents, \
            line.fine_cents
    c.observations = []


def _photo(app: AppContext, c: Citation, taken: datetime, caption: str, seed: int, lat: float, lon: float,
           position: int) -> EvidencePhoto:
    data = street_photo(c.plate, c.jurisdiction, c.color or "GY", c.make or "TOYT", taken.astimezone(LA), lat, lon,
                        seed=seed, caption=caption)
    sha = store_evidence(app.paths.evidence_dir, data)
    return EvidencePhoto(position=position, sha256=sha, declared_bytes=len(data), taken_at=taken,
                         caption="plate" if caption == "plate" else "context", integrity="verified",
                         gps_lat=round(lat, 6), gps_lon=round(lon, 6), width=800, height=600,
                         verified_at=c.received_at)


def _make_examples(app: AppContext, done: dict[str, str]) -> dict[str, str]:
    """Adjust a handful of waiting citations, one per kind of warning; returns kind -> citation number."""
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        pending = list(s.scalars(
            select(Citation).options(selectinload(Citation.violations), selectinload(Citation.photos))
            .where(Citation.status == CaseStatus.PENDING_REVIEW.value,
                   ~Citation.warnings_row.has(CitationWarnings.count > 0),
                   Citation.citation_number.not_in(list(done.values())))
            .order_by(Citation.citation_number)))
        rnd = random.Random(4242)
        rnd.shuffle(pending)
        now = app.now()

        def take(pred: Any = None) -> Citation | None:
            for i, c in enumerate(pending):
                if pred is None or pred(c):
                    return pending.pop(i)
            return None

        made: dict[str, str] = {}
        for kind in EXAMPLES:
            if kind in done:
                continue
            if kind == "make":
                c = take(lambda c: c.make in OTHER_MAKES and c.jurisdiction == "CA" and s.scalar(
                    select(RegisteredOwner.id).where(RegisteredOwner.plate == c.plate)) is not None)
                if c is not None:
                    c.make = OTHER_MAKES[c.make or "TOYT"]
            elif kind == "hotlist":
                c = take()
                if c is not None:
                    s.add(HotlistEntry(plate=c.plate, jurisdiction=c.jurisdiction, reason="stolen",
                                       since=c.issued_at - timedelta(days=9), active=True))
            elif kind == "plate":
                c = take(lambda c: c.jurisdiction == "CA" and len(c.plate) == 7)
                if c is not None:
                    c.plate = c.plate[:-1]  # the officer missed the last digit: the photo shows all seven
                    c.plate_key = plates.plate_search_key(c.plate)
                    c.owner_id = None
            elif kind == "duplicate":
                c = take()
                if c is not None:
                    _duplicate_of(app, s, c)
            elif kind == "late":
                c = take(lambda c: c.issued_at + timedelta(hours=26) <= now)
                if c is not None:
                    c.received_at = c.issued_at + timedelta(hours=25, minutes=40)
                    c.remarks = "Handheld docked the next day (battery failure)."
            elif kind == "photo_time":
                c = take()
                if c is not None:
                    c.photos.append(_photo(app, c, c.issued_at - timedelta(minutes=47), "scene", 9001, c.lat, c.lon,
                                           len(c.photos)))
            elif kind == "missing_photo":
                c = take(lambda c: len(c.photos) >= 2)
                if c is not None:
                    c.photos[-1].integrity = "missing"
                    c.photos[-1].integrity_reason = "declared by the handheld, never received"
                    c.evidence_status = "missing"
            elif kind == "chalk":
                def in_meter_hours(c: Citation) -> bool:
                    local = c.issued_at.astimezone(LA)
                    return local.weekday() < 6 and 10 <= local.hour < 19
                c = take(in_meter_hours)
                if c is not None:
                    _recode(s, c, "80.69C")
                    c.observations = [{"kind": "chalk",
                                       "first_seen_at": (c.issued_at - timedelta(minutes=55)).isoformat(),
                                       "second_seen_at": (c.issued_at - timedelta(minutes=1)).isoformat()}]
            elif kind == "permit":
                c = take(lambda c: c.zone_code in ("Z-CHINATOWN", "Z-ARTS-DISTRICT", "Z-SOUTH-PARK"))
                if c is not None:
                    start = (c.issued_at - timedelta(days=40)).astimezone(LA).replace(hour=0, minute=0, second=0,
                                                                                      microsecond=0)
                    permit = Permit(permit_number=f"PPD-DEMO-{c.citation_number[-6:]}", type="residential",
                                    holder_name=None, zones=[c.zone_code], valid_from=start,
                                    valid_to=start + timedelta(days=365), status="active")
                    permit.plates.append(PermitPlate(plate=c.plate, jurisdiction=c.jurisdiction))
                    s.add(permit)
            elif kind == "fine":
                c = take()
                if c is not None:
                    c.handheld_fine_cents = c.fine_cents - 500
                    for v in c.violations:
                        v.handheld_fine_cents = v.fine_cents - 500
            elif kind.startswith("plate_photo_"):
                c = take(lambda c: c.jurisdiction == "CA" and len(c.plate) == 7 and len(c.photos) >= 1
                         and c.photos[0].caption == "plate" and c.photos[0].integrity == "verified")
                if c is not None:
                    c.plate = one_off(c.plate, kind.removeprefix("plate_photo_"))
                    c.plate_key = plates.plate_search_key(c.plate)
                    c.owner_id = None
            else:  # pragma: no cover
                c = None
            # Recorded even when no citation fitted, so that a second run adds nothing.
            made[kind] = c.citation_number if c is not None else ""
        uow.audit("demo.review_examples", "setting", KEY, after=made)
        uow.commit()
    return made


def one_off(plate: str, where: str) -> str:
    """The plate with one character typed wrong, never a look-alike of it (the photo shows the right one):
    ``digit`` the last digit, ``letter`` the first letter, ``first`` the leading digit."""
    chars = list(plate)
    if where == "letter":
        i = next((k for k, ch in enumerate(chars) if ch.isalpha()), len(chars) - 1)
        chars[i] = "N" if chars[i] == "M" else ("M" if chars[i] == "N" else chr((ord(chars[i]) - 65 + 1) % 26 + 65))
        if chars[i] in "IOBSZ":  # a look-alike of a digit: not a typing slip the photo can prove
            chars[i] = "K"
    else:
        i = 0 if where == "first" else max(k for k, ch in enumerate(chars) if ch.isdigit())
        chars[i] = str((int(chars[i]) + 3) % 10) if chars[i].isdigit() else "7"
    return "".join(chars)


def _duplicate_of(app: AppContext, s: Any, c: Citation) -> None:
    """A second officer cites the same car for the same thing eight minutes later, 12 m away."""
    number = f"HH0012-9{c.citation_number[-5:]}"
    if s.scalar(select(Citation.id).where(Citation.citation_number == number)):
        return
    issued = c.issued_at + timedelta(minutes=8)
    dup = Citation(
        citation_number=number, source_event_id=f"demo-{number}", device_id="HH-0012", officer_badge=str(1234 + 11 * 17),
        issued_at=issued, received_at=issued + timedelta(minutes=22), plate=c.plate, plate_key=c.plate_key,
        jurisdiction=c.jurisdiction, plate_type=c.plate_type, make=c.make, model=c.model, color=c.color,
        lat=round(c.lat + 0.0001, 6), lon=c.lon, accuracy_m=6.0, address=c.address, zone_code=c.zone_code,
        space=c.space, violation_code=c.violation_code, violation_description=c.violation_description,
        fine_cents=c.fine_cents, handheld_fine_cents=c.handheld_fine_cents, observations=list(c.observations or []),
        remarks="Second officer on the same block.", status=CaseStatus.PENDING_REVIEW.value, evidence_status="ok",
        signature_state="unsigned", review_warnings=[], profile_code=c.profile_code,
        profile_version=c.profile_version, owner_id=c.owner_id, version=1,
    )
    for v in c.violations:
        dup.violations.append(CitationViolation(position=v.position, code=v.code, description=v.description,
                                                handheld_fine_cents=v.handheld_fine_cents, fine_cents=v.fine_cents))
    dup.photos.append(_photo(app, dup, issued - timedelta(seconds=30), "plate", 9101, dup.lat, dup.lon, 0))
    s.add(dup)
    s.flush()


def _fix_unsupported(app: AppContext, examples: dict[str, str]) -> int:
    """Waiting citations whose code the district's posted rules cannot support get a code they can."""
    keep = {n for n in examples.values() if n}
    fixed = 0
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        cits = [c for c in s.scalars(
            select(Citation).options(selectinload(Citation.violations), selectinload(Citation.photos))
            .where(Citation.status == CaseStatus.PENDING_REVIEW.value).order_by(Citation.id))
            if c.citation_number not in keep]
        street_cleaning_kept = False
        for outcome, c in zip(evaluate(s, cits, app.paths.evidence_dir), cits, strict=True):
            zone = next((r for r in outcome.results if r.code == "zone_rules"), None)
            if zone is None or zone.ok:
                continue
            if c.violation_code == "80.69BS" and not street_cleaning_kept:
                street_cleaning_kept = True  # one honest "outside the sweeping window" stays
                continue
            meters = any(r.kind.value == "metered" and r.in_force(c.issued_at.astimezone(LA))
                         for r in outcome.zones.regulations)
            _recode(s, c, "88.13B+" if meters else "80.56E4+")
            fixed += 1
        if fixed:
            uow.audit("demo.review_recoded", "setting", KEY, after={"citations": fixed})
        uow.commit()
    return fixed


def extend_demo(app: AppContext, progress: Any) -> None:
    with app.db.reading() as s:
        row = s.get(Setting, KEY)
        state: dict[str, Any] = dict(row.value) if row is not None and isinstance(row.value, dict) else {}
    examples: dict[str, str] = dict(state.get("examples") or {})
    progress("Review queue", 0, 3)
    recheck_pending(app)  # so that examples are picked among citations without warnings
    if any(kind not in examples for kind in EXAMPLES):
        examples.update(_make_examples(app, examples))
    progress("Review queue", 1, 3)
    _fix_unsupported(app, examples)
    progress("Review queue", 2, 3)
    with app.uow(Actor.system("demo")) as uow:
        setting = uow.session.get(Setting, KEY)
        value = {"examples": examples}
        if setting is None:
            uow.session.add(Setting(key=KEY, value=value))
        elif setting.value != value:
            setting.value = value
        uow.commit()
    recheck_pending(app)
    # the plates in the photos of the citations in review (the rest wait for `plates read` / the daily run)
    read_plates(app, Actor.system("demo"), in_review_only=True)
    progress("Review queue", 3, 3)
