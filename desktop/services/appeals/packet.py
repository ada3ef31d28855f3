"""Everything a hearing officer sees about one appeal, and the printed documents made from it.

(Over 600 lines, knowingly: the workspace read and the packet are one gathering of the evidence; the
letters' data (letter_data) is the next seam to cut.)

``load_workspace`` gathers the evidence in one read: the citation, its photos with their EXIF and
their digests verified again now (the stored file is re-hashed and compared with the digest recorded
at sync), the device signature state, the officer's remarks and chalk observations, the review
checks, the registration and permit checks, the ledger, the hearings, the appellant's documents
(re-hashed too) and the case timeline from the audit trail. The workspace screen and the evidence
packet show the same object, so the packet holds exactly what the officer saw.

Documents (their ``reports.data`` filled here, printed by the context's renderer): the acknowledgement,
the hearing notice, the decision letter (with the next level of appeal and its deadline), the day's
hearing docket and the evidence packet. PDFs are written under ``<data>/documents/appeals/letters``
(and ``.../packets``), atomically, never over an earlier one.

The printed packet has no fields for the officer's remarks, chalk marks and review checks, so they go
into its timeline, at the time they were made (which is where they belong on a case's story).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import appeals as rules
from desktop.domain.appeals import AppealStatus, Channel, HearingMode, appeal_number
from desktop.domain.colours import colour_name, make_name
from desktop.domain.errors import NotFound, UserError
from desktop.domain.geo import haversine_m
from desktop.domain.ledger import EntryKind
from desktop.domain.profiles import ContestOutcome, JurisdictionProfile
from desktop.domain.roles import Permission
from desktop.persistence.evidence import (
    MISMATCH_REASON,
    EvidenceMissing,
    EvidenceStore,
    EvidenceTampered,
    ExifInfo,
    read_exif,
)
from desktop.persistence.models import (
    Appeal,
    AppealDocument,
    AuditEntry,
    Citation,
    Device,
    EvidencePhoto,
    Hearing,
    LedgerEntry,
    Permit,
    PermitPlate,
    RegisteredOwner,
    User,
    Zone,
)
from desktop.services.appeals.common import case_profile, queue_letter
from desktop.services.appeals.documents import PDF, AppealDocumentStore, file_sha256, pdf_page_count
from desktop.services.appeals.letter_terms import decision_expected, decision_terms, reschedule_by
from desktop.services.appeals.lists import docket
from desktop.services.appeals.schematic import MapInput, MapPoint, write_map_png, zone_rings
from desktop.services.cases.balances import ledger_money
from desktop.services.core import settings
from desktop.services.core.agency import agency_info, require_identity
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.review.plate_readings import plate_photo_view
from reports import data as rd

Progress = Callable[[int, int, str], None]
LETTER_KINDS = ("appeal_acknowledgement", "hearing_notice", "decision_letter")


# --------------------------------------------------------------------------- the workspace


@dataclass(frozen=True)
class PhotoEvidence:
    photo_id: int
    position: int
    sha256: str
    caption: str
    taken_at: datetime | None
    path: Path
    recorded_integrity: str
    computed_sha256: str | None
    exif: ExifInfo
    gps_lat: float | None
    gps_lon: float | None
    distance_m: float | None

    @property
    def exists(self) -> bool:
        return self.computed_sha256 is not None

    @property
    def verified(self) -> bool:
        return self.computed_sha256 == self.sha256

    @property
    def verification_text(self) -> str:
        if self.computed_sha256 is None:
            return "MISSING from the evidence store"
        return "verified: file matches its digest" if self.verified else f"MISMATCH: {MISMATCH_REASON}"


@dataclass(frozen=True)
class DocumentView:
    document_id: int
    filename: str
    mime_type: str
    size_bytes: int
    sha256: str
    path: Path
    added_at: datetime
    computed_sha256: str | None
    page_count: int | None

    @property
    def verified(self) -> bool:
        return self.computed_sha256 == self.sha256

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


@dataclass(frozen=True)
class HearingView:
    hearing_id: int
    scheduled_at: datetime
    minutes: int
    mode: str
    location: str | None
    status: str
    officer_user_id: int
    officer_name: str
    adjourned_reason: str | None


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    who: str
    what: str
    detail: str = ""


@dataclass(frozen=True)
class CheckLine:
    severity: str  # ok, info, warning, error
    text: str


@dataclass(frozen=True)
class SignatureView:
    status: rd.SignatureStatus
    signer: str
    key_id: str
    detail: str


@dataclass(frozen=True)
class PriorAppeal:
    number: str
    level_name: str
    status: str
    decision: str | None
    decided_at: datetime | None
    reason: str | None


@dataclass
class AppealWorkspace:
    """One appeal and all of its case's evidence, detached from the database."""

    appeal_id: int
    number: str
    status: str
    level_key: str
    level_name: str
    level_basis: str
    channel: str
    appellant_name: str
    appellant_address: str
    appellant_email: str
    grounds: list[tuple[str, str]]
    statement: str
    filed_at: datetime
    decide_by: date | None
    days_left: int | None
    statutory: bool
    deemed_rule: bool
    late_override_reason: str | None
    decision: str | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by_name: str
    reduced_fine_cents: int | None
    profile_code: str
    profile_name: str
    timezone_name: str
    #: of the case's profile (an English appeal's amounts are in pounds)
    currency: str
    citation_id: int
    citation_number: str
    case_status: str
    issued_at: datetime
    plate: str
    jurisdiction: str
    plate_type: str
    make: str
    model: str
    color: str
    registration_expiry: str
    address: str
    zone_code: str
    zone_name: str
    zone_geometry: dict[str, Any] | None
    lat: float
    lon: float
    accuracy_m: float | None
    violation_code: str
    violation_description: str
    fine_cents: int
    officer_badge: str
    device_id: str
    remarks: str
    observations: list[str]
    review_checks: list[CheckLine]
    registration_checks: list[CheckLine]
    permit_checks: list[CheckLine]
    signature: SignatureView
    evidence_status: str
    charges_cents: int
    paid_cents: int
    ledger: list[rd.LedgerLine]
    photos: list[PhotoEvidence]
    documents: list[DocumentView]
    hearings: list[HearingView]
    timeline: list[TimelineEvent]
    prior_appeals: list[PriorAppeal]
    next_level_if_upheld: tuple[str, date] | None
    map_input: MapInput | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def balance_cents(self) -> int:
        return self.charges_cents - self.paid_cents

    @property
    def is_pending(self) -> bool:
        return self.status in rules.PENDING_STATUSES

    @property
    def scheduled_hearing(self) -> HearingView | None:
        for h in self.hearings:
            if h.status == "scheduled":
                return h
        return None

    @property
    def digests_ok(self) -> bool:
        return all(p.verified for p in self.photos) and all(d.verified for d in self.documents)


