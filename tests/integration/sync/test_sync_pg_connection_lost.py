"""A sync whose PostgreSQL session is ended under it (``pg_terminate_backend`` from a second connection, what
a server restart does to every session too), on the real server at 127.0.0.1:5432.

The kill happens at a point reached through a hook (after a batch's rows are written, before its commit; or
inside the review checks' transaction), never after a sleep. Once, the batch (or the checks) is applied
again on a new connection and the sync finishes; twice in the same batch, the sync stops with one sentence,
keeps the batches committed before, saved nothing of the batch in progress, and the next sync resumes:
nothing half-written, nothing duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

import desktop.services.sync.ingest as ingest_module
from desktop.demo.simulator import FieldSimulator
from desktop.persistence.models import Citation, FieldEvent, SyncEndpoint
from desktop.services.core import audit
from desktop.services.core.context import AppContext, UnitOfWork
from desktop.services.sync.run import DatabaseConnectionLost
from tests.helpers.ingest_helpers import endpoint_for, sync

Factory = Callable[..., FieldSimulator]


def _terminate(session: Any, admin_url: str) -> None:
    """End this session's server process from a second connection, as an administrator (or a restart) would."""
    pid = session.connection().exec_driver_sql("select pg_backend_pid()").scalar()
    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        assert conn.execute("select pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def _kill_batches(monkeypatch: pytest.MonkeyPatch, admin_url: str, calls: set[int]) -> list[int]:
    """Kill the session of the ingest transactions numbered ``calls`` (1-based) once their rows are written."""
    original = ingest_module.Ingestor._apply
    seen: list[int] = []

    def apply(self: Any, uow: UnitOfWork, *args: Any, **kwargs: Any) -> Any:
        state = original(self, uow, *args, **kwargs)
        seen.append(len(seen) + 1)
        if seen[-1] in calls:
            _terminate(uow.session, admin_url)
        return state

    monkeypatch.setattr(ingest_module.Ingestor, "_apply", apply)
    return seen


def _state(app: AppContext) -> dict[str, Any]:
    with app.db.reading() as s:
        numbers = list(s.scalars(select(Citation.citation_number)))
        return {
            "citations": len(numbers), "distinct": len(set(numbers)),
            "events": s.scalar(select(func.count()).select_from(FieldEvent)),
            "distinct_events": s.scalar(select(func.count(func.distinct(FieldEvent.event_id)))),
            "unchecked": s.scalar(select(func.count()).select_from(Citation).where(
                Citation.status == "pending_review", Citation.warning_count == 0)),
            "cursor": s.scalar(select(SyncEndpoint.cursor)),
        }


def test_a_batch_whose_session_is_killed_is_applied_again(pg_app: AppContext, pg_url: str,
                                                          simulator_factory: Factory,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=60, photos_per_citation=0)
    applied = _kill_batches(monkeypatch, pg_url, {3})
    summary = sync(pg_app, sim, page_limit=20, push=False)
    assert len(applied) > 4  # the third transaction ran twice
    state = _state(pg_app)
    assert state["citations"] == state["distinct"] == 60 == summary.stats.citations
    assert state["events"] == state["distinct_events"] == len(sim.all_events)
    assert state["unchecked"] == 0  # every citation in the queue has its warnings (no photos: at least one)
    assert audit.verify(pg_app.db).ok


def test_a_batch_killed_twice_stops_the_sync_in_one_sentence_and_the_next_sync_resumes(
        pg_app: AppContext, pg_url: str, simulator_factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=60, photos_per_citation=0)
    _kill_batches(monkeypatch, pg_url, {3, 4})  # the third batch and its second try
    with pytest.raises(DatabaseConnectionLost) as caught:
        sync(pg_app, sim, page_limit=20, push=False)
    message = str(caught.value)
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert "connection to the database was lost" in message and "sync again" in message
    kept = _state(pg_app)
    # the two batches before are whole (their citations checked), nothing of the third
    with pg_app.db.reading() as s:
        stored = set(s.scalars(select(FieldEvent.event_id)))
    first_two = [e["event_id"] for e in sim.all_events[:40]]
    assert stored == set(first_two)
    assert kept["citations"] == kept["distinct"] and kept["unchecked"] == 0
    assert kept["cursor"] == sim.cursor_for(40)  # (the cursor after the 40th event)
    assert audit.verify(pg_app.db).ok
    with pg_app.db.reading() as s:
        result = s.scalar(select(SyncEndpoint.last_result).where(SyncEndpoint.id == endpoint_for(pg_app, sim)))
    assert result is not None and result.startswith("failed: The connection to the database was lost")

    monkeypatch.undo()
    summary = sync(pg_app, sim, page_limit=20, push=False)
    state = _state(pg_app)
    assert state["citations"] == state["distinct"] == 60
    assert state["events"] == state["distinct_events"] == len(sim.all_events)
    assert summary.stats.events == len(sim.all_events) - 40
    assert state["unchecked"] == 0
    assert audit.verify(pg_app.db).ok


def test_review_checks_whose_session_is_killed_run_again(pg_app: AppContext, pg_url: str,
                                                         simulator_factory: Factory,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=60, photos_per_citation=0)
    original = ingest_module.check_new_citations
    calls: list[int] = []

    def check(session: Any, *args: Any, **kwargs: Any) -> Any:
        counts = original(session, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            _terminate(session, pg_url)  # the warnings are written, not committed
        return counts

    monkeypatch.setattr(ingest_module, "check_new_citations", check)
    sync(pg_app, sim, page_limit=20, push=False)
    assert len(calls) > 3
    state = _state(pg_app)
    assert state["citations"] == state["distinct"] == 60 and state["unchecked"] == 0


def test_every_session_killed_mid_sync_with_the_checks_on_their_helper(pg_app: AppContext, pg_url: str,
                                                                       simulator_factory: Factory,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """As a server restart: every session of the database ended during the third batch, the review checks'
    helper's too. The batch is applied again (with the checks' results it had written); the helper reconnects
    (or, had its batch failed, the sync checks that batch itself): nothing duplicated, every citation in the
    queue checked, the audit chain whole."""
    from desktop.services.sync import checks_process

    made: list[Any] = []
    original_init = checks_process.ChecksProcess.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(checks_process.ChecksProcess, "__init__", spy)
    original = ingest_module.Ingestor._apply
    seen: list[int] = []
    database = pg_url.rsplit("/", 1)[1]

    def apply(self: Any, uow: UnitOfWork, *args: Any, **kwargs: Any) -> Any:
        state = original(self, uow, *args, **kwargs)
        seen.append(len(seen) + 1)
        if len(seen) == 3:
            with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
                ended = conn.execute("select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity "
                                     "where datname = %s and pid <> pg_backend_pid()", (database,)).fetchone()
                assert ended is not None and ended[0] >= 2  # the sync's session and the helper's
        return state

    monkeypatch.setattr(ingest_module.Ingestor, "_apply", apply)
    sim = simulator_factory(citations=60, photos_per_citation=0)
    summary = sync(pg_app, sim, page_limit=20, push=False, checks_process_from=0)
    assert len(made) == 1 and len(seen) > 4  # the third transaction ran twice
    state = _state(pg_app)
    assert state["citations"] == state["distinct"] == 60 == summary.stats.citations
    assert state["events"] == state["distinct_events"] == len(sim.all_events)
    assert state["unchecked"] == 0
    assert audit.verify(pg_app.db).ok
