"""Changes seen everywhere (issue 16, point 6): which cases and areas a committed transaction changed,
told to the other workstations.

**Collecting.** Every write session collects what its flushes touch (``after_flush``: citations, their
ledger, holds, notices, notes, appeals, hearings, payments, refunds) and what its bulk statements touch
(``do_orm_execute``: an ``UPDATE citations ...`` of the daily run names no ids, so its area is flagged
with "any case"). Nothing is sent for a rolled-back transaction.

**Sending (SQLite).** Just before the commit the session adds one row to ``change_log`` (origin and the
same JSON as below), for every transaction that wrote anything, even one touching no area; the oldest
rows are pruned as new ones come (``KEEP_ENTRIES``).

**Sending (PostgreSQL).** Just before the commit the session runs ``SELECT pg_notify('curbdesk_changes',
payload)``: NOTIFY is transactional, so the other workstations hear it when, and only if, the
transaction commits (https://www.postgresql.org/docs/current/sql-notify.html). The payload is JSON:
``{"o": origin, "a": [areas], "c": [citation ids] | null, "p": [appeal ids] | null}``, null meaning
"not known, any"; more than ``MAX_IDS`` ids are sent as null, which keeps the payload far below
PostgreSQL's 8000-byte limit. ``origin`` tells a process its own notes (its screens already heard them
from the in-app operation bus).

**Listening.** `ChangeListener.run` is a blocking loop for a worker (the GUI runs it on the task
engine): on PostgreSQL its own connection, in autocommit, ``LISTEN curbdesk_changes``, waiting on the
socket at most ``poll_seconds`` at a time; when the connection drops it reconnects with a backoff
(1, 2, 4 … 30 s) and then reports one "anything may have changed" note, since notes sent while it was
away are lost. On SQLite there is no NOTIFY: it reads ``PRAGMA data_version`` every ``poll_seconds``,
which changes when another connection (another process, or this one's other connections) committed
(https://www.sqlite.org/pragma.html#pragma_data_version), and then the ``change_log`` rows after the last
one it saw: those of another origin are reported with their cases and areas, this process's own are left
out (its screens heard them from the bus), and a change that left no row (a program that keeps no log,
or rows pruned before they were read) is reported as "anything may have changed".
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import ORMExecuteState, Session

from desktop.persistence.db import Database
from desktop.persistence.models import (
    Appeal,
    CaseNote,
    ChangeLogEntry,
    Citation,
    CitationWarnings,
    Hearing,
    Hold,
    LedgerEntry,
    Notice,
    Payment,
    Refund,
)

log = logging.getLogger(__name__)

CHANNEL = "curbdesk_changes"
#: this process, so that its listener can recognise its own notes
ORIGIN = uuid.uuid4().hex[:12]
#: more ids than this are sent as "any" (keeps a note small: PostgreSQL refuses payloads over 8000 bytes)
MAX_IDS = 400
AREAS = ("cases", "payments", "appeals", "notices", "review")
#: SQLite's change log keeps the newest entries only (a poller behind by more hears "anything changed")
KEEP_ENTRIES = 5000
PRUNE_EVERY = 500

_KEY = "curbdesk.changes"


@dataclass(frozen=True)
class ChangeNote:
    """What another workstation (or process) changed: the areas, and the ids when known (None: any)."""

    areas: frozenset[str]
    citation_ids: frozenset[int] | None = None
    appeal_ids: frozenset[int] | None = None
    origin: str = ""

    @classmethod
    def anything(cls, origin: str = "") -> ChangeNote:
        return cls(frozenset(AREAS), None, None, origin)

    def payload(self) -> str:
        return json.dumps({"o": self.origin, "a": sorted(self.areas),
                           "c": sorted(self.citation_ids) if self.citation_ids is not None else None,
                           "p": sorted(self.appeal_ids) if self.appeal_ids is not None else None},
                          separators=(",", ":"))

    @classmethod
    def from_payload(cls, data: str) -> ChangeNote:
        """A note as received; an unreadable payload reads as "anything may have changed"."""
        try:
            raw = json.loads(data)
            c, p = raw.get("c"), raw.get("p")
            areas = raw["a"] if isinstance(raw.get("a"), list) else AREAS
            return cls(frozenset(str(a) for a in areas),
                       frozenset(int(i) for i in c) if c is not None else None,
                       frozenset(int(i) for i in p) if p is not None else None, str(raw.get("o") or ""))
        except (ValueError, TypeError, AttributeError):
            return cls.anything()


class _Collected:
    """What one session's transaction has touched so far (``wrote``: it wrote anything at all)."""

    def __init__(self) -> None:
        self.wrote = False
        self.areas: set[str] = set()
        self.citations: set[int] | None = set()
        self.appeals: set[int] | None = set()

    def add(self, areas: Iterable[str], citation_id: int | None = None, appeal_id: int | None = None,
            any_case: bool = False) -> None:
        self.areas.update(areas)
        if any_case:
            self.citations = None
        elif citation_id is not None and self.citations is not None:
            self.citations.add(int(citation_id))
        if appeal_id is not None and self.appeals is not None:
            self.appeals.add(int(appeal_id))

    def note(self) -> ChangeNote | None:
        if not self.areas:
            return None
        cids = None if self.citations is None or len(self.citations) > MAX_IDS else frozenset(self.citations)
        aids = None if self.appeals is None or len(self.appeals) > MAX_IDS else frozenset(self.appeals)
        if "cases" not in self.areas:
            cids = frozenset()
        if "appeals" not in self.areas:
            aids = frozenset()
        return ChangeNote(frozenset(self.areas), cids, aids, ORIGIN)