def _fmt_obs(obs: Any) -> str:
    if not isinstance(obs, dict):
        return str(obs)
    kind = str(obs.get("kind", "observation")).replace("_", " ")
    parts = []
    for key in ("first_seen_at", "second_seen_at"):
        value = obs.get(key)
        if value:
            try:
                parts.append(f"{key.split('_')[0]} seen {datetime.fromisoformat(str(value)):%Y-%m-%d %H:%M %Z}".strip())
            except ValueError:
                parts.append(f"{key.split('_')[0]} seen {value}")
    for key, value in obs.items():
        if key not in ("kind", "first_seen_at", "second_seen_at") and value not in (None, ""):
            parts.append(f"{key.replace('_', ' ')} {value}")
    return f"{kind}: " + "; ".join(parts) if parts else kind


def _check_lines(warnings: list[Any]) -> list[CheckLine]:
    out = []
    for w in warnings or []:
        if isinstance(w, dict):
            severity = str(w.get("severity", "warning"))
            text = str(w.get("explanation") or w.get("message") or w.get("text") or w.get("code") or w)
            out.append(CheckLine(severity, text))
        else:
            out.append(CheckLine("warning", str(w)))
    return out


def _registration_checks(session: Session, case: Citation) -> list[CheckLine]:
    owner = session.get(RegisteredOwner, case.owner_id) if case.owner_id else None
    if owner is None:
        return [CheckLine("info", "No registered owner on file yet (registry not consulted).")]
    out = [CheckLine("info", f"Registered owner on the violation date: {owner.name} (registered "
                             f"{owner.valid_from.isoformat()}" + (f" to {owner.valid_to.isoformat()}" if owner.valid_to
                                                                  else "") + f", source {owner.source}).")]
    reg_make = (owner.vehicle_make or "").upper()
    cit_make = (case.make or "").upper()
    if reg_make and cit_make:
        if reg_make[:4] == cit_make[:4]:
            out.append(CheckLine("ok", f"Make on the citation ({cit_make}) matches the registration ({reg_make} "
                                       f"{owner.vehicle_model or ''} {owner.vehicle_year or ''})."))
        else:
            out.append(CheckLine("error", f"Make on the citation ({cit_make}) does NOT match the registration "
                                          f"({reg_make} {owner.vehicle_model or ''})."))
    if owner.address_status != "ok":
        out.append(CheckLine("warning", f"Owner address: {owner.address_problem or owner.address_status}."))
    return out


def _permit_checks(session: Session, case: Citation) -> list[CheckLine]:
    rows = session.execute(select(Permit).join(PermitPlate, PermitPlate.permit_id == Permit.id)
                           .where(PermitPlate.plate == case.plate)).scalars().unique().all()
    if not rows:
        return [CheckLine("ok", f"No permit on file for plate {case.plate}.")]
    out = []
    for p in rows:
        valid = p.valid_from <= case.issued_at <= p.valid_to and p.status == "active"
        zones = ", ".join(str(z) for z in p.zones or []) or "any zone"
        in_zone = not p.zones or (case.zone_code in (p.zones or []))
        severity = "warning" if valid and in_zone else "info"
        state = "VALID at the time" if valid else f"not valid at the time ({p.status}, {p.valid_from:%Y-%m-%d} to " \
                                                   f"{p.valid_to:%Y-%m-%d})"
        out.append(CheckLine(severity, f"Permit {p.permit_number} ({p.type}, {zones}): {state}"
                                       + ("" if in_zone else f"; not for zone {case.zone_code}") + "."))
    return out


