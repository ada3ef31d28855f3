"""The quarantine: field events that could not be applied, listed, discarded, re-submitted corrected, exported."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import QuarantinedEvent, User
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.core.imports import csv_writer
from desktop.services.sync.ingest import QUARANTINE_PHOTOS, Ingestor, IngestStats, QuarantinedAgain
from desktop.services.sync.photo_sources import PhotoHold, StorePhotos


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    received_at: datetime
    event_id: str | None
    device_id: str | None
    type: str | None
    reason: str
    status: str
    source: str
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None


def list_quarantine(app: AppContext, actor: Actor, status: str | None = "open",
                    limit: int = 5000) -> list[QuarantineRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        q = (select(QuarantinedEvent, User.username).outerjoin(User, User.id == QuarantinedEvent.resolved_by)
             .order_by(QuarantinedEvent.id.desc()).limit(limit))
        if status:
            q = q.where(QuarantinedEvent.status == status)
        return [QuarantineRow(e.id, e.received_at, e.event_id, e.device_id, e.type, e.reason, e.status, e.source,
                              who, e.resolved_at, e.resolution) for e, who in uow.session.execute(q).all()]


def count_open_quarantine(app: AppContext, actor: Actor) -> int:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(QuarantinedEvent)
                                      .where(QuarantinedEvent.status == "open")) or 0)


def quarantine_raw(app: AppContext, actor: Actor, quarantine_id: int, pretty: bool = True) -> str:
    """The event as received (pretty-printed when it is readable JSON)."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        row = uow.session.get(QuarantinedEvent, quarantine_id)
        if row is None:
            raise NotFound(f"Quarantined event {quarantine_id} does not exist.")
        raw = row.raw
    if pretty:
        try:
            return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            return raw
    return raw


def _open_row(uow: UnitOfWork, quarantine_id: int) -> QuarantinedEvent:
    row = uow.session.get(QuarantinedEvent, quarantine_id, with_for_update=True)
    if row is None:
        raise NotFound(f"Quarantined event {quarantine_id} does not exist.")
    if row.status != "open":
        raise UserError(f"Quarantined event {quarantine_id} was already {row.status}.")
    return row


def discard_quarantined(app: AppContext, actor: Actor, quarantine_id: int, reason: str) -> None:
    """A supervisor decides the event is of no use; it stays on record (nothing is deleted)."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("Give a reason for discarding the event.")
    with app.uow(actor, Permission.RESOLVE_QUARANTINE) as uow:
        row = _open_row(uow, quarantine_id)
        row.status = "discarded"
        row.resolved_by = actor.user_id
        row.resolved_at = app.now()
        row.resolution = reason
        uow.audit("quarantine.discarded", "field_event", row.event_id or f"quarantine:{row.id}",
                  before={"status": "open", "reason": row.reason}, after={"status": "discarded"}, reason=reason)
        uow.commit()


def resubmit_quarantined(app: AppContext, actor: Actor, quarantine_id: int, corrected: str,
                         note: str | None = None) -> IngestStats:
    """Run a corrected event through the pipeline. It is applied whole or not at all: if it still
    fails, nothing changes and the reason is shown. A re-submitted event is the supervisor's word,
    so the device signature (which a correction necessarily breaks) is not asked for."""
    with app.reader(actor, Permission.RESOLVE_QUARANTINE) as uow:
        row = uow.session.get(QuarantinedEvent, quarantine_id)
        if row is None:
            raise NotFound(f"Quarantined event {quarantine_id} does not exist.")
        if row.status != "open":
            raise UserError(f"Quarantined event {quarantine_id} was already {row.status}.")
        original_event_id = row.event_id
    if not (corrected or "").strip():
        raise UserError("The corrected event is empty.")

    def resolve(uow: UnitOfWork, stats: IngestStats) -> None:
        q = _open_row(uow, quarantine_id)
        if stats.events == 0:
            raise UserError("An event with that event_id is already stored: nothing new would be applied. "
                            "Discard this one instead, or give the corrected event a new event_id.")
        q.status = "resubmitted"
        q.resolved_by = actor.user_id
        q.resolved_at = app.now()
        q.resolution = (note or "re-submitted with corrections").strip()
        uow.audit("quarantine.resubmitted", "field_event", q.event_id or f"quarantine:{q.id}",
                  before={"status": "open", "reason": q.reason},
                  after={"status": "resubmitted", "citations": stats.citations, "duplicates": stats.duplicates},
                  reason=q.resolution)

    ingestor = Ingestor(app, actor, f"resubmitted:quarantine {quarantine_id}",
                        StorePhotos(EvidenceStore(app.paths.evidence_dir), "not received before the re-submission",
                                    held=PhotoHold(app.paths.data_dir / QUARANTINE_PHOTOS)),
                        permission=Permission.RESOLVE_QUARANTINE)
    try:
        return ingestor.resubmit(corrected, original_event_id, resolve)
    except QuarantinedAgain as exc:
        raise UserError(f"The corrected event is still not acceptable: {exc}") from None


QUARANTINE_COLUMNS = ["event_id", "device_id", "type", "reason", "received_at", "status", "source",
                      "resolved_by", "resolved_at", "resolution"]


def export_quarantine(app: AppContext, actor: Actor, out: Path) -> int:
    """The quarantine as CSV (every status), written to a temporary file and renamed when complete."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    with app.reader(actor, Permission.EXPORT_DATA) as uow:
        rows = uow.session.execute(
            select(QuarantinedEvent, User.username).outerjoin(User, User.id == QuarantinedEvent.resolved_by)
            .order_by(QuarantinedEvent.id)).all()
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv_writer(fh)  # formulas neutralised (issue 14)
                w.writerow(QUARANTINE_COLUMNS)
                for e, who in rows:
                    w.writerow([e.event_id or "", e.device_id or "", e.type or "", e.reason,
                                e.received_at.isoformat(), e.status, e.source, who or "",
                                e.resolved_at.isoformat() if e.resolved_at else "", e.resolution or ""])
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"Cannot write {out}: {exc.strerror}.") from exc
    return len(rows)
