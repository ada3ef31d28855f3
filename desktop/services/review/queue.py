"""Citation review: the queue, what the reviewer sees, and the three decisions (approve, void, correct).

* ``review_queue``: citations waiting for review, the ones with warnings first (errors before
  warnings), oldest first within each group, with a count per warning code.
* ``review_item``: one citation as the review screen shows it: its facts, stored warnings, photos
  with their EXIF, the zones that apply and the map to draw.
* ``approve``: the case opens (life-cycle move), the fine is posted to the ledger once, the case
  gets its jurisdiction profile version and its first next action. ``bulk_approve`` does the same
  for warning-free citations, for supervisors.
* ``void``: with a reason code and a note. ``correct``: plate, jurisdiction, make, colour or
  violation code, each audited with before/after and checked again.

Every use case checks the actor's permission, runs in one unit of work and writes the audit trail.
The per-case steps (``approve_if_clean``, ``void_in``) also run inside the batches of bulk work
(``desktop.services.bulk``).

(Over 600 lines, knowingly: the queue, the item and the three decisions share the re-check, the case
opening and the duplicate re-check; splitting them would scatter one workflow's rules.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from desktop.domain import geo, plates
from desktop.domain.case_plan import plan_case
from desktop.domain.errors import NotFound, UserError
from desktop.domain.ladder import describe_next_action
from desktop.domain.ledger import EntryKind
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.profiles import load_profile_versions, profile_for
from desktop.domain.review import SEVERITY_RANK, CorrectableField, VoidReason, check_title
from desktop.domain.roles import Permission
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, CitationViolation, CitationWarnings, ViolationCode
from desktop.services.cases import steps as case_ops
from desktop.services.core import settings
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext, UnitOfWork, retried
from desktop.services.maps.tiles import tile_layer
from desktop.services.review.checks import (
    REVIEWABLE,
    CheckOutcome,
    check_settings,
    evaluate,
    photo_exif,
    recheck_citations,
    store,
)
from desktop.services.review.map_html import MapSpec, PhotoPoint, ZoneShape
from desktop.services.review.plate_readings import PlatePhotoView, plate_photo_view


class ReviewChanged(UserError):
    """The citation's warnings changed since the reviewer opened it: look again before approving."""


class NotInReview(UserError):
    """The citation is no longer waiting for review (someone else decided it first)."""


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueEntry:
    id: int
    citation_number: str
    issued_at: datetime
    plate: str
    jurisdiction: str
    violation_code: str
    warning_count: int
    warning_codes: tuple[str, ...]
    worst: str | None
    """The worst severity among the warnings (error, warning) or None."""
    assignee_id: int | None = None
    """The clerk whose queue it is in (a supervisor's assignment), or None: everyone's."""