def _signature(session: Session, case: Citation) -> SignatureView:
    state = (case.signature_state or "unsigned").lower()
    device = session.get(Device, case.device_id) if case.device_id else None
    key = (device.public_key or "")[:16] if device is not None else ""
    signer = f"device {case.device_id}" + (f", officer {device.officer_badge}" if device and device.officer_badge else "")
    mapping = {"valid": rd.SignatureStatus.VALID, "verified": rd.SignatureStatus.VALID,
               "invalid": rd.SignatureStatus.INVALID, "forged": rd.SignatureStatus.INVALID,
               "unknown_key": rd.SignatureStatus.UNKNOWN_KEY}
    status = mapping.get(state, rd.SignatureStatus.MISSING)
    detail = {
        rd.SignatureStatus.VALID: "The device's Ed25519 signature over the citation record verified at sync.",
        rd.SignatureStatus.INVALID: "The signature did NOT verify: the record or its evidence digests were altered.",
        rd.SignatureStatus.UNKNOWN_KEY: "Signed with a key the office does not know.",
        rd.SignatureStatus.MISSING: "The device did not sign this record"
                                    + ("" if device is None or not device.public_key
                                       else " although it has a registered key") + ".",
    }[status]
    return SignatureView(status, signer, key, detail)


def _timeline(session: Session, case: Citation, profile: JurisdictionProfile) -> list[TimelineEvent]:
    users: dict[int, str] = {}

    def who(entry: AuditEntry) -> str:
        if entry.user_id is None:
            return entry.username
        if entry.user_id not in users:
            u = session.get(User, entry.user_id)
            users[entry.user_id] = u.full_name if u is not None else entry.username
        return users[entry.user_id]

    out = []
    for e in session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "citation",
                                                      AuditEntry.entity_id == str(case.id)).order_by(AuditEntry.id)):
        label = e.action.replace(".", " ").replace("_", " ")
        detail_bits = []
        if e.after:
            for key in ("appeal", "status", "decision", "kind", "amount_cents", "at", "mode"):
                if key in e.after and e.after[key] not in (None, ""):
                    value = e.after[key]
                    if key == "amount_cents":
                        value = f"{int(value) / 100:.2f}"
                    elif key == "at":
                        try:
                            value = f"{datetime.fromisoformat(str(value)).astimezone(profile.tz):%Y-%m-%d %H:%M %Z}"
                        except ValueError:
                            pass
                    detail_bits.append(f"{key.replace('_cents', '')} {value}")
        if e.reason:
            detail_bits.append(e.reason)
        out.append(TimelineEvent(e.at, who(e), label[:1].upper() + label[1:], "; ".join(str(b) for b in detail_bits)))
    officer = f"Officer {case.officer_badge}"
    out.append(TimelineEvent(case.issued_at, officer, "Citation issued",
                             f"{case.violation_code} {case.violation_description} at {case.address or ''}".strip()))
    if case.remarks:
        out.append(TimelineEvent(case.issued_at, officer, "Officer's remarks", case.remarks))
    for obs in case.observations or []:
        if isinstance(obs, dict):
            for key, what in (("first_seen_at", "Chalk mark first seen"), ("second_seen_at", "Chalk mark seen again")):
                raw = obs.get(key)
                try:
                    at = datetime.fromisoformat(str(raw)) if raw else None
                except ValueError:
                    at = None
                if at is not None and at.tzinfo is not None:
                    out.append(TimelineEvent(at, officer, what, _fmt_obs(obs)))
    out.sort(key=lambda t: t.at)
    return out


def _verify(path: Path) -> str | None:
    return file_sha256(path)


