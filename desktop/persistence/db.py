"""Engines and sessions: SQLite (WAL, foreign keys, immediate write locks) or PostgreSQL."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, String, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlalchemy.orm import Mapper, Session, sessionmaker

from desktop.domain.errors import UserError
from desktop.domain.text import text_problem
from desktop.persistence.connections import explain_connection_error, profile_from_url

log = logging.getLogger(__name__)


#: the WAL size (pages) at which a connection checkpoints in the foreground, as a safety net only: the
#: :class:`Checkpointer` normally keeps the WAL far smaller (SQLite's own default is 1,000 pages)
FOREGROUND_CHECKPOINT_PAGES = 20_000


class Checkpointer:
    """Copies the write-ahead log back into the database file on a thread of its own.

    SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, so that one
    commit (a clerk's click, or a page of a sync) pays for copying every page written since, with an
    fsync of the database file. Here a commit only nudges this thread, which runs a passive checkpoint
    (it never waits for readers or writers, and never blocks them) on its own connection, at most once per
    ``interval`` seconds; sqlite3 lets go of the interpreter lock while it works, so it uses a core the
    application is not using. Connections keep an automatic checkpoint only as a safety net
    (:data:`FOREGROUND_CHECKPOINT_PAGES`), should this thread fall far behind.
    """

    def __init__(self, path: str, interval: float = 0.25, idle: float = 10.0) -> None:
        self.path = path
        self.interval = interval
        self.idle = idle
        self.runs = 0
        #: set after each checkpoint (a test clears it, commits, and waits for it)
        self.checkpointed = threading.Event()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """Some commit is adding to the WAL: checkpoint once an interval has passed (by then it has landed)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            log.warning("background checkpoints are off: cannot open %s", self.path, exc_info=True)
            return
        try:
            while True:
                if not self._wake.wait(self.idle):
                    with self._lock:  # idle: let the connection go (a nudge starts a new thread)
                        if not self._wake.is_set():
                            self._thread = None
                            return
                if self._stopping.wait(self.interval):
                    return
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.runs += 1
                    self.checkpointed.set()
                except sqlite3.Error:  # e.g. the file went away under a test; the next nudge tries again
                    log.debug("background checkpoint failed", exc_info=True)
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be running)."""
        with self._lock:
            self._stopping.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join()


def json_text(value: Any) -> str:
    """A JSON column's value as stored: compact JSON written by orjson (several times faster than the
    standard encoder, which every bulk insert would otherwise spend much of its time in). What orjson does
    not take (integers wider than 64 bits, keys that are not text) is written by the standard encoder.
    Nothing compares this text: a column is always read back through the decoder."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_value(text: str | bytes) -> Any:
    """A JSON column's text read back (orjson, or the standard decoder for what only it reads: the NaN and
    Infinity the standard encoder once wrote)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_setup(engine: Engine, checkpointer: Checkpointer | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's 'begin' event emit BEGIN itself (pysqlite's own handling is broken).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            if checkpointer is not None:
                cur.execute(f"PRAGMA wal_autocheckpoint={FOREGROUND_CHECKPOINT_PAGES}")
        # Temporary tables and sorts in memory, not in temp files: the daily escalation's work tables hold
        # up to a million case ids (a few dozen MB). Settable only before the first temporary table.
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front so two writers never deadlock on an upgrade.
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    if checkpointer is not None:
        @event.listens_for(engine, "commit")
        def _on_commit(_conn: Any) -> None:
            checkpointer.nudge()  # runs after an interval, by when this commit has landed


_TEXT_COLUMNS: dict[Mapper[Any], tuple[tuple[str, int, str], ...]] = {}


def _text_columns(mapper: Mapper[Any]) -> tuple[tuple[str, int, str], ...]:
    """(attribute, width, label) of each text column of a mapped class, worked out once."""
    found = _TEXT_COLUMNS.get(mapper)
    if found is None:
        noun = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in mapper.class_.__name__).strip()
        found = tuple((attr.key, int(col.type.length), f"The {noun}'s {attr.key.replace('_', ' ')}")
                      for attr in mapper.column_attrs for col in attr.columns[:1]
                      if isinstance(col.type, String) and col.type.length)
        _TEXT_COLUMNS[mapper] = found
    return found


def refuse_unstorable_text(session: Session, _context: Any, _instances: Any) -> None:
    """Before every flush: no text the ORM is about to write holds a NUL character or is wider than its
    column, on either database (PostgreSQL would raise a raw DataError; SQLite would store what PostgreSQL
    cannot hold). The forms and importers check first with a sentence of their own
    (``desktop.domain.text.clean_text``); this is the net under everything else that writes through the ORM."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        values = state.dict
        for key, width, label in _text_columns(state.mapper):
            value = values.get(key)
            if isinstance(value, str):
                problem = text_problem(value, width)
                if problem is not None:
                    raise UserError(f"{label} {problem}; nothing was saved.")


