"""The office's audit seal: an HMAC key kept outside the database, and what it signs.

Someone with only the database can edit any row, and recompute the audit chain's SHA-256 hashes
(the digest has no secret). The key closes that: it signs

* the audit chain's head (``audit_head.mac`` over the last id and hash): re-chaining, truncating or
  emptying the trail leaves a head the key did not sign;
* the facts that matter, each row on its own (``row_mac``): a citation's number, issue time, plate,
  state, violation and fine; a ledger entry's case, kind, amount, dates, payment and reversal; a
  payment's source, method, bank identifier, amount and dates; a user's name, role, active flag and
  password hash. Every write through the application re-signs the row (mapper events for the ORM, one
  call for the bulk ingest and the escalation's penalties); a changed value no longer matches;
* checkpoints: lines appended to a file beside the key (``audit-checkpoints.log``) recording the head
  and, per sealed table, the highest id and the row count, each line signed. A head found behind the
  last checkpoint, a different hash at a checkpointed id, or fewer rows than a checkpoint counted, is
  tampering that the database alone cannot hide.

The key is 32 random bytes in hex, created with 0600 permissions on first use (see
:attr:`desktop.paths.AppPaths.audit_key_file`); it is never written to the database. Only its id (an
HMAC of a fixed text) is, so a desk pointed at the wrong key is told so instead of sealing rows
nobody else can check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from desktop.domain.errors import UserError
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.models import Base, Citation, LedgerEntry, Payment, User

_INFO_KEY = "office_seal"
#: the session info key of the database's identity in the checkpoint file
DB_IDENT_KEY = "office_seal_db"

#: the sealed tables, the columns each row's MAC covers (after its id), and how a finding names a row
SEALED: dict[type[Base], tuple[str, ...]] = {
    Citation: ("citation_number", "issued_at", "plate", "jurisdiction", "violation_code", "fine_cents"),
    LedgerEntry: ("citation_id", "kind", "amount_cents", "at", "effective_date", "payment_id", "reverses_id"),
    Payment: ("source", "method", "external_id", "amount_cents", "received_at", "value_date"),
    User: ("username", "role", "active", "password_hash"),
}
LABELS: dict[str, str] = {"citations": "citation", "ledger_entries": "ledger entry", "payments": "payment",
                          "users": "user"}


_quote = json.encoder.encode_basestring  # JSON text as the C encoder writes it (ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


@dataclass(frozen=True)
class Checkpoint:
    """One signed line of the checkpoint file."""

    db: str
    at: str
    last_id: int
    last_hash: str
    #: table name -> [highest id, row count] when the checkpoint was taken
    tables: dict[str, list[int]] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"v": 1, "db": self.db, "at": self.at, "id": self.last_id, "hash": self.last_hash,
                "count": self.last_id, "tables": self.tables}


class OfficeSeal:
    """The key file and the checkpoint file of one office (one per data folder, or the shared one)."""

    def __init__(self, key_file: Path, checkpoint_file: Path) -> None:
        self.key_file = key_file
        self.checkpoint_file = checkpoint_file
        self._key: bytes | None = None
        self._anchored: set[str] = set()
        self._states: tuple[Any, Any] | None = None

    # ------------------------------------------------------------------ the key

    def key(self) -> bytes:
        """The key, read once; created (0600, never overwritten) if there is none yet."""
        if self._key is None:
            path = self.key_file
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                # written whole under a private name, then linked into place: another desk starting at the
                # same moment either wins (and we read its key) or finds ours complete, never half-written
                tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    with os.fdopen(fd, "w", encoding="ascii") as f:
                        f.write(secrets.token_hex(32) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
                    try:
                        os.link(tmp, path)
                    except FileExistsError:
                        pass  # another process made it first: read theirs
                    except OSError:  # a share without hard links: exclusive create, same outcome
                        _create_exclusive(path, tmp.read_bytes())
                finally:
                    tmp.unlink(missing_ok=True)
            try:
                text = path.read_text(encoding="ascii").strip()
                key = bytes.fromhex(text)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise UserError(f"The audit key {path} cannot be read ({exc}); restore it from the office's "
                                "safe copy.") from exc
            if len(key) < 32:
                raise UserError(f"The audit key {path} is damaged (too short); restore it from the office's "
                                "safe copy.")
            self._key = key
        return self._key

    def key_id(self) -> str:
        return self.mac("curbdesk audit key id")[:16]

    def mac(self, text: str) -> str:
        return self._hmac(text.encode("utf-8"))

    def head_mac(self, last_id: int, last_hash: str) -> str:
        return self.mac(f"audit head|{last_id}|{last_hash}")

    def row_mac(self, table: str, row_id: int, values: Iterable[Any]) -> str:
        """HMAC-SHA256 of the table, the id and the values, each as JSON (text quoted and escaped by the C
        encoder, datetimes as quoted UTC ISO text, dates ISO), separated by 0x1F: about 2 µs a row."""
        parts = [table, str(row_id)]
        for v in values:
            kind = type(v)
            if kind is str:
                parts.append(_quote(v))
            elif kind is bool or v is None:
                parts.append("true" if v is True else "false" if v is False else "null")
            elif kind is int:
                parts.append(int.__repr__(v))
            else:
                parts.append(_quote(str(_plain(v))))
        return self._hmac("\x1f".join(parts).encode("utf-8"))

    def _hmac(self, message: bytes) -> str:
        """HMAC-SHA256 from the key's precomputed inner and outer states (hmac.digest rebuilds them for every
        message: 2.5 times slower); the same bytes as ``hmac.new(key, message, sha256).hexdigest()``."""
        if self._states is None:
            key = self.key()
            block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
            self._states = (hashlib.sha256(bytes(b ^ 0x36 for b in block)),
                            hashlib.sha256(bytes(b ^ 0x5C for b in block)))
        inner, outer = self._states[0].copy(), self._states[1].copy()
        inner.update(message)
        outer.update(inner.digest())
        return outer.hexdigest()

    def mac_of(self, obj: Base) -> str:
        table = obj.__table__.name  # type: ignore[attr-defined]
        return self.row_mac(table, obj.id, (getattr(obj, f) for f in SEALED[type(obj)]))  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ checkpoints

    def checkpoints(self, db_ident: str) -> tuple[list[Checkpoint], list[str]]:
        """This database's checkpoints in file order, and a line for every line the key did not sign."""
        found: list[Checkpoint] = []
        problems: list[str] = []
        try:
            text = self.checkpoint_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return found, problems
        except OSError as exc:
            return found, [f"the checkpoint file {self.checkpoint_file} cannot be read ({exc})"]
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                mac = raw.pop("mac")
                body = json.dumps(raw, sort_keys=True, separators=(",", ":"))
                ok = hmac.compare_digest(str(mac), self.mac("checkpoint|" + body))
            except (ValueError, KeyError, TypeError, AttributeError):
                ok, raw = False, {}
            if not ok:
                problems.append(f"line {number} of {self.checkpoint_file.name} is not signed by the office key "
                                "(the checkpoint file was edited)")
                continue
            if raw.get("db") == db_ident:
                found.append(Checkpoint(raw["db"], raw["at"], int(raw["id"]), raw["hash"],
                                        {k: [int(x) for x in v] for k, v in raw["tables"].items()}))
        return found, problems

    def anchored(self, db_ident: str) -> bool:
        """Whether the database has a checkpoint (once it has, it keeps it: cached for the process)."""
        if db_ident not in self._anchored:
            found, _ = self.checkpoints(db_ident)
            if not found:
                return False
            self._anchored.add(db_ident)
        return True

    def write_checkpoint(self, cp: Checkpoint) -> None:
        body = json.dumps(cp.body(), sort_keys=True, separators=(",", ":"))
        line = json.dumps({**cp.body(), "mac": self.mac("checkpoint|" + body)}, sort_keys=True,
                          separators=(",", ":")) + "\n"
        self.checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.checkpoint_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))  # one write of one line: appends never interleave
            os.fsync(fd)
        finally:
            os.close(fd)
        self._anchored.add(cp.db)


