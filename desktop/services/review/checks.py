"""Running the review checks on citations in the database.

Builds each citation's ``ReviewContext`` from the database (permits valid for the plate, the hot
list, the make registered on the violation date, the fine schedule in force that day, the zone
rules at the location, similar citations nearby, and each photo's EXIF time, GPS and integrity),
runs ``desktop.domain.checks.run_checks``, and stores the failed checks in
``Citation.review_warnings`` (``[{code, severity, explanation, data}]``, errors first) with
``warning_count``: the citation's row of ``citation_warnings`` (none when it has no warning), not the case row.

``recheck_citations(session_or_uow, ids)`` is what the ingest pipeline calls for each batch of new
citations, inside its own transaction: it loads everything for the batch in a handful of queries
(no query per citation), writes only rows whose warnings changed, and never commits.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, selectinload

from desktop.domain import checks, plates, zones
from desktop.domain.checks import CheckConfig, CheckResult, Integrity
from desktop.domain.errors import NotFound
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.review import SEVERITY_RANK
from desktop.persistence.evidence import EvidenceStore, read_exif
from desktop.persistence.models import (
    Citation,
    CitationViolation,
    CitationWarnings,
    EvidencePhoto,
    HotlistEntry,
    Permit,
    PermitPlate,
    RegisteredOwner,
    ViolationCode,
)
from desktop.services.core import settings
from desktop.services.core.context import AppContext, UnitOfWork
from desktop.services.core.jsonable import jsonable
from desktop.services.review.check_writes import CheckResults, write_check_results
from desktop.services.review.plate_readings import readings_by_citation, unavailable_reason
from desktop.services.review.zones import ZoneMatch, match_location, zone_index

log = logging.getLogger(__name__)

REVIEWABLE = (CaseStatus.RECEIVED.value, CaseStatus.PENDING_REVIEW.value)
BATCH = 400
#: citations checked in one pass by :func:`check_new_citations` (an ingest batch is up to about 2,500)
FRESH_BATCH = 5000

#: ViolationCode.kind (the fine schedule's vocabulary) -> the zone rule the code relies on.
#: "no_parking" is deliberately absent: red curbs, hydrants and driveways are painted, not zone rules.
_SCHEDULE_KINDS = {
    "time_limit": zones.ViolationKind.OVERTIME,
    "street_cleaning": zones.ViolationKind.STREET_CLEANING,
    "meter": zones.ViolationKind.METER_EXPIRED,
    "permit_only": zones.ViolationKind.PERMIT_ONLY,
}

EXIF_SOURCE = "evidence.read_exif"
"""Marks an ``evidence_photos.exif`` value written by this module (so other shapes are re-read)."""


@dataclass(frozen=True)
class CheckSettings:
    config: CheckConfig
    tz: str
    code_table: str
    zone_metres: float


def check_settings(session: Session) -> CheckSettings:
    cfg = CheckConfig(
        photo_time_minutes=int(settings.get(session, "review.photo_minutes")),
        photo_distance_m=float(settings.get(session, "review.photo_metres")),
        duplicate_minutes=int(settings.get(session, "review.duplicate_minutes")),
        duplicate_distance_m=float(settings.get(session, "review.duplicate_metres")),
        late_arrival_hours=int(settings.get(session, "review.late_hours")),
        plate_read_confidence=int(settings.get(session, "review.plate_read_percent")) / 100,
    )
    return CheckSettings(cfg, str(settings.get(session, "agency.timezone")),
                         str(settings.get(session, "review.code_table")),
                         float(settings.get(session, "review.zone_metres")))


# --------------------------------------------------------------------------- photos


def exif_to_json(info: Any) -> dict[str, Any]:
    """An ``ExifInfo`` as stored in ``evidence_photos.exif``."""
    return {
        "source": EXIF_SOURCE,
        "captured_at": info.captured_at.isoformat() if info.captured_at else None,
        "captured_at_naive": info.captured_at_naive,
        "latitude": info.latitude, "longitude": info.longitude, "altitude_m": info.altitude_m,
        "camera_make": info.camera_make, "camera_model": info.camera_model,
        "orientation": info.orientation, "error": info.error, "gps_error": info.gps_error,
    }


def photo_exif(photo: EvidencePhoto, evidence_dir: Path | None) -> dict[str, Any] | None:
    """The photo's EXIF summary: from the row when this module stored it, else read from the file
    (and kept on the row, so each photo is read once)."""
    stored = photo.exif
    if isinstance(stored, dict) and stored.get("source") == EXIF_SOURCE:
        return stored
    if evidence_dir is None:
        return None
    try:
        path = EvidenceStore(evidence_dir).path_for(photo.sha256)
    except ValueError:
        return None
    if not path.is_file():
        return None
    summary = exif_to_json(read_exif(path))
    photo.exif = summary
    return summary


def _aware(value: str | None, tz: ZoneInfo, naive: bool) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or naive:
        moment = moment.replace(tzinfo=tz)  # a camera without an offset keeps local time
    return moment.astimezone(timezone.utc)


def photo_for_review(photo: EvidencePhoto, evidence_dir: Path | None, tz: ZoneInfo) -> checks.PhotoForReview:
    """Capture time and position from the photo's EXIF, else what the handheld declared."""
    integrity = {"verified": Integrity.OK, "integrity_failed": Integrity.FAILED}.get(photo.integrity, Integrity.MISSING)
    if integrity is Integrity.OK and evidence_dir is not None:
        status = EvidenceStore(evidence_dir).check(photo.sha256).status  # digest cached per file version
        if status == "missing":
            integrity = Integrity.MISSING
        elif status == "mismatch":
            integrity = Integrity.FAILED
    exif = photo_exif(photo, evidence_dir) if integrity is Integrity.OK or (
        integrity is Integrity.FAILED and photo.integrity == "integrity_failed") else None
    taken = None
    lat = lon = None
    if exif:
        taken = _aware(exif.get("captured_at"), tz, bool(exif.get("captured_at_naive")))
        lat, lon = exif.get("latitude"), exif.get("longitude")
    if taken is None:
        taken = photo.taken_at
    if lat is None or lon is None:
        lat, lon = photo.gps_lat, photo.gps_lon
    return checks.PhotoForReview(photo.sha256, taken, lat, lon, integrity)