def load_workspace(app: AppContext, actor: Actor, appeal_id: int, *, verify: bool = True,
                   progress: Progress | None = None) -> AppealWorkspace:
    """Everything about one appeal, with the digests of its files computed again now."""
    note = progress or (lambda _d, _t, _s: None)
    evidence = EvidenceStore(app.paths.evidence_dir)
    documents = AppealDocumentStore(app.paths.documents_dir)
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        appeal = s.get(Appeal, appeal_id)
        if appeal is None:
            raise NotFound(f"Appeal {appeal_number(appeal_id)} does not exist.")
        case = s.get(Citation, appeal.citation_id)
        assert case is not None
        profile = case_profile(case)
        level = profile.appeal_level(appeal.level)
        today = rules.local_date(app.now(), profile)
        pending = appeal.status in rules.PENDING_STATUSES
        zone = s.get(Zone, case.zone_code) if case.zone_code else None
        photos_rows = list(s.scalars(select(EvidencePhoto).where(EvidencePhoto.citation_id == case.id)
                                     .order_by(EvidencePhoto.position, EvidencePhoto.id)))
        doc_rows = list(s.scalars(select(AppealDocument).where(AppealDocument.appeal_id == appeal.id)
                                  .order_by(AppealDocument.id)))
        total = len(photos_rows) + len(doc_rows)
        photos = []
        for i, p in enumerate(photos_rows):
            note(i, total, f"Checking photo {i + 1} of {len(photos_rows)}…")
            path = evidence.path_for(p.sha256)
            if verify:
                check = evidence.check(p.sha256)  # re-hashed once per version of the file while the app runs
                computed = p.sha256 if check.ok else (_verify(path) if check.status == "mismatch" else None)
            else:
                computed = p.sha256 if path.is_file() else None
            if computed is None:
                exif = ExifInfo(error="the file is not in the evidence store")
            elif computed != p.sha256:
                exif = ExifInfo(error=f"not shown: {MISMATCH_REASON}")  # nothing of an altered file is evidence
            else:
                exif = read_exif(path)
            lat = p.gps_lat if p.gps_lat is not None else exif.latitude
            lon = p.gps_lon if p.gps_lon is not None else exif.longitude
            dist = haversine_m(case.lat, case.lon, lat, lon) if lat is not None and lon is not None else None
            photos.append(PhotoEvidence(p.id, p.position, p.sha256, p.caption or f"photo {i + 1}", p.taken_at, path,
                                        p.integrity, computed, exif, lat, lon, dist))
        docs = []
        for j, d in enumerate(doc_rows):
            note(len(photos_rows) + j, total, f"Checking document {d.filename}…")
            path = documents.path_for(d.sha256)
            computed = _verify(path) if verify else (d.sha256 if path.is_file() else None)
            pages = None
            if d.mime_type == PDF and path.is_file():
                pages = pdf_page_count(path.read_bytes())
            docs.append(DocumentView(d.id, d.filename, d.mime_type, d.size_bytes, d.sha256, path, d.added_at,
                                     computed, pages))
        hearings = [HearingView(h.id, h.scheduled_at, h.minutes, h.mode, h.location, h.status, h.hearing_officer_id,
                                _name(s, h.hearing_officer_id), h.adjourned_reason)
                    for h in s.scalars(select(Hearing).where(Hearing.appeal_id == appeal.id)
                                       .order_by(Hearing.scheduled_at, Hearing.id))]
        charges, paid = ledger_money(s, case.id)
        ledger = [rd.LedgerLine(e.effective_date, (e.memo or e.kind.replace("_", " "))[:80], int(e.amount_cents),
                                e.kind.replace("_", " "))
                  for e in s.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == case.id)
                                     .order_by(LedgerEntry.id))]
        prior = [PriorAppeal(appeal_number(a.id), profile.appeal_level(a.level).name, a.status, a.decision,
                             a.decided_at, a.decision_reason)
                 for a in s.scalars(select(Appeal).where(Appeal.citation_id == case.id, Appeal.id != appeal.id)
                                    .order_by(Appeal.id))]
        nxt = rules.next_level(profile, appeal.level, today, ContestOutcome.UPHELD)
        grounds_text = {g.key: g.text for g in profile.grounds}
        ws = AppealWorkspace(
            appeal_id=appeal.id, number=appeal_number(appeal.id), status=appeal.status, level_key=level.key,
            level_name=level.name, level_basis=level.legal_basis, channel=appeal.channel,
            appellant_name=appeal.appellant_name, appellant_address=appeal.appellant_address or "",
            appellant_email=appeal.appellant_email or "",
            grounds=[(str(g), grounds_text.get(str(g), str(g))) for g in appeal.grounds or []],
            statement=appeal.statement, filed_at=appeal.filed_at, decide_by=appeal.decide_by,
            days_left=rules.days_left(appeal.decide_by, today) if appeal.decide_by and pending else None,
            statutory=level.decision_within_days is not None, deemed_rule=level.deemed_accepted_if_undecided,
            late_override_reason=appeal.late_override_reason, decision=appeal.decision,
            decision_reason=appeal.decision_reason, decided_at=appeal.decided_at,
            decided_by_name=_name(s, appeal.decided_by) if appeal.decided_at else "",
            reduced_fine_cents=appeal.reduced_fine_cents, profile_code=profile.code, profile_name=profile.name,
            timezone_name=profile.timezone, currency=profile.currency, citation_id=case.id,
            citation_number=case.citation_number, case_status=case.status, issued_at=case.issued_at, plate=case.plate,
            jurisdiction=case.jurisdiction,
            plate_type=case.plate_type or "", make=case.make or "", model=case.model or "", color=case.color or "",
            registration_expiry=case.registration_expiry or "", address=case.address or "",
            zone_code=case.zone_code or "", zone_name=zone.name if zone else "",
            zone_geometry=zone.geometry if zone else None, lat=case.lat, lon=case.lon, accuracy_m=case.accuracy_m,
            violation_code=case.violation_code, violation_description=case.violation_description,
            fine_cents=case.fine_cents, officer_badge=case.officer_badge, device_id=case.device_id or "",
            remarks=case.remarks or "", observations=[_fmt_obs(o) for o in case.observations or []],
            review_checks=_check_lines(case.review_warnings), registration_checks=_registration_checks(s, case),
            permit_checks=_permit_checks(s, case), signature=_signature(s, case),
            evidence_status=case.evidence_status, charges_cents=charges, paid_cents=paid, ledger=ledger,
            photos=photos, documents=docs, hearings=hearings, timeline=_timeline(s, case, profile),
            prior_appeals=prior, next_level_if_upheld=(nxt.level.name, nxt.deadline) if nxt else None)
        ws.map_input = MapInput(
            MapPoint(case.lat, case.lon, case.address or f"{case.lat:.5f}, {case.lon:.5f}"), case.accuracy_m,
            tuple(MapPoint(p.gps_lat, p.gps_lon, f"{p.caption} {_clock(p.taken_at, profile)}".strip())
                  for p in photos if p.gps_lat is not None and p.gps_lon is not None),
            ws.zone_code, ws.zone_name, zone_rings(ws.zone_geometry))
        note(total, total, "Evidence checked")
        return ws


def _clock(at: datetime | None, profile: JurisdictionProfile) -> str:
    return at.astimezone(profile.tz).strftime("%H:%M:%S") if at else ""


def _name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "Curbdesk automation"
    u = session.get(User, user_id)
    return u.full_name if u is not None else f"user {user_id}"


