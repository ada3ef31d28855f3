"""The audit trail: append-only, each entry chained to the one before by SHA-256.

An entry's hash covers its own content and the previous entry's hash, and ids are
contiguous, so `verify` finds any edited, deleted or inserted row. Appends are
serialised through the single `audit_head` row (locked FOR UPDATE on PostgreSQL;
SQLite's writers are serialised by BEGIN IMMEDIATE already).

The digest has no secret, so someone with the database could recompute the chain: the head is also
signed with the office's key kept outside the database, and checkpoints of it go to a signed file
beside the key (:mod:`desktop.services.core.seal`). `verify` checks both, and every sealed row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from desktop.domain.canonical import canonical_json
from desktop.domain.errors import UserError
from desktop.persistence.bulk import insert_rows
from desktop.persistence.db import Database
from desktop.persistence.models import AuditEntry, AuditHead
from desktop.services.core import activity
from desktop.services.core.jsonable import jsonable
from desktop.services.core.seal import (
    DB_IDENT_KEY,
    LABELS,
    SEALED,
    Checkpoint,
    OfficeSeal,
    db_ident,
    seal_of,
    seal_of_db,
    seal_unsealed,
)

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


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked; refused if this desk's key is not the one that seals the chain."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    office = seal_of(session)
    if office is not None and head.key_id is not None and head.key_id != office.key_id():
        raise UserError(f"This database's audit trail is sealed with another audit key (id {head.key_id}) than "
                        f"{office.key_file} (id {office.key_id()}). Point CURBDESK_AUDIT_KEY at the office's key "
                        "file; nothing was saved.")
    return head


def _move_head(session: Session, head: AuditHead, last_id: int, last_hash: str) -> None:
    """Advance the head and sign it with the office key (one HMAC per append or bulk append).

    Only a head whose seal held is signed again: a head moved outside Curbdesk (or unsealed after the
    first checkpoint) keeps a seal that does not match, so the next append cannot launder it."""
    office = seal_of(session)
    if office is not None:
        if head.mac is None:
            trusted = not office.anchored(session.info.get(DB_IDENT_KEY, ""))
        else:
            trusted = hmac.compare_digest(head.mac, office.head_mac(head.last_id, head.last_hash))
        head.key_id = office.key_id()
        if trusted:
            head.mac = office.head_mac(last_id, last_hash)
    head.last_id = last_id
    head.last_hash = last_hash
    session.flush()


def append(session: Session, *, at: datetime, user_id: int | None, username: str, action: str,
           entity_type: str, entity_id: str | int, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, reason: str | None = None) -> AuditEntry:
    """Add one entry to the chain inside the caller's transaction."""
    head = _locked_head(session)
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
    _move_head(session, head, entry_id, digest)
    if action in activity.ACTIONS:  # one line in the rotating log once this commits
        activity.note(session, [(at, username, action, entity_type, str(entity_id), after_j, reason)])
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
    return append_runs(session, [AuditRun(records, at, user_id, username)])


@dataclass(frozen=True)
class AuditRun:
    """Entries that share who and when (a click's entries each have their own moment)."""

    records: Sequence[AuditRecord]
    at: datetime
    user_id: int | None
    username: str


def append_runs(session: Session, runs: Sequence[AuditRun]) -> int:
    """:func:`append_many` for several runs at once: still one head lock, one multi-row insert and one move of
    the head, however many moments and users the entries have (a click's three entries: three round trips
    under the office-wide head lock instead of nine). The chain is the same as appending them one by one."""
    runs = [run for run in runs if run.records]
    if not runs:
        return 0
    head = _locked_head(session)
    last_id, last_hash = head.last_id, head.last_hash
    rows: list[dict[str, Any]] = []
    for run in runs:
        at = run.at.astimezone(timezone.utc)
        digest_of = _Hasher(at, run.user_id, run.username)
        for record in run.records:
            before_j = jsonable(record.before) if record.before is not None else None
            after_j = jsonable(record.after) if record.after is not None else None
            last_id += 1
            digest = digest_of(last_id, record.action, record.entity_type, str(record.entity_id), before_j, after_j,
                               record.reason, last_hash)
            rows.append(dict(id=last_id, at=at, user_id=run.user_id, username=run.username, action=record.action,
                             entity_type=record.entity_type, entity_id=str(record.entity_id), before=before_j,
                             after=after_j, reason=record.reason, prev_hash=last_hash, hash=digest))
            last_hash = digest
    insert_rows(session, cast(Table, AuditEntry.__table__), rows)
    activity.note(session, [(r["at"], r["username"], r["action"], r["entity_type"], r["entity_id"], r["after"],
                             r["reason"]) for r in rows if r["action"] in activity.ACTIONS])
    _move_head(session, head, last_id, last_hash)
    return len(rows)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None
    #: every finding, one line each naming the entry or row (the first is the chain's, if it broke)
    problems: tuple[str, ...] = ()
    #: sealed rows (citations, ledger entries, payments, users) whose seals were checked
    rows: int = 0
    #: what the checkpoint written after a clean verification anchored, a sentence
    checkpoint: str | None = None

    def message(self) -> str:
        if self.ok:
            text = f"Audit trail intact: {self.checked} entries verified."
            if self.rows:
                text += f" {self.rows:,} citations, ledger entries, payments and users match their seals."
            return text + (f"\n{self.checkpoint}" if self.checkpoint else "")
        if self.problems:
            return "\n".join(self.problems)
        return f"Audit trail broken at entry {self.first_bad_id}: {self.problem}"