# --------------------------------------------------------------------------- the citation


def observations_of(raw: Sequence[Any] | None) -> zones.ChalkObservations | None:
    """Chalk sightings and a displayed permit from the citation's observations (lenient about shape)."""
    first = last = None
    permit = None
    for item in raw or []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("kind") or "").lower()
        if kind in ("chalk", "tyre", "tire", "sighting"):
            for key, slot in (("first_seen_at", "first"), ("second_seen_at", "last")):
                value = item.get(key)
                if not value:
                    continue
                try:
                    moment = datetime.fromisoformat(str(value))
                except ValueError:
                    continue
                if moment.tzinfo is None:
                    continue
                if slot == "first":
                    first = moment if first is None else min(first, moment)
                else:
                    last = moment if last is None else max(last, moment)
        if kind in ("permit", "permit_displayed") and (item.get("area") or item.get("permit_area")):
            permit = str(item.get("area") or item.get("permit_area"))
    if first is None and last is None and permit is None:
        return None
    return zones.ChalkObservations(first, last, permit)


@functools.lru_cache(maxsize=4096)  # a few codes over and over (each citation asked it once per violation)
def _kind(code: str, code_table: str, schedule_kind: str | None) -> zones.ViolationKind | None:
    if zones.violation_kind_for(code_table, code) is not zones.ViolationKind.OTHER:
        return None  # the domain looks it up itself
    return _SCHEDULE_KINDS.get(schedule_kind or "")


def citation_for_review(c: Citation, cs: CheckSettings, schedule: dict[str, ViolationCode],
                        zone_code: str | None | object = ...) -> checks.CitationForReview:
    """The citation as the checks see it; ``zone_code`` (when given) stands for the citation's own."""
    violations = []
    rows = list(c.violations) or []
    if not rows:
        rows = [CitationViolation(code=c.violation_code, description=c.violation_description,
                                  handheld_fine_cents=c.handheld_fine_cents, fine_cents=c.fine_cents)]
    for v in rows:
        line = schedule.get(v.code)
        handheld = v.handheld_fine_cents
        if handheld is None:  # nothing the handheld showed to compare (e.g. a corrected code)
            handheld = line.fine_cents if line is not None else v.fine_cents
        violations.append(checks.ViolationForReview(v.code, handheld, v.description or "",
                                                    _kind(v.code, cs.code_table, line.kind if line else None)))
    return checks.CitationForReview(
        citation_number=c.citation_number, plate=c.plate, plate_jurisdiction=c.jurisdiction, make=c.make or "",
        issued_at=c.issued_at, received_at=c.received_at, latitude=c.lat, longitude=c.lon,
        violations=tuple(violations), gps_accuracy_m=c.accuracy_m,
        zone_code=c.zone_code if zone_code is ... else zone_code,  # type: ignore[arg-type]
        code_jurisdiction=cs.code_table, observations=observations_of(c.observations),
    )