def map_png(app: AppContext, ws: AppealWorkspace) -> Path:
    """The schematic map of a workspace, cached by appeal under the print folder."""
    assert ws.map_input is not None
    dest = app.paths.print_dir / "appeal-maps" / f"{ws.number}-{ws.citation_id}.png"
    return write_map_png(ws.map_input, dest)


def exif_lines(exif: ExifInfo, tz_name: str) -> list[tuple[str, str]]:
    """EXIF fields as (field, value) text, problems included (a broken EXIF block is evidence too)."""
    rows: list[tuple[str, str]] = []
    if exif.captured_at is not None:
        if exif.captured_at_naive:
            rows.append(("Captured", f"{exif.captured_at:%Y-%m-%d %H:%M:%S} (camera clock, no time zone)"))
        else:
            rows.append(("Captured", f"{exif.captured_at.astimezone(ZoneInfo(tz_name)):%Y-%m-%d %H:%M:%S %Z}"))
    if exif.has_position:
        rows.append(("GPS", f"{exif.latitude:.6f}, {exif.longitude:.6f}"
                            + (f", altitude {exif.altitude_m:.0f} m" if exif.altitude_m is not None else "")))
    camera = " ".join(x for x in (exif.camera_make, exif.camera_model) if x)
    if camera:
        rows.append(("Camera", camera))
    if exif.orientation:
        rows.append(("Orientation", str(exif.orientation)))
    if exif.gps_error:
        rows.append(("GPS problem", exif.gps_error))
    if exif.error:
        rows.append(("Problem", exif.error))
    if not rows:
        rows.append(("EXIF", "none in the file"))
    return rows


# --------------------------------------------------------------------------- document data


_ZIP = re.compile(r"^(?P<city>.*?)[,\s]+(?P<state>[A-Z]{2})\s+(?P<zip>\d{5})(?:-(?P<zip4>\d{4}))?$", re.IGNORECASE)
_POSTCODE = re.compile(r"^(?P<city>.*?)[,\s]*(?P<pc>[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})$", re.IGNORECASE)


def recipient_from_text(name: str, address: str) -> rd.Recipient:
    """An envelope address from free text (one line per line; the last holds city, state and ZIP or a
    UK postcode). Unparsed text is kept as it is rather than dropped."""
    lines = [ln.strip() for ln in (address or "").splitlines() if ln.strip()]
    if len(lines) == 1 and "," in lines[0]:
        parts = [p.strip() for p in lines[0].split(",") if p.strip()]
        if len(parts) >= 2:
            lines = [parts[0], " ".join(parts[1:])]
    if not lines:
        return rd.Recipient(name, (), "", "", "")
    last = lines[-1]
    m = _ZIP.match(last)
    if m:
        return rd.Recipient(name, tuple(lines[:-1]), m["city"].strip(" ,"), m["state"].upper(), m["zip"], m["zip4"])
    m = _POSTCODE.match(last)
    if m:
        return rd.Recipient(name, tuple(lines[:-1]), m["city"].strip(" ,"), "", m["pc"].upper())
    return rd.Recipient(name, tuple(lines[:-1]), last, "", "")


def _recipient(session: Session, appeal: Appeal, case: Citation) -> rd.Recipient:
    if appeal.appellant_address:
        return recipient_from_text(appeal.appellant_name, appeal.appellant_address)
    owner = session.get(RegisteredOwner, case.owner_id) if case.owner_id else None
    if owner is not None and owner.address_line1:
        return rd.Recipient(appeal.appellant_name, tuple(x for x in (owner.address_line1, owner.address_line2) if x),
                            owner.city or "", owner.state or "", owner.zip or "")
    raise UserError(f"There is no address to send appeal {appeal_number(appeal.id)}'s letters to. Add the "
                    f"appellant's address first.")


def citation_facts(session: Session, case: Citation, profile: JurisdictionProfile) -> rd.CitationFacts:
    charges, paid = ledger_money(session, case.id)
    penalties = int(sum(e.amount_cents for e in session.scalars(
        select(LedgerEntry).where(LedgerEntry.citation_id == case.id, LedgerEntry.kind == EntryKind.PENALTY.value))))
    return rd.CitationFacts(
        citation_number=case.citation_number, issued_at=case.issued_at, timezone_name=profile.timezone,
        plate=case.plate, plate_jurisdiction=case.jurisdiction, make=make_name(case.make),
        color=colour_name(case.color, profile.spelling),
        location=case.address or f"{case.lat:.5f}, {case.lon:.5f}", violation_code=case.violation_code,
        violation_description=case.violation_description, fine_cents=case.fine_cents, penalty_cents=penalties,
        paid_cents=paid, balance_cents=charges - paid, officer_badge=case.officer_badge,
        body_style=case.model or "", plate_type=case.plate_type or "", plate_expiry=case.registration_expiry or "")


def _letter_profile(profile: JurisdictionProfile) -> str:
    return profile.code if profile.code in ("CA", "NYC", "ENG") else "CA"


def acknowledgement_data(session: Session, appeal: Appeal, today: date) -> rd.AcknowledgementData:
    case = session.get(Citation, appeal.citation_id)
    assert case is not None
    profile = case_profile(case)
    level = profile.appeal_level(appeal.level)
    texts = {g.key: g.text for g in profile.grounds}
    docs = tuple(d.filename for d in session.scalars(select(AppealDocument).where(AppealDocument.appeal_id == appeal.id)
                                                     .order_by(AppealDocument.id)))
    return rd.AcknowledgementData(
        profile_code=_letter_profile(profile), agency=agency_info(session, profile.code),
        recipient=_recipient(session, appeal, case),
        letter_date=today, appeal_number=appeal_number(appeal.id), facts=citation_facts(session, case, profile),
        received_at=appeal.filed_at, channel=Channel(appeal.channel).label, level=level.name,
        grounds="; ".join(texts.get(str(g), str(g)) for g in appeal.grounds or []), documents_received=docs,
        decision_due_by=decision_expected(appeal.decide_by, today),
        penalties_paused=appeal.status in rules.PENDING_STATUSES)


