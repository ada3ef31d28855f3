"""How an ingest batch is written: durable commits, bulk inserts and their ids, audit entries in one append.

The batch goes through SQLAlchemy Core in bulk (:func:`desktop.persistence.bulk.insert_rows`), so the
pieces the ORM would otherwise do are here: citation ids handed out before the insert, the audit entries
of case steps gathered for one append, long IN lists cut into chunks, and SQLite's commit made durable
for the transactions whose events are then acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, Engine, Table, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from desktop.persistence.bulk import reserve_ids
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation
from desktop.services.core.audit import AuditRecord
from desktop.services.core.context import UnitOfWork
from desktop.services.sync.photo_sources import PhotoOutcome, StorePhotos
from desktop.sync import wire
from desktop.sync.prepared import PhotoLine

IN_CHUNK = 500


_durable: ContextVar[bool] = ContextVar("curbdesk_durable_commit", default=False)
_hooked: set[int] = set()


def durability_hook(engine: Engine) -> None:
    """SQLite runs with ``synchronous=NORMAL`` (fast, but a commit may be lost on power failure). An ingest
    commit is followed by an ack that lets the endpoint delete the events, so it must survive a power cut:
    transactions begun while ``_durable`` is set run with ``synchronous=FULL`` (the WAL is synced at commit)."""
    if engine.dialect.name != "sqlite" or id(engine) in _hooked:
        return
    _hooked.add(id(engine))

    @event.listens_for(engine, "checkout")
    def _synchronous(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # at checkout no transaction is open yet (the level cannot change inside one)
        want = "FULL" if _durable.get() else "NORMAL"
        if record.info.get("curbdesk_synchronous", "NORMAL") != want:
            dbapi_connection.execute(f"PRAGMA synchronous={want}")
            record.info["curbdesk_synchronous"] = want


@contextmanager
def durable_commits() -> Iterator[None]:
    """Transactions begun inside run with ``synchronous=FULL`` on SQLite (see :func:`durability_hook`)."""
    token = _durable.set(True)
    try:
        yield
    finally:
        _durable.reset(token)


def table(model: type[Any]) -> Table:
    """The Core table of a mapped class (bulk inserts go through Core, not the ORM)."""
    return cast(Table, model.__table__)


def reserve_citation_ids(session: Session, count: int) -> list[int]:
    """Ids for a bulk insert of citations (see ``persistence.bulk.reserve_ids``)."""
    return reserve_ids(session, Citation.__tablename__, count)


class BatchedAudit:
    """The unit of work as :func:`desktop.services.cases.steps.move` sees it, with its audit entries collected for one bulk append.

    The entries keep their order and their content; only the writing is batched.
    """

    def __init__(self, uow: UnitOfWork, records: list[AuditRecord]) -> None:
        self.app = uow.app
        self.actor = uow.actor
        self.session = uow.session
        self._records = records

    def audit(self, action: str, entity_type: str, entity_id: str | int, *, before: dict[str, Any] | None = None,
              after: dict[str, Any] | None = None, reason: str | None = None) -> None:
        self._records.append(AuditRecord(action, entity_type, entity_id, before, after, reason))


def chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterable[list[str]]:
    """The values in lists of ``size`` at most (for ``IN (...)`` queries the database accepts)."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def one_of(session: Session, column: Any, values: Sequence[str]) -> Iterator[ColumnElement[bool]]:
    """Conditions that together select the rows whose ``column`` is one of ``values`` (none for no values).

    On PostgreSQL one condition, ``column = ANY(:values)``: the values go as one array parameter, so a batch's
    look-up is one statement, not one per 500 values, each with 500 parameters to bind and plan (a sync of
    30,000 citations sent about 120 of those for its events alone). SQLite takes ``IN`` lists of ``IN_CHUNK``."""
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for chunk in chunks(values):
        yield column.in_(chunk)


def photo_rows(refs: Sequence[wire.PhotoRef | PhotoLine], outcomes: dict[str, PhotoOutcome], now: datetime,
               evidence_dir: Path, start: int = 0, skip: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Evidence photo rows for a citation's photos (each once), as fetched; a photo not fetched is looked
    for in the evidence store."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set(skip)
    fallback: StorePhotos | None = None
    for ref in refs:
        if ref.sha256 in seen:
            continue  # the same photo listed twice is one piece of evidence
        seen.add(ref.sha256)
        outcome = outcomes.get(ref.sha256)
        if outcome is None:
            if fallback is None:
                fallback = StorePhotos(EvidenceStore(evidence_dir), "not fetched")
            outcome = fallback.fetch(ref.sha256, ref.bytes)
        rows.append(dict(
            citation_id=None, position=start + len(rows), sha256=ref.sha256, declared_bytes=ref.bytes,
            taken_at=ref.taken_at, caption=ref.caption, integrity=outcome.integrity.value,
            integrity_reason=outcome.reason, attempts=outcome.attempts, exif=outcome.exif,
            gps_lat=outcome.gps_lat, gps_lon=outcome.gps_lon, width=outcome.width, height=outcome.height,
            verified_at=now if outcome.verified else None))
    return rows
