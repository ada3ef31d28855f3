"""Changes seen everywhere (issue 16, point 6), between workstations: PostgreSQL LISTEN/NOTIFY on the real
server (a change committed on one connection heard by another's listener within a second, nothing for a
rollback, reconnection after the connection drops) and SQLite's PRAGMA data_version poll."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from desktop.domain.roles import Role
from desktop.persistence.models import Citation
from desktop.services.cases.holds import place_supervisor_hold
from desktop.services.core.changes import CHANNEL, ORIGIN, ChangeListener, ChangeNote
from desktop.services.core.context import AppContext
from tests.conftest import FixedClock, make_app, seed_users
from tests.helpers.factories import add_citation


class Heard:
    """A listener on its own thread, and what it heard."""

    def __init__(self, app: AppContext, origin: str = "another-desk") -> None:
        self.notes: queue.Queue[ChangeNote] = queue.Queue()
        self.states: list[str] = []
        self.listener = ChangeListener(app.db, self.notes.put, poll_seconds=0.2, origin=origin,
                                       on_state=self.states.append)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.listener.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def wait_connected(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.listener.connected:
            assert time.monotonic() < deadline, "the listener did not connect"
            self.stop.wait(0.01)

    def next(self, timeout: float) -> ChangeNote:
        return self.notes.get(timeout=timeout)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.fixture
def heard_pg(pg_app: AppContext) -> Iterator[Heard]:
    h = Heard(pg_app)
    h.wait_connected()
    yield h
    h.close()


@pytest.mark.postgres
def test_a_hold_on_one_workstation_is_heard_by_another_within_a_second(
        pg_app: AppContext, pg_url: str, tmp_path: Path, clock: FixedClock, heard_pg: Heard) -> None:
    actors = seed_users(pg_app)
    cid = add_citation(pg_app, number="PG-1")
    while not heard_pg.notes.empty():  # the set-up's own writes
        heard_pg.notes.get()
    other_desk = make_app(pg_url, tmp_path, clock, migrate=False)  # its own engine and connections, same office
    try:
        place_supervisor_hold(other_desk, actors[Role.SUPERVISOR], cid, "audit")
        committed = time.monotonic()
        note = heard_pg.next(timeout=1.0)  # waits on the queue: within a second or the test fails
        assert time.monotonic() - committed < 1.0
    finally:
        other_desk.db.dispose()
    assert "cases" in note.areas and note.citation_ids == frozenset({cid})


@pytest.mark.postgres
def test_nothing_is_heard_for_a_rollback_and_own_notes_are_left_out(pg_app: AppContext, pg_url: str) -> None:
    mine = Heard(pg_app, origin="")  # every note, own process's included
    mine.wait_connected()
    theirs_only = Heard(pg_app)  # another origin than this process's: hears this process's notes
    own = Heard(pg_app, origin=ORIGIN)
    try:
        theirs_only.wait_connected()
        own.wait_connected()
        with pg_app.db.write_session() as s:
            s.execute(text("UPDATE citations SET on_hold = on_hold"))
            s.rollback()
        cid = add_citation(pg_app, number="PG-2")
        note = theirs_only.next(timeout=2.0)
        assert note.citation_ids == frozenset({cid})  # the first note is the commit's, not the rollback's
        assert mine.next(timeout=2.0).citation_ids == frozenset({cid})
        with pytest.raises(queue.Empty):
            own.notes.get(timeout=0.5)  # a process does not hear itself: its bus already told its screens
    finally:
        for h in (mine, theirs_only, own):
            h.close()


@pytest.mark.postgres
def test_the_listener_reconnects_when_its_connection_drops(pg_app: AppContext, pg_url: str,
                                                           heard_pg: Heard) -> None:
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        killed = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE query LIKE %s AND pid <> pg_backend_pid()", (f"LISTEN {CHANNEL}%",)).fetchall()
    assert killed and all(k[0] for k in killed)
    resync = heard_pg.next(timeout=10.0)  # back after the first backoff: "anything may have changed"
    assert resync.citation_ids is None and "cases" in resync.areas
    assert any("Lost the connection" in s for s in heard_pg.states)
    cid = add_citation(pg_app, number="PG-3")
    assert heard_pg.next(timeout=2.0).citation_ids == frozenset({cid})


def test_sqlite_another_programs_change_is_seen_on_the_next_poll(app: AppContext) -> None:
    heard = Heard(app)
    try:
        heard.wait_connected()
        path = app.db.url.database
        assert path
        with sqlite3.connect(path) as other:  # another program writing to the same file
            other.execute("CREATE TABLE another_programs_table (x INTEGER)")
        note = heard.next(timeout=2.0)
        assert note.citation_ids is None and {"cases", "payments", "appeals"} <= note.areas
    finally:
        heard.close()


def test_payload_round_trip_and_limits() -> None:
    note = ChangeNote(frozenset({"cases"}), frozenset({3, 1}), frozenset(), "abc")
    assert ChangeNote.from_payload(note.payload()) == note
    assert len(ChangeNote(frozenset({"cases"}), frozenset(range(10**9, 10**9 + 400))).payload()) < 8000
    assert ChangeNote.from_payload("not json").citation_ids is None


def test_what_a_transaction_touched_is_collected(app: AppContext) -> None:
    """Objects flushed give their case ids; a bulk statement (the daily run's UPDATE) flags any case."""
    from desktop.services.core import changes

    cid = add_citation(app, number="COL-1")
    with app.db.write_session() as s:
        case = s.get(Citation, cid)
        assert case is not None
        case.on_hold = True
        s.flush()
        note = s.info[changes._KEY].note()
        assert note.citation_ids == frozenset({cid}) and {"cases", "review"} <= note.areas
        s.execute(text("UPDATE citations SET stage = stage WHERE status = 'open'"))
        assert s.info[changes._KEY].note().citation_ids is None
        s.rollback()
    with app.db.write_session() as s:
        s.execute(text("SELECT id FROM citations"))
        assert changes._KEY not in s.info  # a read touches nothing


@pytest.mark.postgres
def test_a_change_flushed_only_by_the_commit_is_heard(pg_app: AppContext, heard_pg: Heard) -> None:
    cid = add_citation(pg_app, number="PG-4")
    heard_pg.next(timeout=2.0)  # the set-up's insert
    with pg_app.db.write_session() as s:
        case = s.get(Citation, cid)
        assert case is not None
        case.stage = "delinquent_notice"  # no flush before commit: the commit's own flush writes it
        s.commit()
    assert heard_pg.next(timeout=2.0).citation_ids == frozenset({cid})


def test_sqlite_another_desks_change_is_heard_with_its_cases_and_own_changes_are_not(app: AppContext) -> None:
    """Through the change log: another Curbdesk's write is reported with its case ids; this process's own
    writes are left out (its screens heard them from the operation bus already)."""
    theirs = Heard(app)  # listens as another desk: this process's writes are "theirs" to it
    own = Heard(app, origin=ORIGIN)
    try:
        theirs.wait_connected()
        own.wait_connected()
        cid = add_citation(app, number="SQ-1")
        note = theirs.next(timeout=2.0)
        assert note.citation_ids == frozenset({cid}) and "cases" in note.areas
        path = app.db.url.database
        assert path
        with sqlite3.connect(path) as conn:
            newest = conn.execute("SELECT MAX(id) FROM change_log").fetchone()[0]
        deadline = time.monotonic() + 5
        while (own.listener.last_logged or 0) < newest:  # own has read our entry (and told nothing)
            assert time.monotonic() < deadline
            own.stop.wait(0.01)
        with sqlite3.connect(path) as other:  # then a program that keeps no log
            other.execute("CREATE TABLE another_programs_table (x INTEGER)")
        first = own.next(timeout=2.0)
        assert first.citation_ids is None  # the program's change; our own insert was left out
    finally:
        theirs.close()
        own.close()