# --------------------------------------------------------------------------- batch loading


@dataclass
class _Batch:
    permits: dict[str, list[tuple[Permit, PermitPlate]]]
    hotlist: dict[str, list[HotlistEntry]]
    owners: dict[tuple[str, str], list[RegisteredOwner]]
    schedule: dict[str, list[ViolationCode]]
    nearby: list[checks.NearbyCitation]
    nearby_keys: list[str]


def _load_batch(session: Session, cits: Sequence[Citation], cfg: CheckConfig) -> _Batch:
    plate_set = {plates.normalize_plate(c.plate) for c in cits} | {c.plate for c in cits}
    permits: dict[str, list[tuple[Permit, PermitPlate]]] = defaultdict(list)
    for permit, pp in session.execute(
        select(Permit, PermitPlate).join(PermitPlate, PermitPlate.permit_id == Permit.id)
        .where(PermitPlate.plate.in_(plate_set), Permit.status == "active")
    ).all():
        permits[plates.normalize_plate(pp.plate)].append((permit, pp))
    hot: dict[str, list[HotlistEntry]] = defaultdict(list)
    for h in session.scalars(select(HotlistEntry).where(HotlistEntry.plate.in_(plate_set),
                                                        HotlistEntry.active.is_(True))):
        hot[plates.normalize_plate(h.plate)].append(h)
    owners: dict[tuple[str, str], list[RegisteredOwner]] = defaultdict(list)
    for o in session.scalars(select(RegisteredOwner).where(RegisteredOwner.plate.in_(plate_set))):
        owners[(plates.normalize_plate(o.plate), o.jurisdiction.upper())].append(o)
    codes = {v.code for c in cits for v in c.violations} | {c.violation_code for c in cits}
    schedule: dict[str, list[ViolationCode]] = defaultdict(list)
    for line in session.scalars(select(ViolationCode).where(ViolationCode.code.in_(codes))):
        schedule[line.code].append(line)
    keys = sorted({c.plate_key for c in cits})
    window = timedelta(minutes=cfg.duplicate_minutes)
    earliest = min(c.issued_at for c in cits) - window
    latest = max(c.issued_at for c in cits) + window
    nearby: list[checks.NearbyCitation] = []
    rows = session.execute(
        select(Citation.citation_number, Citation.plate, Citation.violation_code, Citation.issued_at,
               Citation.lat, Citation.lon, CitationViolation.code)
        .outerjoin(CitationViolation, CitationViolation.citation_id == Citation.id)
        .where(Citation.plate_key.in_(keys), Citation.issued_at >= earliest, Citation.issued_at <= latest,
               Citation.status != CaseStatus.VOIDED.value)
    ).all()
    seen: set[tuple[str, str]] = set()
    for number, plate, main_code, issued, lat, lon, code in rows:
        for c in {main_code, code} - {None}:
            if (number, c) in seen:
                continue
            seen.add((number, c))
            nearby.append(checks.NearbyCitation(number, plate, c, issued, lat, lon))
    return _Batch(permits, hot, owners, schedule, nearby, keys)


def _schedule_on(lines: Iterable[ViolationCode], day: date) -> ViolationCode | None:
    valid = [v for v in lines if v.effective_from <= day and (v.effective_to is None or day <= v.effective_to)]
    return max(valid, key=lambda v: v.effective_from) if valid else None


def _owner_on(candidates: Iterable[RegisteredOwner], day: date) -> RegisteredOwner | None:
    valid = [o for o in candidates if o.valid_from <= day and (o.valid_to is None or day <= o.valid_to)]
    return max(valid, key=lambda o: (o.valid_from, o.id)) if valid else None