@dataclass
class _Walk:
    """The chain as walked: how far it held, and its first break."""

    checked: int = 0
    last_hash: str = GENESIS
    bad_id: int | None = None
    problem: str | None = None

    def fail(self, entry_id: int, problem: str) -> None:
        if self.bad_id is None:
            self.bad_id, self.problem = entry_id, problem


def _walk_chain(session: Session, checkpoints: list[Checkpoint], batch: int) -> _Walk:
    walk = _Walk()
    anchors = {cp.last_id: cp for cp in checkpoints}
    expected_id = 1
    last = 0
    while walk.bad_id is None:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for e in rows:
            if e.id != expected_id:
                walk.fail(expected_id, f"entry {expected_id} is missing (next present is {e.id})")
            elif e.prev_hash != walk.last_hash:
                walk.fail(e.id, "its link to the previous entry does not match")
            elif _digest(e.id, e.at, e.user_id, e.username, e.action, e.entity_type, e.entity_id, e.before,
                         e.after, e.reason, e.prev_hash) != e.hash:
                walk.fail(e.id, "its content was changed after it was written")
            elif e.id in anchors and anchors[e.id].last_hash != e.hash:
                walk.fail(e.id, f"it differs from the checkpoint of {anchors[e.id].at}: this entry or one before "
                                "it was rewritten and the chain recomputed outside Curbdesk")
            if walk.bad_id is not None:
                break
            walk.last_hash = e.hash
            walk.checked += 1
            expected_id += 1
            last = e.id
        session.expunge_all()
    return walk


def _check_head(session: Session, walk: _Walk, office: OfficeSeal | None, last_cp: Checkpoint | None) -> None:
    last_id = walk.checked
    head = session.get(AuditHead, 1)
    if last_cp is not None and last_id < last_cp.last_id:
        walk.fail(last_id + 1, f"entries {last_id + 1} to {last_cp.last_id} were removed (the checkpoint of "
                               f"{last_cp.at} recorded {last_cp.last_id} entries)")
    if head is None:
        if last_id:
            walk.fail(last_id + 1, "the chain head is missing (its row was deleted)")
    elif head.last_id != last_id or head.last_hash != walk.last_hash:
        walk.fail(last_id + 1, f"entries after {last_id} were removed (the chain head records {head.last_id})")
    if walk.bad_id is not None or office is None or head is None:
        return
    if head.mac is None:
        if last_cp is not None:
            walk.fail(last_id, "the chain head is not sealed with the office key (its seal was removed)")
    elif head.key_id is not None and head.key_id != office.key_id():
        walk.fail(last_id, f"the trail is sealed with another audit key (id {head.key_id}) than {office.key_file} "
                           f"(id {office.key_id()}); point CURBDESK_AUDIT_KEY at the office's key file")
    elif not hmac.compare_digest(head.mac, office.head_mac(head.last_id, head.last_hash)):
        walk.fail(last_id, "the chain head is not signed by the office key: the trail was rewritten, cut short "
                           "or rolled back outside Curbdesk")


@dataclass
class _RowScan:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    #: table -> [highest id, rows]
    tables: dict[str, list[int]] = field(default_factory=dict)
    #: rows written before the key existed (row_mac NULL), sealed by the first checkpoint
    unsealed: dict[str, list[int]] = field(default_factory=dict)


_MAX_FINDINGS = 50