def hearing_notice_data(session: Session, appeal: Appeal, hearing: Hearing, today: date) -> rd.HearingNoticeData:
    case = session.get(Citation, appeal.citation_id)
    assert case is not None
    profile = case_profile(case)
    mode = HearingMode(hearing.mode)
    location = tuple(ln for ln in (hearing.location or "").splitlines() if ln.strip())
    join = {
        HearingMode.IN_PERSON: "Please arrive 10 minutes early and bring photo identification.",
        HearingMode.PHONE: "The hearing officer will telephone you at the time above. Make sure we have the "
                           "number you want to be called on.",
        HearingMode.VIDEO: "A link to join will be e-mailed to "
                           + (appeal.appellant_email or "the address you gave us") + " the day before.",
    }[mode]
    reschedule = reschedule_by(profile, rules.local_date(hearing.scheduled_at, profile), today, 3)
    return rd.HearingNoticeData(
        profile_code=_letter_profile(profile), agency=agency_info(session, profile.code),
        recipient=_recipient(session, appeal, case),
        letter_date=today, appeal_number=appeal_number(appeal.id), facts=citation_facts(session, case, profile),
        hearing_at=hearing.scheduled_at, mode=mode.label, location_lines=location, join_instructions=join,
        reschedule_by=reschedule,
        what_to_bring=("This notice", "Any photographs, receipts or documents you rely on",
                       "Witnesses, if any (they may speak at the hearing)"))


def decision_letter_data(session: Session, appeal: Appeal, today: date) -> rd.DecisionLetterData:
    case = session.get(Citation, appeal.citation_id)
    assert case is not None
    if not appeal.decision or appeal.decided_at is None:
        raise UserError(f"Appeal {appeal_number(appeal.id)} has not been decided yet; there is no decision letter.")
    profile = case_profile(case)
    level = profile.appeal_level(appeal.level)
    outcome = ContestOutcome(appeal.decision)
    charges, paid = ledger_money(session, case.id)
    adjustment = session.scalar(select(LedgerEntry.amount_cents).where(
        LedgerEntry.citation_id == case.id, LedgerEntry.dedupe_key == f"appeal:{appeal.id}:adjustment")) or 0
    refund = session.scalar(select(LedgerEntry.amount_cents).where(
        LedgerEntry.citation_id == case.id, LedgerEntry.dedupe_key == f"appeal:{appeal.id}:refund")) or 0
    due = max(0, charges - paid)
    if appeal.status == AppealStatus.DEEMED_ACCEPTED:
        decided_by = "operation of law (no decision within the time allowed)"
    else:
        decided_by = _name(session, appeal.decided_by) + ", Hearing Officer"
    agency = agency_info(session, profile.code)
    terms = decision_terms(profile, agency, appeal.level, outcome, today, int(due), int(charges),
                           f"appeal {appeal_number(appeal.id)}")
    return rd.DecisionLetterData(
        profile_code=_letter_profile(profile), agency=agency,
        recipient=_recipient(session, appeal, case),
        letter_date=today, appeal_number=appeal_number(appeal.id), facts=citation_facts(session, case, profile),
        level=level.name, decision=rd.Decision(outcome.value), reason_text=appeal.decision_reason or "",
        decided_by=decided_by, original_amount_cents=int(charges - adjustment), new_amount_cents=int(charges),
        amount_due_cents=int(due), pay_by_date=terms.pay_by, refund_due_cents=int(refund),
        next_level=terms.next_level, next_level_deadline=terms.next_level_deadline,
        next_level_instructions=terms.next_level_instructions,
        discount_cents=terms.discount_cents, discount_deadline=terms.discount_deadline)


def _hearing_for(session: Session, appeal: Appeal, hearing_id: int | None) -> Hearing:
    q = select(Hearing).where(Hearing.appeal_id == appeal.id)
    q = q.where(Hearing.id == hearing_id) if hearing_id else q.where(Hearing.status == "scheduled")
    hearing = session.scalars(q.order_by(Hearing.id.desc())).first()
    if hearing is None:
        raise UserError(f"Appeal {appeal_number(appeal.id)} has no hearing scheduled; schedule one first.")
    return hearing


def letter_data(session: Session, appeal_id: int, kind: str, today: date,
                hearing_id: int | None = None) -> rd.LetterData:
    """The data of one appeal letter, to print with the context's renderer.

    ``hearing_id`` picks the hearing of a hearing notice (default: the one scheduled now).
    """
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"Appeal {appeal_number(appeal_id)} does not exist.")
    if kind == "appeal_acknowledgement":
        return acknowledgement_data(session, appeal, today)
    if kind == "hearing_notice":
        return hearing_notice_data(session, appeal, _hearing_for(session, appeal, hearing_id), today)
    if kind == "decision_letter":
        return decision_letter_data(session, appeal, today)
    raise UserError(f"'{kind}' is not an appeal letter ({', '.join(LETTER_KINDS)}).")