#: mapped class -> (areas, how to read its case id, how to read its appeal id)
_TRACKED: dict[type, tuple[tuple[str, ...], Callable[[Any], Any], Callable[[Any], Any]]] = {
    Citation: (("cases", "review"), lambda o: o.id, lambda o: None),
    CitationWarnings: (("cases", "review"), lambda o: o.citation_id, lambda o: None),
    LedgerEntry: (("cases", "payments"), lambda o: o.citation_id, lambda o: None),
    Hold: (("cases",), lambda o: o.citation_id, lambda o: None),
    Notice: (("cases", "notices"), lambda o: o.citation_id, lambda o: None),
    CaseNote: (("cases",), lambda o: o.citation_id, lambda o: None),
    Appeal: (("cases", "appeals"), lambda o: o.citation_id, lambda o: o.id),
    Hearing: (("appeals",), lambda o: None, lambda o: o.appeal_id),
    Payment: (("payments",), lambda o: None, lambda o: None),
    Refund: (("payments", "cases"), lambda o: o.citation_id, lambda o: None),
}
#: table -> areas, for statements that name no objects (bulk UPDATE/INSERT of the daily run, the imports)
_TABLES: dict[str, tuple[str, ...]] = {
    "citations": ("cases", "review"), "citation_warnings": ("cases", "review"),
    "ledger_entries": ("cases", "payments"), "holds": ("cases",),
    "notices": ("cases", "notices"), "case_notes": ("cases",), "appeals": ("cases", "appeals"),
    "hearings": ("appeals",), "payments": ("payments",), "refunds": ("payments", "cases"),
}


def _collected(session: Session) -> _Collected:
    found = session.info.get(_KEY)
    if not isinstance(found, _Collected):
        found = _Collected()
        session.info[_KEY] = found
    return found


def _after_flush(session: Session, _ctx: Any) -> None:
    if session.new or session.dirty or session.deleted:
        _collected(session).wrote = True
    for obj in (*session.new, *session.dirty, *session.deleted):
        tracked = _TRACKED.get(type(obj))
        if tracked is None:
            continue
        areas, case_of, appeal_of = tracked
        _collected(session).add(areas, case_of(obj), appeal_of(obj))


_WRITES = re.compile(r"\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def _statement_tables(statement: Any) -> list[str]:
    """The tables a DML statement writes: its ``table`` (Core/ORM DML) or the names after UPDATE / INSERT
    INTO / DELETE FROM (SQL text; a SELECT ... FOR UPDATE names none)."""
    table = getattr(statement, "table", None)
    if table is not None and getattr(table, "name", None):
        return [str(table.name)]
    return [name.lower() for name in _WRITES.findall(str(getattr(statement, "text", "")))]


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if not (state.is_insert or state.is_update or state.is_delete or hasattr(statement, "text")):
        return
    tables = _statement_tables(statement)
    if tables:
        _collected(state.session).wrote = True
    for table in tables:
        areas = _TABLES.get(table)
        if areas:
            _collected(state.session).add(areas, any_case="cases" in areas)


def _before_commit(session: Session) -> None:
    # before_commit runs before the commit's own flush: flush now, so what it writes is collected too
    if session.new or session.dirty or session.deleted:
        session.flush()
    collected = session.info.get(_KEY)
    if not isinstance(collected, _Collected) or not collected.wrote:
        return
    note = collected.note()
    if session.get_bind().dialect.name == "postgresql":
        if note is not None:
            session.execute(text("SELECT pg_notify(:channel, :payload)"),
                            {"channel": CHANNEL, "payload": note.payload()})
        return
    # SQLite: every write leaves an entry, even one touching no area, so that a poller can tell a change
    # of ours (or of another Curbdesk) from one by a program that writes none
    if not _has_log(session):
        return  # a schema older than the log (``db upgrade`` signs in and backs up before migrating)
    payload = (note or ChangeNote(frozenset(), frozenset(), frozenset(), ORIGIN)).payload()
    # the DB-API directly: this runs on every write transaction (a third of the ORM insert's cost)
    cursor = session.connection().exec_driver_sql(
        "INSERT INTO change_log (at, origin, payload) VALUES (?, ?, ?) RETURNING id",
        (datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), ORIGIN, payload))
    new_id = int(cursor.scalar_one())
    if new_id % PRUNE_EVERY == 0:
        session.connection().exec_driver_sql("DELETE FROM change_log WHERE id <= ?", (new_id - KEEP_ENTRIES,))


