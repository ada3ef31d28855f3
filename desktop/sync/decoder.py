"""Runs of event pages from a field endpoint, fetched and prepared on a helper process for a large sync.

The ingest has two stages: :func:`~desktop.sync.prepared.prepare` (decode, validate, check, reduce each
event to plain values; no database) and :class:`~desktop.services.sync.ingest.Ingestor` (apply a batch in one
transaction). In one process the two take turns on the interpreter lock. A sync with many events
waiting runs the first stage here, on a process of its own (spawned: a fresh interpreter, never a fork
of the application's threads), so it uses the second core while the application stores the batch
before: the process fetches the next run of pages, prepares its events and sends them back as plain
values (:class:`~desktop.sync.prepared.PreparedEvent`).

Nothing depends on it: the application stores, commits and acknowledges exactly as without it, and
where the process cannot be started, dies, or sends something that cannot be read, the run is simply
fetched again in the application's own process.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from desktop.sync.client import EventPage, FieldClient, FieldEndpointError, SyncCancelled
from desktop.sync.helpers import start_helper, stop_helper
from desktop.sync.prepared import PreparedEvent, prepare

log = logging.getLogger(__name__)

_READY = "ready"


@dataclass
class Run:
    """Consecutive pages of events (up to one transaction's worth), their events prepared."""

    pages: list[EventPage]
    items: list[Any]


def fetch_pages(client: FieldClient, cursor: str | None, limit: int, run: int) -> list[EventPage]:
    """Up to ``run`` pages from ``cursor`` on. An error of the first page is raised; an error further into
    the run ends the run there (the failed page is asked for again as the first page of the next run)."""
    pages: list[EventPage] = []
    while True:
        try:
            page = client.events(cursor, limit)
        except Exception:
            if not pages:
                raise
            log.debug("a page further into a run failed; it is asked for again next", exc_info=True)
            return pages
        pages.append(page)
        if len(pages) >= run or not (page.more and page.next) or page.next == cursor:
            return pages  # (a cursor that does not advance ends the run: the sync says so)
        cursor = page.next


def prepare_run(pages: list[EventPage]) -> Run:
    return Run(pages, [prepare(event) for page in pages for event in page.received()])


def picklable(options: dict[str, Any]) -> bool:
    try:
        pickle.dumps(options)
    except Exception:  # noqa: BLE001 - a lambda, a session...: then the run is fetched here
        return False
    return True


def _serve(conn: Connection, base_url: str, token: str, ca_bundle: str | None, options: dict[str, Any],
           limit: int, run: int, spool: str) -> None:
    """The helper process. Asked for the runs from a cursor on (``("from", stream, cursor, credit)``), it
    sends them one after another, each as soon as it is prepared, as far ahead as its credit allows (each
    ``("more", stream)`` allows one more), until the endpoint has no more or a run fails (the error is
    sent in its place). A new ``from`` starts a new stream; anything else, or the pipe closing, ends it.

    A run (a megabyte or two) is written to a file in ``spool`` (a folder of its own under the application's
    data folder) and only its name goes through the pipe:
    through the pipe itself, 64 KB at a time, each run would hold both processes up while it is read."""
    gc.disable()  # a run's objects are freed as soon as they are sent; a collection after each suffices
    client = FieldClient(base_url, token, ca_bundle=ca_bundle, **options)
    gc.freeze()  # the modules' objects: never collected, never looked at again
    conn.send((_READY,))
    stream, cursor, credit, active, sent = 0, None, 0, False, 0
    try:
        while True:
            if not active or credit <= 0 or conn.poll():
                try:
                    message = conn.recv()
                except EOFError:
                    return
                if message[0] == "from":
                    _, stream, cursor, credit = message
                    active = True
                elif message[0] == "more":
                    credit += 1 if message[1] == stream else 0  # (one of a stream given up: nothing)
                else:
                    return
                continue
            start = cursor
            try:
                pages = fetch_pages(client, cursor, limit, run)
                prepared = prepare_run(pages)
                sent += 1
                path = os.path.join(spool, f"run-{sent}")
                with open(path, "wb") as f:
                    # the pages without their events (those are the prepared items)
                    heads = [EventPage([], page.next, page.more) for page in pages]
                    pickle.dump((heads, [item.plain() for item in prepared.items]), f, pickle.HIGHEST_PROTOCOL)
                reply: tuple[Any, ...] = ("run", stream, start, path)
                del prepared
                last = pages[-1]
                active = bool(last.more and last.next)
                cursor = last.next
            except Exception as exc:  # noqa: BLE001 - the application raises it where it asked
                reply = ("error", stream, start, exc)
                active = False
            try:
                conn.send(reply)
            except Exception as exc:  # noqa: BLE001 - e.g. an error that does not pickle: say it plainly
                conn.send(("error", stream, start, FieldEndpointError(f"{type(exc).__name__}: {exc}")))
                active = False
            credit -= 1
            del reply
            # what the run left is collected and the survivors frozen: the next collection looks at the next
            # run's objects only, not again at every module's
            gc.collect()
            gc.freeze()
    finally:
        client.close()


class Decoder:
    """The helper process of one sync, streaming runs of prepared events ahead of the ingest.

    :meth:`get` gives the run that starts at a cursor: the next one of the current stream when the cursor
    is where that stream has got to, else it starts a new stream there (runs of an older stream still on
    their way are dropped). Until the process has started and said it is ready, :meth:`ready` is False
    and the caller fetches runs itself."""

    AHEAD = 2  # runs prepared ahead of the one being stored

    def __init__(self, base_url: str, token: str, ca_bundle: str | None, options: dict[str, Any], limit: int,
                 run: int, spool_parent: Path | None = None) -> None:
        self._conn, self._process, self._spool = start_helper(
            _serve, "curbdesk-sync-decoder", (base_url, token, ca_bundle, options, limit, run), spool_parent,
            _SPOOL_PREFIX)
        self._ready = False
        self._broken = False
        self._stream = 0
        #: the cursor the current stream's next run starts at (``_NOWHERE``: no stream going on)
        self._next: Any = _NOWHERE

    def ready(self) -> bool:
        """Started and working (never blocks)."""
        if self._broken:
            return False
        if not self._ready:
            try:
                if self._conn.poll():
                    self._ready = self._conn.recv() == (_READY,)
                    self._broken = not self._ready
            except (EOFError, OSError):
                self._broken = True
        return self._ready and not self._broken

    def streaming_from(self, cursor: str | None) -> bool:
        return self._next is not _NOWHERE and self._next == cursor

    def start(self, cursor: str | None) -> None:
        """Have the runs from ``cursor`` on prepared."""
        if not self.streaming_from(cursor):
            self._stream += 1
            self._next = cursor
            try:
                self._conn.send(("from", self._stream, cursor, self.AHEAD))
            except OSError:  # it has ended: get() finds that out and the caller fetches the run itself
                pass

    def get(self, cursor: str | None, cancelled: Callable[[], bool]) -> Run | None:
        """The run from ``cursor``; its error raised as the fetch raised it; None if the process failed
        (the caller then fetches the run itself). Waiting is interrupted by a cancel (``SyncCancelled``)."""
        self.start(cursor)
        try:
            while True:
                while not self._conn.poll(0.2):
                    if cancelled():
                        raise SyncCancelled("Sync was cancelled.")
                    if not self._process.is_alive() and not self._conn.poll():
                        raise EOFError("the helper process ended")
                reply = self._conn.recv()
                if reply[0] == "run" and reply[1] != self._stream:
                    os.unlink(reply[3])  # a run of a stream given up
                if reply[1] == self._stream:
                    break
            if reply[0] == "run":
                run = self._read(reply[3])
        except SyncCancelled:
            self._next = _NOWHERE
            raise
        except Exception:  # noqa: BLE001 - died, or an answer that cannot be read: fetch it here instead
            log.warning("the sync's helper process failed; fetching in this process", exc_info=True)
            self._broken = True
            return None
        if reply[0] == "error":
            self._next = _NOWHERE
            raise reply[3]
        last = run.pages[-1]
        if last.more and last.next:
            self._next = last.next
            try:
                self._conn.send(("more", self._stream))
            except OSError:  # it has ended since it sent this run: the next ones are fetched here
                self._broken = True
        else:
            self._next = _NOWHERE
        return run

    @staticmethod
    def _read(path: str) -> Run:
        with open(path, "rb") as f:
            pages, items = pickle.load(f)
        os.unlink(path)
        rebuild = PreparedEvent.from_plain
        return Run(pages, [rebuild(values) for values in items])

    def close(self) -> None:
        """Stop the process (at once: what it may be preparing is not wanted any more)."""
        stop_helper(self._conn, self._process, self._spool, at_once=True)


_NOWHERE = object()
_SPOOL_PREFIX = "curbdesk-sync-"
#: every helper's spool folder starts so (the decoder's, the review checks')