@dataclass(frozen=True)
class ReviewQueue:
    entries: tuple[QueueEntry, ...]
    counts: dict[str, int]
    """Warning code -> how many citations in the queue carry it."""

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def with_warnings(self) -> int:
        return sum(1 for e in self.entries if e.warning_count)

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.entries]

    def summary(self) -> str:
        if not self.entries:
            return "The review queue is empty."
        parts = [f"{self.total:,} waiting", f"{self.with_warnings:,} with warnings"]
        detail = ", ".join(f"{check_title(code).lower()} {n}" for code, n in
                           sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return " · ".join(parts) + (f" ({detail})" if detail else "")


def _sort_key(e: QueueEntry) -> tuple[int, int, datetime, int]:
    rank = SEVERITY_RANK.get(e.worst or "", 3)
    return (0 if e.warning_count else 1, rank, e.issued_at, e.id)


def review_queue(app: AppContext, actor: Actor, *, assignee_id: int | None = None) -> ReviewQueue:
    """Every citation waiting for review: warnings first (errors before warnings), then oldest first.
    With ``assignee_id``: only those assigned to that clerk's queue."""
    with app.reader(actor, Permission.REVIEW_CITATIONS) as uow:
        q = (select(Citation.id, Citation.citation_number, Citation.issued_at, Citation.plate, Citation.jurisdiction,
                    Citation.violation_code, CitationWarnings.count, CitationWarnings.warnings,
                    Citation.review_assignee_id)
             .outerjoin(CitationWarnings, CitationWarnings.citation_id == Citation.id)
             .where(Citation.status == CaseStatus.PENDING_REVIEW.value))
        if assignee_id is not None:
            q = q.where(Citation.review_assignee_id == assignee_id)
        rows = uow.session.execute(q).all()
    entries = []
    counts: Counter[str] = Counter()
    for cid, number, issued, plate, state, code, count, warnings, assignee in rows:
        codes = tuple(str(w.get("code")) for w in warnings or [] if isinstance(w, dict))
        worst = min((str(w.get("severity")) for w in warnings or [] if isinstance(w, dict)),
                    key=lambda s: SEVERITY_RANK.get(s, 3), default=None)
        counts.update(set(codes))
        entries.append(QueueEntry(cid, number, issued, plate, state, code, int(count or 0), codes, worst, assignee))
    entries.sort(key=_sort_key)
    return ReviewQueue(tuple(entries), dict(counts))


# --------------------------------------------------------------------------- one citation


@dataclass(frozen=True)
class PhotoView:
    """One evidence photo as the reviewer sees it."""

    sha256: str
    position: int
    caption: str
    integrity: str
    """verified, integrity_failed, missing, pending"""
    integrity_reason: str
    path: Path
    declared_taken_at: datetime | None
    exif: dict[str, Any] | None
    latitude: float | None
    longitude: float | None
    distance_m: float | None
    """From the citation location, when the photo has a position."""


@dataclass(frozen=True)
class ViolationView:
    code: str
    description: str
    fine_cents: int
    handheld_fine_cents: int | None


@dataclass(frozen=True)
class ReviewItem:
    """Everything the review screen shows for one citation (no database objects: safe across threads)."""

    id: int
    citation_number: str
    status: str
    issued_at: datetime
    received_at: datetime
    officer_badge: str
    device_id: str | None
    plate: str
    jurisdiction: str
    plate_type: str | None
    make: str | None
    model: str | None
    colour: str | None
    lat: float
    lon: float
    accuracy_m: float | None
    address: str | None
    zone_code: str | None  # resolved once for the checks, the text and the map (ZoneMatch.code; zone_note: why)
    space: str | None
    violations: tuple[ViolationView, ...]
    fine_cents: int
    observations: tuple[dict[str, Any], ...]
    remarks: str | None
    evidence_status: str
    signature_state: str
    warnings: tuple[dict[str, Any], ...]
    passed: tuple[str, ...]
    registered_make: str | None
    photos: tuple[PhotoView, ...]
    zones: tuple[ZoneShape, ...]
    map: MapSpec
    local_tz: str = "UTC"
    extra: dict[str, Any] = field(default_factory=dict)
    zone_note: str = ""
    plate_photo: PlatePhotoView | None = None
    """The plate read from the photos, with its enlarged crop (issue 20)."""
    currency: str = "USD"
    """Of the fines (the office's ``agency.currency``: the fine is posted in it when the citation is approved)."""

    @property
    def warning_codes(self) -> tuple[str, ...]:
        return tuple(str(w.get("code")) for w in self.warnings)


ALL_CHECKS = ("evidence_integrity", "photo_time", "photo_location", "plate_format", "plate_photo", "make_mismatch",
              "hotlist", "valid_permit", "duplicate", "fine_schedule", "zone_rules", "late_arrival")


def _load_one(uow: UnitOfWork, citation_id: int) -> Citation:
    c = uow.session.execute(
        select(Citation).options(selectinload(Citation.violations), selectinload(Citation.photos))
        .where(Citation.id == citation_id)
    ).scalar_one_or_none()
    if c is None:
        raise NotFound(f"Case {citation_id} does not exist.")
    return c


def _rules_text(regulations: Sequence[Any]) -> str:
    """A zone's posted rules in one line: "2-hour limit (Mon,...,Fri 08:00-18:00); street cleaning ..."."""
    return "; ".join(f"{r.description or r.kind.value.replace('_', ' ')} ({r.hours_text()})" for r in regulations)


def review_item(app: AppContext, actor: Actor, citation_id: int) -> ReviewItem:
    """One citation for the review screen, with its stored warnings, photos, zones and map."""
    with app.reader(actor, Permission.REVIEW_CITATIONS) as uow:
        s = uow.session
        c = _load_one(uow, citation_id)
        cs = check_settings(s)
        outcome = evaluate(s, [c], app.paths.evidence_dir, cs)[0]
        tiles = tile_layer(s, app.paths.data_dir, (c.lat, c.lon))
        store_ = EvidenceStore(app.paths.evidence_dir)
        photos = []
        far_limit = cs.config.photo_distance_m + (c.accuracy_m or 0.0)
        for p in c.photos:
            integrity, reason = p.integrity, p.integrity_reason or ""
            if integrity == "verified":
                # Checked again on every display (cached per version of the file): a stored photo
                # replaced or altered since it was verified shows as failed, and nothing is read from it.
                check = store_.check(p.sha256)
                if check.status == "mismatch":
                    integrity, reason = "integrity_failed", check.reason
            exif = photo_exif(p, app.paths.evidence_dir) if integrity != "integrity_failed" else None
            lat = (exif or {}).get("latitude")
            lon = (exif or {}).get("longitude")
            if lat is None or lon is None:
                lat, lon = p.gps_lat, p.gps_lon
            distance = geo.haversine_m(c.lat, c.lon, lat, lon) if lat is not None and lon is not None else None
            try:
                path = store_.path_for(p.sha256)
            except ValueError:
                path = Path(app.paths.evidence_dir) / "not-a-digest"
            photos.append(PhotoView(p.sha256, p.position, p.caption or "", integrity, reason, path,
                                    p.taken_at, exif, lat, lon, distance))
        plate_photo = plate_photo_view(s, c, store_)
        currency = settings.office_currency(s)
        s.expunge_all()  # EXIF read here is not written from a read-only view
    warnings = tuple(c.review_warnings or ())
    stored_codes = {str(w.get("code")) for w in warnings if isinstance(w, dict)}
    zones = []
    if outcome.zones.area is not None:
        a = outcome.zones.area
        zones.append(ZoneShape(a.code, a.zone.name, a.geometry, _rules_text(a.zone.regulations), True))
    for street, _d in outcome.zones.streets:
        zones.append(ZoneShape(street.code, street.zone.name, street.geometry, _rules_text(street.zone.regulations),
                               False))
    spec = MapSpec(
        c.lat, c.lon, c.accuracy_m, f"{c.citation_number} {c.plate}",
        tuple(PhotoPoint(p.latitude, p.longitude, f"Photo {i + 1}", (p.distance_m or 0) > far_limit)
              for i, p in enumerate(photos) if p.latitude is not None and p.longitude is not None),
        tuple(zones), tiles=tiles)
    return ReviewItem(
        id=c.id, citation_number=c.citation_number, status=c.status, issued_at=c.issued_at, received_at=c.received_at,
        officer_badge=c.officer_badge, device_id=c.device_id, plate=c.plate, jurisdiction=c.jurisdiction,
        plate_type=c.plate_type, make=c.make, model=c.model, colour=c.color, lat=c.lat, lon=c.lon,
        accuracy_m=c.accuracy_m, address=c.address, zone_code=outcome.zones.code, space=c.space,
        violations=tuple(ViolationView(v.code, v.description or "", v.fine_cents, v.handheld_fine_cents)
                         for v in c.violations),
        fine_cents=c.fine_cents, observations=tuple(o for o in c.observations or () if isinstance(o, dict)),
        remarks=c.remarks, evidence_status=c.evidence_status, signature_state=c.signature_state,
        warnings=warnings, passed=tuple(code for code in ALL_CHECKS if code not in stored_codes),
        registered_make=outcome.registered_make, photos=tuple(photos), zones=tuple(zones), map=spec,
        local_tz=cs.tz, zone_note=outcome.zones.note, plate_photo=plate_photo, currency=currency,
    )


# --------------------------------------------------------------------------- approve


@dataclass(frozen=True)
class Approved:
    citation_number: str
    fine_cents: int
    profile: str
    next_action: str | None
    next_action_date: date | None
    next_action_text: str = "—"
    """the next action in words ("If unpaid: delinquent notice"), never its code"""
    currency: str = "USD"
    """the case's profile's (the fine was posted in it)"""


def _require_reviewable(case: Citation) -> None:
    if case.status not in REVIEWABLE:
        label = CaseStatus(case.status).label.lower()
        raise NotInReview(f"Citation {case.citation_number} is no longer waiting for review: it is {label}. "
                          "Someone else has dealt with it.")


def _recheck(uow: UnitOfWork, case: Citation) -> CheckOutcome:
    outcome = evaluate(uow.session, [case], uow.app.paths.evidence_dir)[0]
    store(case, outcome)
    return outcome


def _open_case(uow: UnitOfWork, case: Citation, warnings: Sequence[str], how: str) -> Approved:
    s = uow.session
    profile_code = str(settings.get(s, "agency.profile"))
    versions = load_profile_versions(profile_code)
    profile = profile_for(profile_code, case.issued_at, versions)
    reason = f"{how}; warnings seen: {', '.join(warnings)}" if warnings else how
    case_ops.move(uow, case, CaseStatus.OPEN, reason=reason, action="citation.approved")
    now = uow.app.now()
    tz = profile.tz
    issue_date = case.issued_at.astimezone(tz).date()
    description = case.violation_description or ""
    # the case's new columns are all set before the fine is posted (whose write flushes the case): one new
    # version of the case row, entered once in each of its indexes, instead of two (the schedule does not
    # depend on the ledger; the audit keeps the order approved, fine, scheduled)
    schedule = plan_case(profile, case.issued_at, case.fine_cents, [], as_of=now.astimezone(tz).date())
    case.profile_code = profile.code
    case.profile_version = versions.index(profile) + 1
    case.stage = schedule.current_stage
    case.next_action = schedule.next_action.code if schedule.next_action else None
    case.next_action_date = schedule.next_action.due_on if schedule.next_action else None
    case.approved_at = now
    if case.fine_cents > 0:
        case_ops.post(uow, case, EntryKind.FINE, case.fine_cents, memo=f"{case.violation_code} {description}".strip(),
                      effective=issue_date, dedupe_key="fine")
    uow.audit("citation.scheduled", "citation", case.id, after={
        "profile": profile.code, "profile_version": profile.version, "stage": case.stage,
        "next_action": case.next_action,
        "next_action_date": case.next_action_date.isoformat() if case.next_action_date else None})
    return Approved(case.citation_number, case.fine_cents, f"{profile.code} {profile.version}", case.next_action,
                    case.next_action_date, describe_next_action(case.next_action, profile), profile.currency)


@retried
def approve(app: AppContext, actor: Actor, citation_id: int, *,
            seen_warnings: Collection[str] | None = None) -> Approved:
    """Approve a citation: the case opens, the fine is posted, the first next action is set.

    ``seen_warnings``: the warning codes the reviewer had on screen. If the checks, run again now,
    find a warning the reviewer did not see, nothing is approved: the new warnings are stored and
    ``ReviewChanged`` says what is new.
    """
    with app.uow(actor, Permission.REVIEW_CITATIONS) as uow:
        case = case_ops.load_case(uow, citation_id)
        _require_reviewable(case)
        outcome = _recheck(uow, case)
        codes = [str(w["code"]) for w in outcome.warnings]
        if seen_warnings is not None:
            new = [c for c in codes if c not in set(seen_warnings)]
            if new:
                uow.commit()
                raise ReviewChanged(
                    f"Citation {case.citation_number} has new warnings since you opened it: "
                    f"{', '.join(check_title(c) for c in new)}. Look at it again before approving.")
        if case.status == CaseStatus.RECEIVED.value:
            case_ops.move(uow, case, CaseStatus.PENDING_REVIEW, reason="reviewed")
        result = _open_case(uow, case, codes, "approved in review")
        uow.commit()
        return result


@dataclass
class BulkResult:
    approved: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(citation number, why it was left in the queue)"""


def approve_if_clean(uow: UnitOfWork, case: Citation, how: str = "approved in bulk (no warnings)") -> str | None:
    """Approve ``case`` in the caller's unit of work if it is waiting for review and the checks, run again
    now, find no warning; otherwise say why it was left (e.g. "has warnings (photo location)")."""
    if case.status != CaseStatus.PENDING_REVIEW.value:
        return f"is {CaseStatus(case.status).label.lower()}"
    outcome = _recheck(uow, case)
    if outcome.warnings:
        titles = ", ".join(check_title(str(w["code"])) for w in outcome.warnings)
        return f"has warnings ({titles})"
    _open_case(uow, case, [], how)
    return None


def bulk_approve(app: AppContext, actor: Actor, citation_ids: Sequence[int],
                 progress: Callable[[int, int], None] | None = None) -> BulkResult:
    """Approve many citations at once (supervisors): only those with no warning, checked again now.

    One transaction: either every eligible citation is approved or, on an unexpected error, none.
    """
    result = BulkResult()
    with app.uow(actor, Permission.BULK_APPROVE) as uow:
        uow.require(Permission.REVIEW_CITATIONS)
        total = len(citation_ids)
        for done, cid in enumerate(citation_ids):
            if progress is not None:
                progress(done, total)
            case = uow.session.execute(
                select(Citation).options(selectinload(Citation.violations), selectinload(Citation.photos))
                .where(Citation.id == cid).with_for_update()
            ).scalar_one_or_none()
            if case is None:
                result.skipped.append((str(cid), "no such citation"))
                continue
            why = approve_if_clean(uow, case)
            if why is not None:
                result.skipped.append((case.citation_number, why))
                continue
            result.approved.append(case.citation_number)
        if progress is not None:
            progress(total, total)
        uow.audit("review.bulk_approved", "citation", "bulk", after={
            "approved": len(result.approved), "skipped": len(result.skipped)})
        uow.commit()
    return result


# --------------------------------------------------------------------------- void


def void(app: AppContext, actor: Actor, citation_id: int, reason_code: str, note: str = "") -> None:
    """Void a citation in review, with a reason code (``VoidReason``) and a note."""
    reason, note = void_reason(reason_code, note)
    with app.uow(actor, Permission.REVIEW_CITATIONS) as uow:
        case = case_ops.load_case(uow, citation_id)
        void_in(uow, case, reason, note)
        uow.commit()


def void_reason(reason_code: str, note: str = "") -> tuple[VoidReason, str]:
    """The void reason of ``reason_code`` and the cleaned note; one sentence when either will not do."""
    try:
        reason = VoidReason(str(reason_code).strip().upper())
    except ValueError:
        codes = ", ".join(r.value for r in VoidReason)
        raise UserError(f"'{reason_code}' is not a void reason; use one of {codes}.") from None
    note = (note or "").strip()
    if reason.needs_note and not note:
        raise UserError("Write a note saying why the citation is voided (the reason is 'Other').")
    if len(note) > 2000:
        raise UserError("The note is too long (at most 2,000 characters).")
    return reason, note


def void_in(uow: UnitOfWork, case: Citation, reason: VoidReason, note: str) -> None:
    """Void ``case`` in the caller's unit of work: only a citation waiting for review (``NotInReview``
    otherwise); the citations that looked like its duplicates are checked again."""
    _require_reviewable(case)
    warnings = [str(w.get("code")) for w in case.review_warnings or [] if isinstance(w, dict)]
    case_ops.move(uow, case, CaseStatus.VOIDED, reason=f"{reason.label}" + (f": {note}" if note else ""),
                  action="citation.voided")
    uow.audit("review.void_reason", "citation", case.id,
              after={"reason_code": reason.value, "warnings": warnings}, reason=note or reason.label)
    # Citations that looked like duplicates of this one may no longer be.
    cfg = check_settings(uow.session).config
    window = timedelta(minutes=cfg.duplicate_minutes)
    others = list(uow.session.scalars(select(Citation.id).where(
        Citation.plate_key == case.plate_key, Citation.id != case.id,
        Citation.issued_at.between(case.issued_at - window, case.issued_at + window),
        Citation.status.in_(REVIEWABLE))))
    if others:
        uow.session.flush()
        recheck_citations(uow, others)


# --------------------------------------------------------------------------- correct


def _schedule_line(uow: UnitOfWork, code: str, issued_at: datetime) -> ViolationCode:
    tz = agency_zone(uow.session)
    day = issued_at.astimezone(tz).date()
    lines = list(uow.session.scalars(select(ViolationCode).where(ViolationCode.code == code)))
    valid = [v for v in lines if v.effective_from <= day and (v.effective_to is None or day <= v.effective_to)]
    if not valid:
        if lines:
            raise UserError(f"Violation code {code} is not in the fine schedule on {day.isoformat()}.")
        raise UserError(f"There is no violation code {code} in the fine schedule.")
    return max(valid, key=lambda v: v.effective_from)


def _clean(field_: CorrectableField, raw: str) -> str:
    text = " ".join(str(raw or "").split())
    if not text:
        raise UserError(f"Give the new {field_.label.lower()}.")
    if field_ is CorrectableField.PLATE:
        plate = plates.normalize_plate(text)
        if not plates.plate_is_plausible(plate):
            raise UserError(f"'{text}' is not a plate (1-8 letters and digits).")
        return plate
    if field_ is CorrectableField.JURISDICTION:
        state = text.upper()
        if not (2 <= len(state) <= 3 and state.isalpha()):
            raise UserError(f"'{text}' is not a plate state or jurisdiction code (two or three letters, e.g. CA).")
        return state
    if field_ is CorrectableField.MAKE:
        if len(text) > 32:
            raise UserError("A make is at most 32 characters.")
        return text.upper()
    if field_ is CorrectableField.COLOUR:
        if len(text) > 16:
            raise UserError("A colour is at most 16 characters.")
        return text.upper()
    code = text.upper()
    if len(code) > 32:
        raise UserError("A violation code is at most 32 characters.")
    return code


@dataclass(frozen=True)
class Corrected:
    field: str
    before: str | None
    after: str
    warnings: tuple[dict[str, Any], ...]


def correct(app: AppContext, actor: Actor, citation_id: int, field_name: str, new_value: str,
            reason: str) -> Corrected:
    """Correct one field of a citation in review; audited with before/after, then checked again.

    A new violation code takes its description and fine from the schedule in force on the issue date.
    """
    try:
        which = CorrectableField(str(field_name).strip().lower().replace("color", "colour"))
    except ValueError:
        allowed = ", ".join(f.value for f in CorrectableField)
        raise UserError(f"'{field_name}' cannot be corrected here; correct one of {allowed}.") from None
    reason = (reason or "").strip()
    if not reason:
        raise UserError("Say why you are correcting it (for example 'plate misread: photo 1 shows 7ABC128').")
    value = _clean(which, new_value)
    with app.uow(actor, Permission.REVIEW_CITATIONS) as uow:
        case = case_ops.load_case(uow, citation_id)
        _require_reviewable(case)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        old: str | None
        if which is CorrectableField.PLATE:
            old = case.plate
            if old == value:
                raise UserError(f"The plate is already {value}.")
            before, after = {"plate": old, "owner_id": case.owner_id}, {"plate": value, "owner_id": None}
            case.plate, case.plate_key, case.owner_id = value, plates.plate_search_key(value), None
        elif which is CorrectableField.JURISDICTION:
            old = case.jurisdiction
            if old == value:
                raise UserError(f"The jurisdiction is already {value}.")
            before, after = {"jurisdiction": old, "owner_id": case.owner_id}, {"jurisdiction": value, "owner_id": None}
            case.jurisdiction, case.owner_id = value, None
        elif which is CorrectableField.MAKE:
            old = case.make
            if (old or "").upper() == value:
                raise UserError(f"The make is already {value}.")
            before, after = {"make": old}, {"make": value}
            case.make = value
        elif which is CorrectableField.COLOUR:
            old = case.color
            if (old or "").upper() == value:
                raise UserError(f"The colour is already {value}.")
            before, after = {"colour": old}, {"colour": value}
            case.color = value
        else:
            old = case.violation_code
            if old == value:
                raise UserError(f"The violation code is already {value}.")
            line = _schedule_line(uow, value, case.issued_at)
            violations = sorted(case.violations, key=lambda v: v.position)
            primary = violations[0] if violations else None
            before = {"violation_code": old, "violation_description": case.violation_description,
                      "fine_cents": case.fine_cents,
                      "handheld_fine_cents": primary.handheld_fine_cents if primary else case.handheld_fine_cents}
            if primary is None:
                primary = CitationViolation(position=0, code=value, description=line.description,
                                            fine_cents=line.fine_cents, handheld_fine_cents=None)
                case.violations.append(primary)
            else:
                primary.code, primary.description, primary.fine_cents = value, line.description, line.fine_cents
                # What the handheld showed was for the old code: nothing to compare with any more.
                primary.handheld_fine_cents = None
            case.violation_code, case.violation_description = value, line.description
            case.fine_cents = sum(v.fine_cents for v in case.violations)
            after = {"violation_code": value, "violation_description": line.description,
                     "fine_cents": case.fine_cents}
        uow.audit("citation.corrected", "citation", case.id, before=before, after=after, reason=reason)
        uow.session.flush()
        outcome = _recheck(uow, case)
        uow.commit()
        shown_before = before.get(which.value if which is not CorrectableField.COLOUR else "colour")
        return Corrected(which.value, None if shown_before is None else str(shown_before), value,
                         tuple(outcome.warnings))


def void_reasons() -> list[tuple[str, str]]:
    """(code, label) of every void reason, for dialogs and the command line."""
    return [(r.value, r.label) for r in VoidReason]


def schedule_codes(app: AppContext, actor: Actor, on: date | None = None) -> list[tuple[str, str, int]]:
    """(code, description, fine) of the fine schedule in force on a day (default today), for pickers."""
    with app.reader(actor, Permission.REVIEW_CITATIONS) as uow:
        tz = agency_zone(uow.session)
        day = on or app.now().astimezone(tz).date()
        rows = list(uow.session.scalars(select(ViolationCode).where(ViolationCode.effective_from <= day)))
    best: dict[str, ViolationCode] = {}
    for v in rows:
        if v.effective_to is not None and v.effective_to < day:
            continue
        if v.code not in best or v.effective_from > best[v.code].effective_from:
            best[v.code] = v
    return sorted(((v.code, v.description, v.fine_cents) for v in best.values()), key=lambda t: t[0])


__all__ = ["review_queue", "review_item", "approve", "bulk_approve", "void", "correct", "ReviewChanged", "NotInReview",
           "ReviewQueue", "ReviewItem", "QueueEntry", "PhotoView", "BulkResult", "void_reasons",
           "schedule_codes"]