class _Gaps:
    """The ids absent up to a checkpoint's highest id (the first ten listed, all counted)."""

    def __init__(self, upto: int) -> None:
        self.upto = upto
        self.absent = 0
        self.ids: list[int] = []

    def between(self, prev: int, rid: int) -> None:
        hi = min(rid, self.upto + 1)
        if hi > prev + 1:
            self.absent += hi - prev - 1
            self.ids.extend(range(prev + 1, min(hi, prev + 1 + max(0, 10 - len(self.ids)))))


def _scan_rows(session: Session, office: OfficeSeal, last_cp: Checkpoint | None, batch: int) -> _RowScan:
    scan = _RowScan()
    for model, fields in SEALED.items():
        tbl = cast(Table, model.__table__)
        name, label = tbl.name, LABELS[tbl.name]
        cols = [tbl.c.id, tbl.c.row_mac, *(tbl.c[f] for f in fields)]
        anchor = last_cp.tables.get(name) if last_cp is not None else None
        count, max_id, below, prev = 0, 0, 0, 0
        gaps = _Gaps(anchor[0] if anchor is not None else 0)
        row_mac = office.row_mac
        while True:
            rows = session.execute(select(*cols).where(tbl.c.id > prev).order_by(tbl.c.id).limit(batch)).all()
            if not rows:
                break
            for r in rows:
                rid, mac = r[0], r[1]
                gaps.between(prev, rid)
                if anchor is not None and rid <= anchor[0]:
                    below += 1
                if mac is None:
                    if last_cp is None:
                        scan.unsealed.setdefault(name, []).append(rid)
                    elif len(scan.problems) < _MAX_FINDINGS:
                        scan.problems.append(f"{label} {rid}: it has no seal (it was written outside Curbdesk)")
                elif not hmac.compare_digest(mac, row_mac(name, rid, r[2:])):
                    if len(scan.problems) < _MAX_FINDINGS:
                        what = ", ".join(f.replace("_cents", "").replace("_", " ") for f in fields)
                        scan.problems.append(f"{label} {rid}: its {what} no longer match its seal (changed "
                                             "outside Curbdesk)")
                prev = rid
                count += 1
                max_id = rid
            scan.checked += len(rows)
            session.expunge_all()
        gaps.between(prev, gaps.upto + 1)
        scan.tables[name] = [max_id, count]
        if anchor is not None and last_cp is not None and below < anchor[1]:
            missing = anchor[1] - below
            listed = ", ".join(map(str, gaps.ids)) + (" …" if gaps.absent > len(gaps.ids) else "")
            which = (f"{label} {listed} missing" if gaps.absent == missing
                     else f"ids absent up to {anchor[0]}: {listed}")
            scan.problems.append(f"{label} rows deleted: {missing} of the {anchor[1]} counted by the checkpoint "
                                 f"of {last_cp.at} are gone ({which})")
    return scan


def verify(db: Database, batch: int = 5000, *, checkpoint: bool = True) -> VerifyResult:
    """Walk the chain in id order and recompute every hash; with the office's seal attached (every
    AppContext attaches it), also check the head's signature, the checkpoints and every sealed row, and,
    when all holds, append a checkpoint of what was verified (the first one seals the rows written
    before the key existed, as they are now)."""
    office = seal_of_db(db)
    ident = db_ident(db)
    checkpoints, problems = office.checkpoints(ident) if office is not None else ([], [])
    last_cp = checkpoints[-1] if checkpoints else None
    with db.reading() as session:
        walk = _walk_chain(session, checkpoints, batch)
        _check_head(session, walk, office, last_cp)
        scan = _scan_rows(session, office, last_cp, batch) if office is not None else _RowScan()
    lines = list(problems)
    if walk.bad_id is not None:
        lines.insert(0, f"Audit trail broken at entry {walk.bad_id}: {walk.problem}")
    lines.extend(scan.problems)
    if lines:
        return VerifyResult(False, walk.checked, walk.bad_id, walk.problem or lines[0], tuple(lines), scan.checked)
    note = None
    if checkpoint and office is not None:
        note = _write_checkpoint(db, office, ident, walk.checked, walk.last_hash, scan.tables, scan.unsealed,
                                 first=last_cp is None)
    return VerifyResult(True, walk.checked, rows=scan.checked, checkpoint=note)


