"""Voids and amendments from a handheld, applied to cases already stored (through the case steps).

A void moves the case to voided like any other case change; an amendment corrects a case still being
received or reviewed, re-prices it by the fine schedule and adds its new photos. Anything else (the
citation not received yet, the case already further on) goes to the quarantine with the reason.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from desktop.domain.errors import IllegalTransition
from desktop.domain.lifecycle import CaseStatus, PhotoIntegrity, evidence_status
from desktop.domain.plates import normalize_plate, plate_search_key
from desktop.persistence.models import Citation, CitationViolation, EvidencePhoto
from desktop.services.cases import steps as case_ops
from desktop.services.core.context import UnitOfWork
from desktop.services.sync.ingest_rules import APPLIED, DUPLICATE, IngestReference, price_violations
from desktop.services.sync.ingest_storage import photo_rows
from desktop.services.sync.photo_sources import PhotoOutcome
from desktop.sync import wire
from desktop.sync.prepared import PreparedEvent

_OPEN_FOR_AMENDMENT = (CaseStatus.RECEIVED.value, CaseStatus.PENDING_REVIEW.value)


def apply_change(uow: UnitOfWork, cases: dict[str, Citation], it: PreparedEvent,
                 outcomes: dict[str, PhotoOutcome], ref: IngestReference, now: datetime, evidence_dir: Path) -> str:
    """Apply a void or an amendment to its case (loaded and locked with the batch's others).

    Returns APPLIED, DUPLICATE or 'quarantine:<reason>'.
    """
    assert it.parsed is not None
    p = it.parsed.payload
    assert isinstance(p, (wire.CitationVoided, wire.CitationAmended))
    case = cases.get(p.citation_number)
    what = "voids" if isinstance(p, wire.CitationVoided) else "amends"
    if case is None:
        return (f"quarantine:payload.citation_number: this event {what} citation {p.citation_number}, "
                "which has not been received (re-submit it once the citation has arrived)")
    device = it.device_id
    if isinstance(p, wire.CitationVoided):
        if case.status == CaseStatus.VOIDED.value:
            return DUPLICATE
        reason = (f"voided on handheld {device} at {p.voided_at.isoformat()}"
                  + (f": {p.reason}" if p.reason else ""))
        try:
            case_ops.move(uow, case, CaseStatus.VOIDED, reason=reason, action="citation.voided")
        except IllegalTransition as exc:
            return f"quarantine:the handheld voided it, but {exc}"
        return APPLIED
    if case.status not in _OPEN_FOR_AMENDMENT:
        return (f"quarantine:the handheld amended citation {p.citation_number}, but the case is already "
                f"{CaseStatus(case.status).label.lower()}: a supervisor must apply the correction")
    _amend(uow, case, it, p, outcomes, ref, now, evidence_dir)
    return APPLIED

def _amend(uow: UnitOfWork, case: Citation, it: PreparedEvent, p: wire.CitationAmended,
           outcomes: dict[str, PhotoOutcome], ref: IngestReference, now: datetime, evidence_dir: Path) -> None:
    c = p.changes
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    def change(attr: str, value: Any) -> None:
        old = getattr(case, attr)
        if old != value:
            before[attr] = old
            after[attr] = value
            setattr(case, attr, value)

    if c.officer_badge is not None:
        change("officer_badge", c.officer_badge)
    if c.issued_at is not None:
        change("issued_at", c.issued_at)
    if c.vehicle is not None:
        given = c.vehicle.model_fields_set
        for name in ("jurisdiction", "plate_type", "make", "model", "color", "vin", "registration_expiry"):
            if name in given and (getattr(c.vehicle, name) is not None or name not in ("jurisdiction",)):
                change(name, getattr(c.vehicle, name))
        if "plate" in given and c.vehicle.plate is not None:
            plate = normalize_plate(c.vehicle.plate)
            change("plate", plate)
            change("plate_key", plate_search_key(plate))
    if c.location is not None:
        given = c.location.model_fields_set
        for name, attr in (("lat", "lat"), ("lon", "lon"), ("accuracy_m", "accuracy_m"), ("address", "address"),
                           ("zone", "zone_code"), ("space", "space")):
            value = getattr(c.location, name)
            if name in given and (value is not None or name not in ("lat", "lon")):
                change(attr, value)
    if c.remarks is not None or "remarks" in c.model_fields_set:
        change("remarks", c.remarks)
    if c.observations is not None:
        raw_changes = it.parsed.raw["payload"]["changes"] if it.parsed else {}
        change("observations", raw_changes.get("observations") or [])
    if c.violations is not None or c.issued_at is not None:
        violations = c.violations
        if violations is None:
            violations = [wire.Violation(code=v.code, description=v.description,
                                         fine_cents=v.handheld_fine_cents) for v in case.violations]
        rows, fine, handheld, warnings = price_violations(violations, case.issued_at, ref, case.id)
        if c.violations is not None:
            before["violations"] = [{"code": v.code, "fine_cents": v.fine_cents} for v in case.violations]
            after["violations"] = [{"code": r["code"], "fine_cents": r["fine_cents"]} for r in rows]
            case.violations = [CitationViolation(**{k: v for k, v in r.items() if k != "citation_id"})
                               for r in rows]
            change("violation_code", rows[0]["code"])
            change("violation_description", rows[0]["description"])
        change("fine_cents", fine)
        change("handheld_fine_cents", handheld)
        kept = [w for w in case.review_warnings or [] if w.get("code") not in ("fine_schedule", "fine_differs")]
        change("review_warnings", kept + warnings)  # (and their count with them)
    if c.photos:
        have = {ph.sha256 for ph in case.photos}
        rows = photo_rows(c.photos, outcomes, now, evidence_dir, start=len(case.photos), skip=frozenset(have))
        for r in rows:
            r.pop("citation_id")
            case.photos.append(EvidencePhoto(**r))
        if rows:
            after["photos_added"] = [r["sha256"] for r in rows]
            change("evidence_status",
                   evidence_status([PhotoIntegrity(ph.integrity) for ph in case.photos]).value)
    reason = f"amended on handheld {it.device_id}" + (f": {p.reason}" if p.reason else "")
    uow.audit("citation.amended", "citation", case.id, before=before, after=after, reason=reason)