@dataclass(frozen=True)
class CheckOutcome:
    """All the checks of one citation, and the zones that decided the zone-rule check."""

    citation_id: int
    results: tuple[CheckResult, ...]
    zones: ZoneMatch
    registered_make: str | None

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return warnings_of(self.results)


def warnings_of(results: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """The failed checks as stored: errors first, then warnings, in the checks' own order."""
    failed = [r for r in results if not r.ok]
    ordered = sorted(enumerate(failed), key=lambda pair: (SEVERITY_RANK.get(pair[1].severity.value, 3), pair[0]))
    return [{"code": r.code, "severity": r.severity.value, "explanation": r.explanation,
             "data": jsonable(dict(r.data)) if r.data else {}} for _i, r in ordered]


def evaluate(session: Session, cits: Sequence[Citation], evidence_dir: Path | None,
             cs: CheckSettings | None = None) -> list[CheckOutcome]:
    """Run every check on these citations (loaded with violations and photos)."""
    if not cits:
        return []
    cs = cs or check_settings(session)
    tz = ZoneInfo(cs.tz)
    batch = _load_batch(session, cits, cs.config)
    index = zone_index(session)
    # (a reading is of a photo: citations without photos have none, and need no query)
    readings = readings_by_citation(session, [c.id for c in cits if c.photos])
    reader_unavailable = unavailable_reason()
    # the duplicate check only looks at citations of the same plate: hand each one just those (handing
    # every citation the whole batch made the check quadratic in the batch size)
    nearby_by_plate: dict[str, list[checks.NearbyCitation]] = defaultdict(list)
    for n in batch.nearby:
        nearby_by_plate[plates.plate_search_key(n.plate)].append(n)
    out = []
    lines_on: dict[tuple[str, date], ViolationCode | None] = {}  # (code, day) -> the line in force
    for c in cits:
        day = c.issued_at.astimezone(tz).date()
        key = plates.normalize_plate(c.plate)
        schedule = {}
        for code in {v.code for v in c.violations} | {c.violation_code}:
            if (code, day) not in lines_on:
                lines_on[(code, day)] = _schedule_on(batch.schedule.get(code, ()), day)
            if (line := lines_on[(code, day)]) is not None:
                schedule[code] = line
        permits = tuple(
            checks.PermitRecord(p.permit_number, pp.plate, frozenset(str(z) for z in p.zones or ()),
                                p.valid_from, p.valid_to)
            for p, pp in batch.permits.get(key, ())
            if not pp.jurisdiction or pp.jurisdiction.upper() == c.jurisdiction.upper()
        )
        hot = tuple(checks.HotlistEntry(h.plate, h.reason, h.jurisdiction or None) for h in batch.hotlist.get(key, ()))
        owner = _owner_on(batch.owners.get((key, c.jurisdiction.upper()), ()), day)
        match = match_location(index, c.lat, c.lon, c.zone_code, cs.zone_metres)
        citation = citation_for_review(c, cs, schedule, zone_code=match.code)  # one zone for every check
        context = checks.ReviewContext(
            photos=tuple(photo_for_review(p, evidence_dir, tz) for p in c.photos),
            permits=permits,
            hotlist=hot,
            registered_make=owner.vehicle_make if owner is not None else None,
            scheduled_fines_cents={code: line.fine_cents for code, line in schedule.items()},
            zone_regulations=match.regulations,
            nearby_citations=tuple(n for n in nearby_by_plate.get(plates.plate_search_key(citation.plate), ())
                                   if n.citation_number != c.citation_number),
            local_tz=cs.tz,
            plate_reading=readings.get(c.id),
            plate_reader_unavailable=reader_unavailable,
        )
        results = tuple(checks.run_checks(citation, context, cs.config))
        out.append(CheckOutcome(c.id, results, match, context.registered_make))
    return out


def _load(session: Session, ids: Sequence[int]) -> list[Citation]:
    return list(session.scalars(
        select(Citation).options(selectinload(Citation.violations), selectinload(Citation.photos),
                                 selectinload(Citation.warnings_row))
        .where(Citation.id.in_(ids)).order_by(Citation.id)
    ))


def store(c: Citation, outcome: CheckOutcome) -> bool:
    """Write the citation's warnings if they changed (its row of ``citation_warnings``; the case row and its
    version are left alone)."""
    warnings = outcome.warnings
    if c.review_warnings == warnings and c.warning_count == len(warnings):
        return False
    c.review_warnings = warnings
    return True


def recheck_citations(session_or_uow: Session | UnitOfWork, citation_ids: Iterable[int], *,
                      evidence_dir: Path | None = None) -> dict[int, int]:
    """Check these citations again and store their warnings, inside the caller's transaction.

    Only citations still in review (received, pending review) are checked; the others are left
    alone. Returns citation id -> number of warnings. Pass a ``UnitOfWork`` (its evidence folder
    is used to read photo EXIF) or a ``Session`` with ``evidence_dir``. Never commits.
    """
    if isinstance(session_or_uow, UnitOfWork):
        session = session_or_uow.session
        evidence_dir = evidence_dir or session_or_uow.app.paths.evidence_dir
    else:
        session = session_or_uow
    ids = sorted(set(citation_ids))
    counts: dict[int, int] = {}
    cs = check_settings(session) if ids else None
    for start in range(0, len(ids), BATCH):
        cits = [c for c in _load(session, ids[start:start + BATCH]) if c.status in REVIEWABLE]
        by_id = {c.id: c for c in cits}
        for outcome in evaluate(session, cits, evidence_dir, cs):
            store(by_id[outcome.citation_id], outcome)
            counts[outcome.citation_id] = len(outcome.warnings)
    session.flush()
    return counts


class _Row:
    """A citation (or its violation, or photo) as the ingest's row dict, read like the ORM object: what
    :func:`evaluate` asks of a citation, without loading it back from the database."""

    def __init__(self, values: dict[str, Any], **more: Any) -> None:
        self.__dict__.update(values)
        self.__dict__.update(more)

    def __getattr__(self, name: str) -> Any:  # (only for a column the row does not have)
        raise AttributeError(name)


def check_new_citations(session: Session, rows: Sequence[dict[str, Any]],
                        violations: Sequence[dict[str, Any]], photos: Sequence[dict[str, Any]], *,
                        evidence_dir: Path | None, reread: Sequence[int] = ()) -> dict[int, int]:
    """:func:`recheck_citations` for citations just inserted by the ingest, from the very rows it inserted
    (``rows`` with their ``id``; their violations and photos with ``citation_id``), in the caller's
    transaction, after their commit: the same :func:`evaluate` on the same values, the same reference data
    and nearby citations read from the database, so the same warnings; without the ORM loading each citation
    back and flushing it (three quarters of the old cost). Rows whose warnings change are updated in one
    statement (their ``version`` goes up, as the ORM's update did); a photo whose EXIF was read from its
    file keeps the summary, as :func:`photo_exif` does. Only citations still in review are written.
    ``reread``: citations of the batch a later event of the same batch changed (voided, amended): their rows,
    violations and photos are read back as stored (plain rows, not ORM objects), the rest as above.
    Returns citation id -> number of warnings."""
    results = compute_new_citation_checks(session, rows, violations, photos, evidence_dir=evidence_dir,
                                          reread=reread)
    write_check_results(session, results)
    return results.counts


def compute_new_citation_checks(session: Session, rows: Sequence[dict[str, Any]],
                                violations: Sequence[dict[str, Any]], photos: Sequence[dict[str, Any]], *,
                                evidence_dir: Path | None, reread: Sequence[int] = ()) -> CheckResults:
    """The reading and computing half of :func:`check_new_citations`: writes nothing, so it may run on a
    snapshot of the database taken right after the batch's commit (on another process)."""
    if reread:
        rows, violations, photos = _with_stored(session, rows, violations, photos, reread)
    if not rows:
        return CheckResults({}, [], [])
    by_citation: dict[int, list[_Row]] = defaultdict(list)
    for v in sorted(violations, key=lambda v: (v["citation_id"], v.get("position") or 0)):
        by_citation[v["citation_id"]].append(_Row(v))
    shots: dict[int, list[_Row]] = defaultdict(list)
    for ph in sorted(photos, key=lambda ph: (ph["citation_id"], ph.get("position") or 0)):
        shots[ph["citation_id"]].append(_Row(ph))
    cits = [_Row(r, violations=by_citation.get(r["id"], []), photos=shots.get(r["id"], []))
            for r in sorted(rows, key=lambda r: r["id"]) if r["status"] in REVIEWABLE]
    counts: dict[int, int] = {}
    cs = check_settings(session)
    changed: list[dict[str, Any]] = []
    exif: list[dict[str, Any]] = []
    # one pass for the whole batch (a few thousand at most): the reference data is read once
    for start in range(0, len(cits), FRESH_BATCH):
        chunk = cits[start:start + FRESH_BATCH]
        exif_before = {id(ph): ph.exif for c in chunk for ph in c.photos}
        for c, outcome in zip(chunk, evaluate(session, chunk, evidence_dir, cs), strict=True):  # type: ignore[arg-type]
            warnings = outcome.warnings
            counts[c.id] = len(warnings)
            stored = c.review_warnings
            if stored and not isinstance(stored, list):
                stored = list(stored)
            if stored and json.loads(json.dumps(stored)) == warnings and c.warning_count == len(warnings):
                continue
            if not stored and not warnings and c.warning_count == 0:
                continue
            changed.append({"b_id": c.id, "b_version": c.version, "b_warnings": warnings, "b_count": len(warnings)})
        for c in chunk:
            for ph in c.photos:
                if ph.exif is not exif_before[id(ph)]:
                    exif.append({"b_citation": c.id, "b_sha": ph.sha256, "b_exif": ph.exif})
    return CheckResults(counts, changed, exif)


def _with_stored(session: Session, rows: Sequence[dict[str, Any]], violations: Sequence[dict[str, Any]],
                 photos: Sequence[dict[str, Any]], ids: Sequence[int],
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows plus those of the citations ``ids`` (and their violations and photos) as stored now."""
    wanted = sorted(set(ids))
    again = set(wanted)  # (their children as inserted may have changed too: all are read back)
    out_rows = [r for r in rows if r["id"] not in again]
    out_violations = [v for v in violations if v["citation_id"] not in again]
    out_photos = [ph for ph in photos if ph["citation_id"] not in again]
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        for target, model, column in ((out_rows, Citation, Citation.id),
                                      (out_violations, CitationViolation, CitationViolation.citation_id),
                                      (out_photos, EvidencePhoto, EvidencePhoto.citation_id)):
            table = cast(Table, model.__table__)
            target.extend(dict(r) for r in session.execute(select(table).where(column.in_(chunk))).mappings())
        table = cast(Table, CitationWarnings.__table__)
        stored = {cid: (found, count) for cid, found, count in session.execute(
            select(table.c.citation_id, table.c.warnings, table.c.count).where(table.c.citation_id.in_(chunk)))}
        for r in out_rows:
            if r["id"] in again and "review_warnings" not in r:
                found, count = stored.get(r["id"], ([], 0))
                r["review_warnings"], r["warning_count"] = list(found or ()), count
    return out_rows, out_violations, out_photos


def run_review_checks(app: AppContext, citation_id: int) -> CheckOutcome:
    """Check one citation now and store its warnings (an automatic step: not a user action, not audited)."""
    with app.db.write_session() as session:
        cits = _load(session, [citation_id])
        if not cits:
            raise NotFound(f"Case {citation_id} does not exist.")
        outcome = evaluate(session, cits, app.paths.evidence_dir)[0]
        if cits[0].status in REVIEWABLE:
            store(cits[0], outcome)
        session.commit()
        return outcome


def recheck_pending(app: AppContext, progress: Any = None) -> int:
    """Check the whole review queue again (after new zones, permits or a hot list); returns how many."""
    with app.db.reading() as s:
        ids = list(s.scalars(select(Citation.id).where(Citation.status.in_(REVIEWABLE)).order_by(Citation.id)))
    for start in range(0, len(ids), BATCH):
        with app.db.write_session() as session:
            recheck_citations(session, ids[start:start + BATCH], evidence_dir=app.paths.evidence_dir)
            session.commit()
        if progress is not None:
            progress(min(start + BATCH, len(ids)), len(ids))
    return len(ids)


__all__ = ["recheck_citations", "check_new_citations", "run_review_checks", "recheck_pending", "evaluate", "CheckOutcome",
           "check_settings", "photo_exif", "warnings_of"]
