"""Stored field events: those of unknown types (kept, not applied), one event as received, counts by outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from desktop.domain.errors import NotFound
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, FieldEvent
from desktop.services.core.context import Actor, AppContext


@dataclass(frozen=True)
class SkippedEventRow:
    """An event of a type this office does not know: kept as received and shown, not applied."""

    event_id: str
    received_at: datetime
    device_id: str
    seq: int | None
    type: str
    source: str


def list_skipped_events(app: AppContext, actor: Actor, limit: int = 2000) -> list[SkippedEventRow]:
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return [SkippedEventRow(e.event_id, e.received_at, e.device_id, e.seq, e.type, e.source)
                for e in uow.session.scalars(select(FieldEvent).where(FieldEvent.outcome == "skipped")
                                             .order_by(FieldEvent.received_at.desc()).limit(limit))]


def field_event_raw(app: AppContext, actor: Actor, event_id: str) -> str:
    """A stored field event as received, pretty-printed."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        row = uow.session.get(FieldEvent, event_id)
        if row is None:
            raise NotFound(f"Field event {event_id} does not exist.")
        raw = row.raw
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return raw


def field_event_counts(app: AppContext, actor: Actor) -> dict[str, int]:
    """How many field events of each outcome are stored (for the screen's header)."""
    with app.reader(actor, Permission.SYNC_FIELD_DATA) as uow:
        return {outcome: int(n) for outcome, n in uow.session.execute(
            select(FieldEvent.outcome, func.count()).group_by(FieldEvent.outcome))}


def citations_from_field(app: AppContext) -> int:
    with app.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Citation).where(Citation.source_event_id.is_not(None)))
                   or 0)