def _write_pdf(pdf: bytes, folder: Path, stem: str) -> Path:
    """Write atomically under a name that is never reused (a second print keeps the first)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"{stem}.pdf"
    n = 2
    while base.exists():
        base = folder / f"{stem}-{n}.pdf"
        n += 1
    return _replace(base, pdf)


def render_letter(app: AppContext, actor: Actor, appeal_id: int, kind: str, hearing_id: int | None = None) -> Path:
    """Print one letter now (saved under the documents folder) and make sure it is queued for mailing."""
    with app.uow(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        appeal = s.get(Appeal, appeal_id)
        if appeal is None:
            raise NotFound(f"Appeal {appeal_number(appeal_id)} does not exist.")
        case = s.get(Citation, appeal.citation_id)
        assert case is not None
        today = rules.local_date(app.now(), case_profile(case))
        require_identity(s, case.profile_code)  # never a letter under another profile's authority
        if kind == "hearing_notice":
            hearing_id = _hearing_for(s, appeal, hearing_id).id
        letter = letter_data(s, appeal_id, kind, today, hearing_id)
        pdf = app.renderer.letter(letter)
        stamp = app.now().astimezone(agency_zone(s)).strftime("%Y%m%d-%H%M%S")
        path = _write_pdf(pdf, app.paths.documents_dir / "appeals" / "letters",
                          f"{appeal_number(appeal_id)}-{kind.replace('_', '-')}-{stamp}")
        if kind == "hearing_notice":
            queue_letter(uow, case, appeal, kind, f"hearing_notice:{hearing_id}", hearing_id=hearing_id)
        else:
            queue_letter(uow, case, appeal, kind, f"{kind}:{appeal.id}")
        uow.audit("appeal.letter_printed", "citation", case.id,
                  after={"appeal": appeal_number(appeal_id), "kind": kind, "file": path.name})
        uow.commit()
        return path


# --------------------------------------------------------------------------- the packet and the docket


def packet_data(app: AppContext, actor: Actor, ws: AppealWorkspace, work_dir: Path,
                progress: Progress | None = None) -> rd.HearingPacketData:
    """The packet's data from a workspace: print derivatives of the photos, the map, EXIF, digests."""
    note = progress or (lambda _d, _t, _s: None)
    steps = len(ws.photos) + 2
    photos = []
    exif_rows = []
    digests = []
    work_dir.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(ws.photos, 1):
        note(i - 1, steps, f"Preparing photo {i} of {len(ws.photos)}…")
        name = f"Photo {i}"
        if p.exists and p.verified:
            deriv = work_dir / f"{p.sha256}-print.jpg"
            try:
                _print_copy_verified(app, p.sha256, deriv)
                photos.append(rd.EvidencePhoto(str(deriv), p.caption, p.taken_at, p.sha256))
            except (EvidenceTampered, EvidenceMissing) as exc:  # changed since the workspace was loaded
                exif_rows.append(rd.ExifRow(name, "Not printed", str(exc)))
            except OSError as exc:
                photos.append(rd.EvidencePhoto(str(p.path), f"{p.caption} (cannot be printed: {exc})", p.taken_at,
                                               p.sha256))
        elif p.exists:
            exif_rows.append(rd.ExifRow(name, "Not printed", f"{p.caption}: {MISMATCH_REASON}"))
        exif_rows += [rd.ExifRow(name, tag, value) for tag, value in exif_lines(p.exif, ws.timezone_name)]
        digests.append(rd.DigestRow(f"{name} ({p.caption})", p.sha256, p.computed_sha256 or "file missing"))
    for d in ws.documents:
        digests.append(rd.DigestRow(f"Appellant: {d.filename}", d.sha256, d.computed_sha256 or "file missing"))
    note(len(ws.photos), steps, "Drawing the map…")
    map_path = map_png(app, ws)
    sig = ws.signature
    timeline = [rd.TimelineRow(t.at, t.who, t.what, t.detail) for t in ws.timeline]
    checks = ws.review_checks + ws.registration_checks + ws.permit_checks
    check_at = ws.issued_at + timedelta(seconds=1)
    timeline += [rd.TimelineRow(check_at, "Checks", f"Check ({c.severity})", c.text) for c in checks]
    with app.db.reading() as s:
        case = s.get(Citation, ws.citation_id)
        assert case is not None
        profile = case_profile(case)
        agency = agency_info(s, profile.code)
        facts = citation_facts(s, case, profile)
        plate_row = _plate_reading_row(s, case, EvidenceStore(app.paths.evidence_dir), work_dir)
    hearing = ws.scheduled_hearing
    distances = ", ".join(f"photo {i} {p.distance_m:.0f} m" for i, p in enumerate(ws.photos, 1)
                          if p.distance_m is not None)
    return rd.HearingPacketData(
        profile_code=_letter_profile(profile), agency=agency, appeal_number=ws.number, facts=facts,
        appellant_name=ws.appellant_name, prepared_at=app.now(), prepared_by=actor.full_name or actor.username,
        hearing_at=hearing.scheduled_at if hearing else None,
        grounds="; ".join(text for _k, text in ws.grounds), appellant_statement=ws.statement, photos=tuple(photos),
        map_png_path=str(map_path),
        map_caption=(f"Schematic (no street map): citation at {ws.lat:.6f}, {ws.lon:.6f}"
                     + (f" ± {ws.accuracy_m:.0f} m" if ws.accuracy_m else "")
                     + (f"; zone {ws.zone_code}" if ws.zone_code else "")
                     + (f"; distances from the citation: {distances}" if distances else "") + "."),
        exif_rows=tuple(exif_rows), digests=tuple(digests),
        signature=rd.SignatureState(sig.status, sig.signer, sig.key_id, "Ed25519" if sig.key_id else "", sig.detail),
        timeline=tuple(timeline), ledger=tuple(ws.ledger),
        appellant_documents=tuple(rd.AppellantDocument(d.filename, str(d.path), d.sha256, d.mime_type, d.added_at,
                                                       d.page_count) for d in ws.documents),
        plate_reading=plate_row)


