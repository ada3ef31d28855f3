"""The audit trail: append-only, each entry chained to the one before by SHA-256.

An entry's hash covers its own content and the previous entry's hash, and ids are
contiguous, so `verify` finds any edited, deleted or inserted row. Appends are
serialised through the single `audit_head` row (locked FOR UPDATE on PostgreSQL;
SQLite's writers are serialised by BEGIN IMMEDIATE already).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from desktop.domain.canonical import canonical_json
from desktop.persistence.bulk import insert_rows
from desktop.persistence.db import Database
from desktop.persistence.models import AuditEntry, AuditHead
from desktop.services.core.jsonable import jsonable

GENESIS = "0" * 64
#: the canonical JSON an entry's hash covers (json.dumps with these options), made once
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(entry_id: int, at: datetime, user_id: int | None, username: str, action: str,
            entity_type: str, entity_id: str, before: Any, after: Any, reason: str | None,
            prev_hash: str) -> str:
    return _Hasher(at, user_id, username)(entry_id, action, entity_type, entity_id, before, after, reason,
                                          prev_hash)


def _json(value: Any) -> str:
    """One value as the canonical encoder writes it inside the entry: text straight to its C escaper, an
    id as ``int.__repr__`` and None as ``null`` (what the encoder writes for them), anything else encoded."""
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is dict and all(type(inner) in _FLAT for inner in value.values()):
        # an entry's usual before/after: text, whole numbers, booleans and None only (no float, so nothing
        # the two encoders write differently; keys are text, as jsonable() leaves them)
        return canonical_json(value, finite=True).decode("utf-8")
    return _CANONICAL.encode(value)


_FLAT = frozenset({str, int, bool, type(None)})
_encode_text = json.encoder.encode_basestring  # what the encoder uses for text with ensure_ascii=False


class _Hasher:
    """The hash of entries that share who and when (a bulk append): the canonical JSON of

    ``{"id", "at", "user_id", "username", "action", "entity_type", "entity_id", "before", "after",
    "reason", "prev_hash"}`` (sorted keys, no spaces, UTF-8), with the shared values encoded once and
    the rest written between the keys: byte for byte what ``json.dumps(body, sort_keys=True, ...)``
    gives (a test compares them)."""

    def __init__(self, at: datetime, user_id: int | None, username: str) -> None:
        self._at = ',"at":' + _json(at.isoformat()) + ',"before":'
        self._tail = ',"user_id":' + _json(user_id) + ',"username":' + _json(username) + "}"

    def __call__(self, entry_id: int, action: str, entity_type: str, entity_id: str, before: Any, after: Any,
                 reason: str | None, prev_hash: str) -> str:
        text = "".join((
            '{"action":', _json(action), ',"after":', _json(after), self._at, _json(before),
            ',"entity_id":', _json(entity_id), ',"entity_type":', _json(entity_type), ',"id":', _json(entry_id),
            ',"prev_hash":', _json(prev_hash), ',"reason":', _json(reason), self._tail))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append(session: Session, *, at: datetime, user_id: int | None, username: str, action: str,
           entity_type: str, entity_id: str | int, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, reason: str | None = None) -> AuditEntry:
    """Add one entry to the chain inside the caller's transaction."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    before_j = jsonable(before) if before is not None else None
    after_j = jsonable(after) if after is not None else None
    # The hash is computed on UTC, which is what the column gives back.
    at = at.astimezone(timezone.utc)
    entry_id = head.last_id + 1
    digest = _digest(entry_id, at, user_id, username, action, entity_type, str(entity_id),
                     before_j, after_j, reason, head.last_hash)
    entry = AuditEntry(
        id=entry_id, at=at, user_id=user_id, username=username, action=action,
        entity_type=entity_type, entity_id=str(entity_id), before=before_j, after=after_j,
        reason=reason, prev_hash=head.last_hash, hash=digest,
    )
    session.add(entry)
    head.last_id = entry_id
    head.last_hash = digest
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditRecord:
    """One entry to append with :func:`append_many` (who and when are shared by the batch)."""

    action: str
    entity_type: str
    entity_id: str | int
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


def append_many(session: Session, records: Sequence[AuditRecord], *, at: datetime, user_id: int | None,
                username: str) -> int:
    """Append many entries in one go (bulk ingest): one head lock, one multi-row insert.

    The chain is the same as appending them one by one with :func:`append`; the head
    row is updated through the session so later :func:`append` calls continue it.
    """
    if not records:
        return 0
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    at = at.astimezone(timezone.utc)
    last_id, last_hash = head.last_id, head.last_hash
    digest_of = _Hasher(at, user_id, username)
    rows: list[dict[str, Any]] = []
    for record in records:
        before_j = jsonable(record.before) if record.before is not None else None
        after_j = jsonable(record.after) if record.after is not None else None
        last_id += 1
        digest = digest_of(last_id, record.action, record.entity_type, str(record.entity_id), before_j, after_j,
                           record.reason, last_hash)
        rows.append(dict(id=last_id, at=at, user_id=user_id, username=username, action=record.action,
                         entity_type=record.entity_type, entity_id=str(record.entity_id), before=before_j,
                         after=after_j, reason=record.reason, prev_hash=last_hash, hash=digest))
        last_hash = digest
    insert_rows(session, cast(Table, AuditEntry.__table__), rows)
    head.last_id = last_id
    head.last_hash = last_hash
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None

    def message(self) -> str:
        if self.ok:
            return f"Audit trail intact: {self.checked} entries verified."
        return f"Audit trail broken at entry {self.first_bad_id}: {self.problem}"


def verify(db: Database, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order and recompute every hash."""
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    with db.reading() as session:
        last = 0
        while True:
            rows = session.execute(
                select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
            ).scalars().all()
            if not rows:
                break
            for e in rows:
                if e.id != expected_id:
                    return VerifyResult(False, checked, expected_id,
                                        f"entry {expected_id} is missing (next present is {e.id})")
                if e.prev_hash != expected_prev:
                    return VerifyResult(False, checked, e.id, "its link to the previous entry does not match")
                digest = _digest(e.id, e.at, e.user_id, e.username, e.action, e.entity_type,
                                 e.entity_id, e.before, e.after, e.reason, e.prev_hash)
                if digest != e.hash:
                    return VerifyResult(False, checked, e.id, "its content was changed after it was written")
                expected_prev = e.hash
                expected_id += 1
                checked += 1
                last = e.id
            session.expunge_all()
        head = session.get(AuditHead, 1)
        if head is not None and (head.last_id != expected_id - 1 or head.last_hash != expected_prev):
            return VerifyResult(False, checked, expected_id,
                                f"entries after {expected_id - 1} were removed (the chain head records {head.last_id})")
    return VerifyResult(True, checked)


def history(session: Session, entity_type: str, entity_id: str | int) -> list[AuditEntry]:
    return list(
        session.execute(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        ).scalars()
    )
