"""The review checks of a large sync's committed batches, computed on a helper process of their own.

A sync commits a batch, then the review checks read that batch's citations, the reference data and the
nearby citations and compute their warnings (:func:`~desktop.services.review.checks.check_new_citations`).
Run in line, they take as long as storing the batch did, and the next batch waits for them. Here they are
computed on a spawned process while the application stores the next batch, and give the same warnings:

- **The same database the in-line checks read.** The helper opens a read transaction (``REPEATABLE READ``
  on PostgreSQL; a WAL read snapshot on SQLite) and says so (``snap``) before it computes; the application
  commits the next batch only once the helper has its snapshot of the one before. So the checks of batch N
  read the database as it was right after batch N's commit, not a later batch's citations.
- **Written by the application, in order.** The helper only computes (:func:`compute_new_citation_checks`);
  its results come back as plain values and the application writes them (versioned updates,
  :func:`write_check_results`) at the start of its next batch's transaction, or at the end of the sync.
- **A void or amendment of a citation whose checks are still on their way waits for them.** In line, the
  warnings were written before any later event changed the citation (an amendment keeps them and adds its
  own); so once the next batch's new citations are stored, and before its voids and amendments read theirs,
  the application waits for those results and writes them first (in the feed of a fleet, most batches void
  or amend a citation of the batch before: the wait comes after most of the batch's own work).

Nothing is lost if the helper cannot start, fails or dies: the batches whose results did not come back
are checked in line (their citations are committed already; the checks only add warnings), and so is
every batch after.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from desktop.persistence.db import Database
from desktop.services.review.check_writes import CheckResults, write_check_results
from desktop.services.review.checks import compute_new_citation_checks
from desktop.sync.helpers import start_helper, stop_helper

log = logging.getLogger(__name__)

_READY = "ready"
_SPOOL_PREFIX = "curbdesk-checks-"


@dataclass
class Batch:
    """One committed batch's new citations, as the ingest inserted them (what the in-line checks are given)."""

    rows: list[dict[str, Any]]
    violations: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    reread: list[int]
    #: the citation numbers of every citation the batch created (``rows`` and ``reread``)
    numbers: frozenset[str]


@dataclass
class _Sent:
    batch: Batch
    snapshot: bool = False
    results: CheckResults | None = None


def _serve(conn: Connection, url: str, evidence_dir: str | None, spool: str) -> None:
    """The helper process: for each ``("batch", n, path)`` it opens a read snapshot, says ``("snap", n)``,
    computes the checks and answers ``("result", n, path)`` (or ``("error", n, text)``); EOF or anything
    else ends it."""
    gc.disable()  # a batch's objects go as soon as it is answered; a collection after each suffices
    db = Database(url)
    gc.freeze()  # the modules' objects: never collected, never looked at again
    postgres = db.dialect == "postgresql"
    evidence = Path(evidence_dir) if evidence_dir else None
    conn.send((_READY,))
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message[0] != "batch":
                return
            _, n, path = message
            try:
                with open(path, "rb") as f:
                    batch: Batch = pickle.load(f)
                os.unlink(path)
                session = db.read_session()
                try:
                    if postgres:  # one snapshot for every statement of the checks
                        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                    session.execute(text("SELECT 1 FROM citations WHERE id = 0"))  # the snapshot is taken here
                    conn.send(("snap", n))
                    results = compute_new_citation_checks(session, batch.rows, batch.violations, batch.photos,
                                                          evidence_dir=evidence, reread=batch.reread)
                finally:
                    session.close()
                out = os.path.join(spool, f"result-{n}")
                with open(out, "wb") as f:
                    pickle.dump(results, f, pickle.HIGHEST_PROTOCOL)
                reply: tuple[Any, ...] = ("result", n, out)
            except Exception as exc:  # noqa: BLE001 - the application checks this batch itself
                log.exception("review checks of batch %d failed on the helper process", n)
                reply = ("error", n, f"{type(exc).__name__}: {exc}")
            conn.send(reply)
            del reply
            # what the batch left is collected; what survives (caches, the pool) is frozen, so the next
            # collection looks at the next batch's objects only, not again at every module's (75 ms each)
            gc.collect()
            gc.freeze()
    finally:
        db.dispose()