def _create_exclusive(path: Path, content: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


def db_ident(db: Database) -> str:
    """Which database a checkpoint belongs to (its URL without password: one data folder may serve several)."""
    return hashlib.sha256(db.display_name().encode("utf-8")).hexdigest()[:16]


def attach(db: Database, paths: AppPaths) -> OfficeSeal:
    """Make `paths`' key the seal of every session `db` opens (done by every AppContext)."""
    current = db.session_info.get(_INFO_KEY)
    key_file = paths.audit_key_file
    if isinstance(current, OfficeSeal) and current.key_file == key_file:
        return current
    seal = OfficeSeal(key_file, paths.audit_checkpoint_file)
    db.session_info[_INFO_KEY] = seal
    db.session_info[DB_IDENT_KEY] = db_ident(db)
    return seal


def seal_of(session: Session | None) -> OfficeSeal | None:
    if session is None:
        return None
    found = session.info.get(_INFO_KEY)
    return found if isinstance(found, OfficeSeal) else None


def seal_of_db(db: Database) -> OfficeSeal | None:
    found = db.session_info.get(_INFO_KEY)
    return found if isinstance(found, OfficeSeal) else None


# ---------------------------------------------------------------------- sealing on write


def seal_row_dicts(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Set ``row_mac`` on rows about to be bulk-inserted (they carry their ids)."""
    seal = seal_of(session)
    if seal is None or not rows:
        return
    table = model.__table__.name  # type: ignore[attr-defined]
    fields = SEALED[model]
    row_mac = seal.row_mac
    for row in rows:
        row["row_mac"] = row_mac(table, row["id"], [row.get(f) for f in fields])


#: rows ``seal_unsealed`` reads, seals and writes at a time
SEAL_CHUNK = 20_000


def seal_unsealed(session: Session, model: type[Base], *where: Any) -> int:
    """Seal the rows an INSERT ... SELECT has just written (``row_mac`` NULL, matching `where`), in the
    same transaction; the write lock is held, so nothing else can slip in between.

    In chunks of ``SEAL_CHUNK`` rows: the ids of the rows to seal are read first (one pass, as before), then
    each chunk's columns by its id range, so memory holds one chunk, not a whole table's rows. The first audit
    checkpoint of an office whose rows were written before its key (a migration) adopts all of them: 2.8
    million rows at a million citations, 222 s on PostgreSQL (229 s holding each table at once; the process's
    peak, 288 MB both ways, is the verification's around it)."""
    seal = seal_of(session)
    if seal is None:
        return 0
    tbl = cast(Table, model.__table__)
    fields = SEALED[model]
    cols = [tbl.c.id, *(tbl.c[f] for f in fields)]
    cond = [tbl.c.row_mac.is_(None), *where]
    ids = sorted(session.scalars(select(tbl.c.id).where(*cond)))
    stmt = update(tbl).where(tbl.c.id == bindparam("b_id")).values(row_mac=bindparam("b_mac"))
    done = 0
    for start in range(0, len(ids), SEAL_CHUNK):
        # the chunk is a run of the sorted ids: its id range holds exactly these rows of the condition
        lo, hi = ids[start], ids[min(start + SEAL_CHUNK, len(ids)) - 1]
        rows = session.execute(select(*cols).where(*cond, tbl.c.id >= lo, tbl.c.id <= hi)).all()
        if rows:
            session.connection().execute(
                stmt, [{"b_id": r[0], "b_mac": seal.row_mac(tbl.name, r[0], r[1:])} for r in rows])
            done += len(rows)
    return done


def _before_insert(_mapper: Mapper[Any], _conn: Connection, target: Any) -> None:
    seal = seal_of(object_session(target))
    if seal is not None and target.id is not None:
        target.row_mac = seal.mac_of(target)


_PENDING = "office_seal_pending"


def _after_insert(_mapper: Mapper[Any], _conn: Connection, target: Any) -> None:
    """A row whose id the database chose: its seal is computed now and written, with the flush's others,
    by one executemany UPDATE per table after the flush (`_after_flush`)."""
    if target.row_mac is not None:
        return
    session = object_session(target)
    seal = seal_of(session)
    if seal is None or session is None:
        return
    mac = seal.mac_of(target)
    set_committed_value(target, "row_mac", mac)
    session.info.setdefault(_PENDING, []).append((target.__table__, target.id, mac))


def _after_flush(session: Session, _context: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for tbl, row_id, mac in pending:
        by_table.setdefault(tbl, []).append({"b_id": row_id, "b_mac": mac})
    conn = session.connection()
    for tbl, params in by_table.items():
        conn.execute(update(tbl).where(tbl.c.id == bindparam("b_id")).values(row_mac=bindparam("b_mac")), params)


def _before_update(_mapper: Mapper[Any], _conn: Connection, target: Any) -> None:
    """Re-seal a row whose sealed columns change, but only if its seal matched the values it had: a row
    changed outside Curbdesk keeps its broken seal through later edits (so verify still names it)."""
    fields = SEALED[type(target)]
    state = inspect(target)
    old: list[Any] = []
    changed = False
    for f in fields:
        hist = state.attrs[f].history
        if hist.deleted:
            changed = True
            old.append(hist.deleted[0])
        elif hist.unchanged:
            old.append(hist.unchanged[0])
        else:
            if hist.added:
                changed = True
            old.append(getattr(target, f))
    if not changed or target.row_mac is None:
        return
    seal = seal_of(object_session(target))
    if seal is None:
        return
    if hmac.compare_digest(target.row_mac, seal.row_mac(target.__table__.name, target.id, old)):
        target.row_mac = seal.mac_of(target)


event.listen(Session, "after_flush", _after_flush)
for _model in SEALED:
    event.listen(_model, "before_insert", _before_insert)
    event.listen(_model, "after_insert", _after_insert)
    event.listen(_model, "before_update", _before_update)