#: PostgreSQL connections one workstation keeps open (idle) and the most it opens at once: the GUI thread,
#: the task engine's four workers and a command-line job never need more than six. Twenty workstations keep
#: 40 idle connections (plus each one's change listener: 60) and open at most 140 at their busiest, which
#: is why an office of twenty sets the server's ``max_connections`` to 150 (README, "Sharing one database").
POOL_SIZE = 2
POOL_OVERFLOW = 4
#: how long a click waits for a free connection of its own workstation before it is told so
POOL_WAIT_SECONDS = 10
#: per statement, what a clerk's click may take at most / how long it waits for a row another job locked.
#: Long jobs (the daily run, imports, exports, upgrades, the demo) lift both for their own transaction
#: (:func:`long_job`). https://www.postgresql.org/docs/15/runtime-config-client.html
STATEMENT_TIMEOUT_MS = 30_000
LOCK_TIMEOUT_MS = 5_000
#: a workstation that leaves a transaction open (a debugger, a crash) lets go of its locks after 5 minutes
IDLE_IN_TRANSACTION_MS = 300_000
SESSION_OPTIONS = (f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} "
                   f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}")
#: a long job's lock wait: it waits for clerks' short transactions, never for ever
LONG_JOB_LOCK_TIMEOUT_MS = 600_000


def long_job(session: Session) -> None:
    """Lift the per-statement limit of a clerk's click for the rest of ``session``'s transaction (the daily
    run, imports, exports, upgrades: statements that may rightly run minutes at city size), and let it wait
    up to 10 minutes for a row lock (clerks hold theirs for milliseconds). PostgreSQL only; ``SET LOCAL``,
    so the pooled connection is back to the click's limits after the commit or rollback."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT set_config('statement_timeout', '0', true), "
                         "set_config('lock_timeout', :lock, true)"), {"lock": f"{LONG_JOB_LOCK_TIMEOUT_MS}ms"})


class Database:
    """One database: its engine, a session factory for reads and one for writes."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise UserError(f"'{url}' is not a database URL (expected e.g. sqlite:///file or postgresql+psycopg://...).") from exc
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_text, "json_deserializer": json_value}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        elif self.dialect == "postgresql":
            kwargs.update(pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                          pool_timeout=POOL_WAIT_SECONDS, pool_recycle=1800)
            connect_args: dict[str, Any] = {}
            if "connect_timeout" not in parsed.query:  # a host that drops packets answers in 10 s, not minutes
                connect_args["connect_timeout"] = 10
            if "options" not in parsed.query:  # a URL's own ?options=... wins (e.g. behind a pooler that refuses them)
                connect_args["options"] = SESSION_OPTIONS
            kwargs["connect_args"] = connect_args
        try:
            self.engine = create_engine(parsed, **kwargs)
        except NoSuchModuleError as exc:
            raise UserError(f"Unknown database kind '{parsed.drivername}': use sqlite:///FILE or "
                            "postgresql+psycopg://USER@HOST/DATABASE.") from exc
        self.checkpointer: Checkpointer | None = None
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                self.checkpointer = Checkpointer(parsed.database)
            _sqlite_setup(self.engine, self.checkpointer)
            write_engine: Engine = self.engine.execution_options(sqlite_immediate=True)
        else:
            write_engine = self.engine
        #: copied into every session's ``info`` (the services attach the office's audit seal here)
        self.session_info: dict[str, Any] = {}
        self._read = sessionmaker(self.engine, expire_on_commit=False, info=self.session_info)
        self._write = sessionmaker(write_engine, expire_on_commit=False, info=self.session_info)
        for factory in (self._read, self._write):
            event.listen(factory, "before_flush", refuse_unstorable_text)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def display_name(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def read_session(self) -> Session:
        return self._read()

    def write_session(self) -> Session:
        return self._write()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short read-only session (rolled back at the end)."""
        session = self._read()
        try:
            yield session
        finally:
            session.close()

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            detail = " ".join(str(exc.orig).split())
            if self.dialect == "postgresql":
                profile = profile_from_url(self.url.render_as_string(hide_password=False))
                sentence = explain_connection_error(detail, profile)
                if sentence:
                    raise UserError(sentence) from exc
            raise UserError(f"Cannot reach the database {self.display_name()}: {detail}") from exc

    def check_rights(self) -> None:
        """Whether this database user may read Curbdesk's tables (a user the server lets in without rights on
        them is told so in one sentence, before any screen or command fails on its first query)."""
        if self.dialect != "postgresql":
            return
        try:
            with self.engine.connect() as conn:
                if inspect(conn).has_table("users"):
                    conn.execute(text("SELECT 1 FROM users LIMIT 1"))
        except ProgrammingError as exc:
            detail = " ".join(str(exc.orig).split())
            profile = profile_from_url(self.url.render_as_string(hide_password=False))
            raise UserError(explain_connection_error(detail, profile)
                            or f"The database {self.display_name()} refused: {detail[:200]}") from exc

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()