class ChecksProcess:
    """The review checks of one sync's batches on a helper process (see the module's text).

    The ingest calls :meth:`before_batch` before a batch's transaction, :meth:`begin` at its start,
    :meth:`before_changes` before its voids and amendments, :meth:`before_commit` before its commit,
    :meth:`committed` after it, and :meth:`submit` with the new citations once committed. The sync calls
    :meth:`finish` at its end, also when it failed or was cancelled (the batches committed before are checked).
    A helper that waits on nothing but its own reads cannot hang the sync: a statement of its session is held
    to the click's statement timeout on PostgreSQL and fails, and that batch is then checked here."""

    def __init__(self, url: str, evidence_dir: Path | None, spool_parent: Path,
                 run_inline: Callable[[Batch], None]) -> None:
        self._conn, self._process, self._spool = start_helper(
            _serve, "curbdesk-sync-checks", (url, str(evidence_dir) if evidence_dir else None), spool_parent,
            _SPOOL_PREFIX)
        self._run_inline = run_inline
        self._broken = False
        self._next = 0
        #: batches sent, in order, until their results are written and committed
        self._sent: dict[int, _Sent] = {}
        #: results written in the transaction in progress (dropped from ``_sent`` once it commits)
        self._writing: list[int] = []
        #: batches to check in this process, at the next moment outside a transaction
        self._due: list[Batch] = []
        self.inline_batches = 0
        self.helper_batches = 0

    # ------------------------------------------------------------------ the ingest's hooks

    def submit(self, batch: Batch) -> None:
        """Have a committed batch's citations checked."""
        self._next += 1
        n = self._next
        if self._broken:
            self._inline(batch)
            return
        self._sent[n] = _Sent(batch)
        try:
            path = os.path.join(self._spool, f"batch-{n}")
            with open(path, "wb") as f:
                pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
            self._conn.send(("batch", n, path))
        except Exception:  # noqa: BLE001 - checked here instead
            self._fail("could not hand a batch to the checks' helper process")

    def before_batch(self) -> None:
        """Before a batch's transaction: batches the helper could not check are checked here now (outside any
        transaction: on SQLite the ingest's holds the write lock)."""
        self._receive(until=None)  # (also finds out whether it has died)
        self._inline_due()

    #: read the answers waiting at each batch (False, for tests: only when they must be had, the longest lag)
    receive_eagerly = True

    def begin(self, session: Session) -> None:
        """At the start of a batch's transaction: write the results that have come back (in batch order)."""
        self._writing = []
        if self.receive_eagerly:
            self._receive(until=None)
        self._write_ready(session)

    def before_changes(self, numbers: Iterable[str], session: Session) -> None:
        """Inside the transaction, before the batch's voids and amendments (``numbers``) read their citations:
        those whose checks are still on their way are waited for and written first, as in line. (Only the
        helper's snapshot is needed meanwhile, and it holds none of the ingest's locks.)"""
        wanted = set(numbers)
        if not wanted or not any(s.results is None and s.batch.numbers & wanted for s in self._sent.values()):
            return
        self._receive(until=lambda: all(s.results is not None for s in self._sent.values()
                                        if s.batch.numbers & wanted))
        self._write_ready(session)

    def _write_ready(self, session: Session) -> None:
        for n, sent in sorted(self._sent.items()):
            if sent.results is None:
                break
            if n not in self._writing:
                write_check_results(session, sent.results)
                self._writing.append(n)

    def before_commit(self) -> None:
        """Before a batch commits: the helper must hold its snapshot of every batch sent before."""
        self._receive(until=lambda: all(s.snapshot for s in self._sent.values()))

    def committed(self) -> None:
        """The transaction that wrote the results of :meth:`begin` and :meth:`before_changes` committed."""
        for n in self._writing:
            self._sent.pop(n, None)
        self._writing = []

    def finish(self, write: Callable[[Callable[[Session], None]], None]) -> None:
        """Wait for every result and write them (``write(fn)`` runs ``fn(session)`` in a transaction of its
        own and commits it), then stop the helper."""
        try:
            self._receive(until=lambda: all(s.results is not None for s in self._sent.values()))
            self._inline_due()
            if self._sent:
                write(self.begin)
                self.committed()
        finally:
            self.close()

    # ------------------------------------------------------------------ the helper's answers

    def _receive(self, until: Callable[[], bool] | None) -> None:
        """Read the helper's answers: those waiting (``until`` None), or until ``until()`` holds."""
        while not self._broken:
            if until is not None and until():
                return
            try:
                if until is None and not self._conn.poll():
                    return
                while not self._conn.poll(0.5):
                    if not self._process.is_alive() and not self._conn.poll():
                        raise EOFError("the checks' helper process ended")
                reply = self._conn.recv()
                if reply == (_READY,):
                    continue
                kind, n = reply[0], reply[1]
                sent = self._sent.get(n)
                if sent is None:
                    continue
                if kind == "snap":
                    sent.snapshot = True
                elif kind == "result":
                    with open(reply[2], "rb") as f:
                        sent.results = pickle.load(f)
                    os.unlink(reply[2])
                    sent.snapshot = True
                    self.helper_batches += 1
                else:  # its checks failed there: here instead (the citations are committed)
                    log.warning("the checks' helper process failed on a batch (%s); checking it here", reply[2])
                    self._due.append(sent.batch)
                    del self._sent[n]
            except Exception:  # noqa: BLE001 - died, or an answer that cannot be read
                self._fail("the checks' helper process failed")

    def _fail(self, why: str) -> None:
        """Check here every batch whose results did not come back (once outside any transaction: this may be
        called inside the ingest's, which on SQLite holds the write lock); every later batch too."""
        log.warning("%s; the review checks run in this process from now on", why, exc_info=True)
        self._broken = True
        for n, sent in sorted(self._sent.items()):
            if sent.results is None:
                self._due.append(sent.batch)
                del self._sent[n]

    def _inline_due(self) -> None:
        while self._due:
            self._inline(self._due.pop(0))

    def _inline(self, batch: Batch) -> None:
        self.inline_batches += 1
        self._run_inline(batch)

    def close(self) -> None:
        stop_helper(self._conn, self._process, self._spool, at_once=False)