#: databases (by URL) known to have the change log; one without it is asked again on each write (only while
#: an older schema waits for ``db upgrade``)
_HAS_LOG: set[str] = set()


def _has_log(session: Session) -> bool:
    key = str(session.connection().engine.url)
    if key not in _HAS_LOG:
        if not inspect(session.connection()).has_table(ChangeLogEntry.__tablename__):
            return False
        _HAS_LOG.add(key)
    return True


def _forget(session: Session, *_a: Any) -> None:
    session.info.pop(_KEY, None)


_LISTENERS = (("after_flush", _after_flush), ("do_orm_execute", _on_execute), ("before_commit", _before_commit),
              ("after_commit", _forget), ("after_rollback", _forget))


def install() -> None:
    """Collect and send changes from every session (done once, by every `AppContext`)."""
    for name, fn in _LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


# ---------------------------------------------------------------------- listening


Report = Callable[[ChangeNote], None]


class ChangeListener:
    """Hears other workstations' changes and hands each to ``report`` (on the listener's thread).

    ``connected`` says whether it is listening now (False while a dropped connection is retried);
    ``on_state(text)`` is told when that changes. Notes of this process (``origin``) are left out.
    """

    def __init__(self, db: Database, report: Report, *, poll_seconds: float = 1.0, origin: str = ORIGIN,
                 on_state: Callable[[str], None] | None = None) -> None:
        self.db = db
        self.report = report
        self.poll_seconds = poll_seconds
        self.origin = origin
        self.on_state = on_state
        self.connected = False
        #: SQLite: the last change_log entry read (None: the database has no log)
        self.last_logged: int | None = None

    def _state(self, connected: bool, text_: str) -> None:
        if connected != self.connected:
            self.connected = connected
            if self.on_state is not None:
                self.on_state(text_)

    def run(self, stop: threading.Event) -> None:
        """Listen until ``stop`` is set (looked at at least every ``poll_seconds``)."""
        if self.db.dialect == "postgresql":
            self._run_postgres(stop)
        else:
            self._run_sqlite(stop)

    # ------------------------------------------------------------ PostgreSQL
    def _libpq_url(self) -> str:
        return self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _run_postgres(self, stop: threading.Event) -> None:
        import psycopg  # lazy: only a PostgreSQL office listens; psycopg costs 86 ms at start-up

        backoff = 1.0
        first = True
        while not stop.is_set():
            try:
                with psycopg.connect(self._libpq_url(), autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._state(True, "Listening for other workstations' changes.")
                    if not first:
                        self.report(ChangeNote.anything())  # what was sent while away is lost
                    first = False
                    backoff = 1.0
                    while not stop.is_set():
                        for n in conn.notifies(timeout=self.poll_seconds):
                            note = ChangeNote.from_payload(n.payload)
                            if note.origin != self.origin:
                                self.report(note)
                            if stop.is_set():
                                break
            except psycopg.Error as exc:
                first = False
                self._state(False, f"Lost the connection for other workstations' changes ({type(exc).__name__}); "
                                   "trying again.")
                log.info("change listener: %s; reconnecting in %.0f s", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    # ------------------------------------------------------------ SQLite
    def _run_sqlite(self, stop: threading.Event) -> None:
        path = self.db.url.database
        if not path or path == ":memory:":
            return  # nobody else can write to it
        conn = sqlite3.connect(path, timeout=5, check_same_thread=False)
        try:
            seen = conn.execute("PRAGMA data_version").fetchone()[0]
            self.last_logged = self._last_logged(conn)
            self._state(True, "Watching the database file for other programs' changes.")
            while not stop.wait(self.poll_seconds):
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != seen:
                    seen = now
                    self.last_logged = self._read_log(conn, self.last_logged)
        finally:
            conn.close()

    @staticmethod
    def _last_logged(conn: sqlite3.Connection) -> int | None:
        try:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM change_log").fetchone()[0])
        except sqlite3.OperationalError:
            return None  # a database without the log (older schema): every change is "anything"

    def _read_log(self, conn: sqlite3.Connection, last: int | None) -> int | None:
        """The entries after ``last``: each of another origin told; none at all means a program that keeps
        no log (or a gap: pruned before this poll saw them) changed the file, told as "anything"."""
        if last is None:
            self.report(ChangeNote.anything())
            return self._last_logged(conn)
        rows = conn.execute("SELECT id, origin, payload FROM change_log WHERE id > ? ORDER BY id", (last,)).fetchall()
        if not rows or (last and rows[0][0] > last + 1):
            self.report(ChangeNote.anything())
        for _id, origin, payload in rows:
            note = ChangeNote.from_payload(payload)
            if origin != self.origin and note.areas:
                self.report(note)
        return int(rows[-1][0]) if rows else last


__all__ = ["AREAS", "CHANNEL", "ChangeListener", "ChangeNote", "MAX_IDS", "ORIGIN", "install"]
