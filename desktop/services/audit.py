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
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from desktop.persistence.db import Database
from desktop.persistence.models import AuditEntry, AuditHead
from desktop.services.jsonable import jsonable

GENESIS = "0" * 64


def _digest(entry_id: int, at: datetime, user_id: int | None, username: str, action: str,
            entity_type: str, entity_id: str, before: Any, after: Any, reason: str | None,
            prev_hash: str) -> str:
    body = {
        "id": entry_id, "at": at.isoformat(), "user_id": user_id, "username": username,
        "action": action, "entity_type": entity_type, "entity_id": entity_id,
        "before": before, "after": after, "reason": reason, "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
class PendingEntry:
    """One entry of a bulk append (the daily escalation records each case it moves)."""

    action: str
    entity_type: str
    entity_id: str | int
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


def append_many(session: Session, entries: Sequence[PendingEntry], *, at: datetime, user_id: int | None,
                username: str) -> int:
    """Append many entries to the chain in one insert, inside the caller's transaction."""
    if not entries:
        return 0
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    at = at.astimezone(timezone.utc)
    prev, entry_id, rows = head.last_hash, head.last_id, []
    for e in entries:
        entry_id += 1
        before_j = jsonable(e.before) if e.before is not None else None
        after_j = jsonable(e.after) if e.after is not None else None
        digest = _digest(entry_id, at, user_id, username, e.action, e.entity_type, str(e.entity_id),
                         before_j, after_j, e.reason, prev)
        rows.append({"id": entry_id, "at": at, "user_id": user_id, "username": username, "action": e.action,
                     "entity_type": e.entity_type, "entity_id": str(e.entity_id), "before": before_j,
                     "after": after_j, "reason": e.reason, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(insert(AuditEntry), rows)
    head.last_id = entry_id
    head.last_hash = prev
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