def _write_checkpoint(db: Database, office: OfficeSeal, ident: str, last_id: int, last_hash: str,
                      tables: dict[str, list[int]], unsealed: dict[str, list[int]], *, first: bool) -> str:
    """Append a checkpoint; the first one for a database also seals what was written before the key."""
    adopted = 0
    if first:
        with db.write_session() as s:
            head = s.get(AuditHead, 1)
            if head is not None and head.mac is None and head.last_id == last_id:
                head.key_id = office.key_id()
                head.mac = office.head_mac(head.last_id, head.last_hash)
            for model in SEALED:
                ids = unsealed.get(cast(Table, model.__table__).name)
                if ids:
                    adopted += seal_unsealed(s, model, cast(Table, model.__table__).c.id.in_(ids)) \
                        if len(ids) <= 500 else seal_unsealed(s, model)
            s.commit()
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    office.write_checkpoint(Checkpoint(ident, at, last_id, last_hash, tables))
    text = f"Checkpoint written to {office.checkpoint_file}: entry {last_id} ({last_hash[:12]}…)."
    if first:
        text += (" This is the database's first checkpoint: the trail and the rows written before the audit key "
                 f"existed ({adopted:,} rows sealed now) are anchored as they are today.")
    return text


@dataclass(frozen=True)
class CheckpointResult:
    ok: bool
    line: str


def checkpoint(db: Database) -> CheckpointResult:
    """The daily run's checkpoint: quick checks only (the head's signature, the last checkpoint's entry,
    row counts not fallen), then a new signed line; the full check is `verify-audit`'s. Refused, with
    the reason, if something is off: the run's report then says to run verify-audit."""
    office = seal_of_db(db)
    if office is None:
        return CheckpointResult(False, "Audit checkpoint: no audit key attached.")
    ident = db_ident(db)
    checkpoints, problems = office.checkpoints(ident)
    last_cp = checkpoints[-1] if checkpoints else None
    if last_cp is None:
        result = verify(db)  # the first: a full verification, which seals older rows and anchors them
        first = result.message().splitlines()
        return CheckpointResult(result.ok, "Audit checkpoint: " + (first[-1] if result.ok else
                                f"refused: {first[0]} Run verify-audit."))
    with db.reading() as session:
        head = session.get(AuditHead, 1)
        walk = _Walk(checked=head.last_id if head is not None else 0,
                     last_hash=head.last_hash if head is not None else GENESIS)
        anchored = session.get(AuditEntry, last_cp.last_id) if last_cp.last_id else None
        if last_cp.last_id and (anchored is None or anchored.hash != last_cp.last_hash):
            walk.fail(last_cp.last_id, f"it differs from the checkpoint of {last_cp.at}")
        elif head is not None and head.last_id >= last_cp.last_id:
            last = session.get(AuditEntry, head.last_id) if head.last_id else None
            if head.last_id and (last is None or last.hash != head.last_hash):
                walk.fail(head.last_id, "the chain head does not match its entry")
        _check_head_seal(walk, head, office, last_cp)
        tables: dict[str, list[int]] = {}
        for model in SEALED:
            tbl = cast(Table, model.__table__)
            max_id, count = session.execute(select(func.max(tbl.c.id), func.count())).one()
            tables[tbl.name] = [int(max_id or 0), int(count)]
            anchor = last_cp.tables.get(tbl.name)
            if anchor is not None:
                below = session.scalar(select(func.count()).where(tbl.c.id <= anchor[0]))
                if int(below or 0) < anchor[1]:
                    problems.append(f"{LABELS[tbl.name]} rows deleted since the checkpoint of {last_cp.at}")
    if walk.bad_id is not None:
        problems.insert(0, f"entry {walk.bad_id}: {walk.problem}")
    if problems:
        return CheckpointResult(False, f"Audit checkpoint refused: {problems[0]}. Run verify-audit.")
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    office.write_checkpoint(Checkpoint(ident, at, walk.checked, walk.last_hash, tables))
    return CheckpointResult(True, f"Audit checkpoint: entry {walk.checked} ({walk.last_hash[:12]}…) written to "
                                  f"{office.checkpoint_file}.")


def _check_head_seal(walk: _Walk, head: AuditHead | None, office: OfficeSeal, last_cp: Checkpoint | None) -> None:
    if walk.bad_id is not None:
        return
    if head is None:
        if last_cp is not None and last_cp.last_id:
            walk.fail(1, "the chain head is missing")
    elif head.last_id < (last_cp.last_id if last_cp else 0):
        walk.fail(head.last_id + 1, "entries after the chain head were removed")
    elif head.mac is None or not hmac.compare_digest(head.mac, office.head_mac(head.last_id, head.last_hash)):
        walk.fail(head.last_id, "the chain head is not signed by the office key")


def history(session: Session, entity_type: str, entity_id: str | int) -> list[AuditEntry]:
    return list(
        session.execute(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        ).scalars()
    )