def _plate_reading_row(s: Session, case: Citation, store: EvidenceStore, work_dir: Path) -> rd.PlateReadingRow | None:
    """The plate read from the photos, with its crop written beside the print copies (None: never read)."""
    view = plate_photo_view(s, case, store)
    if view.state in ("pending", "unavailable"):
        return None
    crop_path = None
    if view.crop_png:
        path = work_dir / f"plate-{case.id}.png"
        path.write_bytes(view.crop_png)
        crop_path = str(path)
    return rd.PlateReadingRow(view.summary, crop_path, view.engine)


def _print_copy_verified(app: AppContext, sha256: str, deriv: Path) -> None:
    """The print copy made from the bytes just checked against the digest (never from the path again)."""
    data = EvidenceStore(app.paths.evidence_dir).read_verified(sha256)
    fd, tmp = tempfile.mkstemp(prefix=".original-", suffix=".jpg", dir=deriv.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        app.renderer.print_copy(Path(tmp), deriv, grey=False)  # a kerb's colour is evidence
    finally:
        os.unlink(tmp)


@dataclass(frozen=True)
class PacketResult:
    path: Path
    digests_ok: bool
    """False when a photo or document no longer matches its recorded digest (the packet says which)."""


def build_packet(app: AppContext, actor: Actor, appeal_id: int, out: Path | None = None,
                 progress: Progress | None = None) -> Path:
    """One click: the evidence packet PDF of an appeal (to ``out``, or under the documents folder)."""
    return print_packet(app, actor, appeal_id, out, progress).path


def print_packet(app: AppContext, actor: Actor, appeal_id: int, out: Path | None = None,
                 progress: Progress | None = None) -> PacketResult:
    """`build_packet`, also saying whether every file matched its digest."""
    note = progress or (lambda _d, _t, _s: None)

    def phase(start: int, width: int) -> Progress:
        return lambda d, t, text: note(start + (width * d) // max(t, 1), 100, text)

    ws = load_workspace(app, actor, appeal_id, progress=phase(0, 40))
    data = packet_data(app, actor, ws, app.paths.print_dir / "appeal-derivatives", progress=phase(40, 40))
    note(80, 100, "Laying out the packet…")
    pdf = app.renderer.hearing_packet(data)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        path = _replace(out, pdf)
    else:
        stamp = app.now().strftime("%Y%m%d-%H%M%S")
        path = _write_pdf(pdf, app.paths.documents_dir / "appeals" / "packets", f"{ws.number}-packet-{stamp}")
    with app.uow(actor, Permission.VIEW_CASES) as uow:
        uow.audit("appeal.packet_printed", "citation", ws.citation_id,
                  after={"appeal": ws.number, "file": path.name, "digests_verified": ws.digests_ok,
                         "signature": ws.signature.status.value})
        uow.commit()
    note(100, 100, "Packet ready")
    return PacketResult(path, ws.digests_ok)


def _replace(out: Path, pdf: bytes) -> Path:
    """An explicit --out path is the user's choice: replace it atomically."""
    fd, tmp = tempfile.mkstemp(prefix=".pdf-", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out


def docket_data(app: AppContext, actor: Actor, day: date, officer_user_id: int | None = None) -> rd.DocketData:
    rows = docket(app, actor, day, officer_user_id)
    with app.db.reading() as s:
        tz_name = str(settings.get(s, "agency.timezone"))
        profile_code = str(settings.get(s, "agency.profile"))
        agency = agency_info(s, profile_code)
        location = ", ".join(settings.get(s, "appeals.hearing_location"))
        officer = _name(s, officer_user_id) if officer_user_id else ""
    if not officer:
        names = sorted({r.officer_name for r in rows})
        officer = ", ".join(names) if names else "All hearing officers"
    entries = tuple(rd.DocketEntry(
        r.scheduled_at, r.number, r.citation_number, r.plate, r.appellant_name, HearingMode(r.mode).label,
        r.violation_code, r.balance_cents, r.status.capitalize(),
        (f"Adjourned: {r.adjourned_reason}" if r.status == "adjourned" and r.adjourned_reason else r.level_name)
        + ("" if officer_user_id else f" ({r.officer_name})")) for r in rows)
    return rd.DocketData(profile_code if profile_code in ("CA", "NYC", "ENG") else "CA", agency, day, tz_name,
                         officer, location, entries, app.now())


def render_docket(app: AppContext, actor: Actor, day: date, out: Path | None = None,
                  officer_user_id: int | None = None) -> Path:
    pdf = app.renderer.docket(docket_data(app, actor, day, officer_user_id))
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        return _replace(out, pdf)
    return _write_pdf(pdf, app.paths.documents_dir / "appeals" / "dockets", f"docket-{day.isoformat()}")
