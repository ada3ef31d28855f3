"""Runs of event pages from a field endpoint, the next run already on its way while one is stored.

The sync use case (:func:`desktop.services.sync.run.sync_now`) asks a :class:`PagePrefetcher` for the
run that starts at its cursor, and has the following one fetched ahead while it commits the current one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from desktop.sync.client import FieldClient
from desktop.sync.collector import collector_paused
from desktop.sync.decoder import Decoder, Run, fetch_pages

log = logging.getLogger(__name__)


class PagePrefetcher:
    """Runs of event pages from the endpoint (up to ``run`` pages, one transaction's worth), the next run
    already requested while the current one is stored.

    By default one helper thread with its own HTTP session fetches them (never two requests at once on
    it). A large sync also has a :class:`~desktop.sync.decoder.Decoder`: once its process is ready it
    fetches the runs and prepares their events as well, on the second core; until then, and if it fails,
    the thread fetches them. An error of the first page of a run fetched ahead comes out when that run is
    asked for, exactly as if it had been fetched then; an error further into a run ends the run there, and
    comes out when the run that starts with that page is asked for.
    """

    def __init__(self, client: FieldClient, limit: int, run: int = 1, decoder: Decoder | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> None:
        self.client = client
        self.limit = limit
        self.run = max(1, run)
        self.decoder = decoder
        self.cancelled = cancelled
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-prefetch")
        #: the cursor asked for ahead, and the thread's future (None: the decoder's stream prepares it)
        self.pending: tuple[str | None, Future[Run] | None] | None = None
        self.decoded_runs = 0

    def prefetch(self, cursor: str | None) -> None:
        self._settle()
        if self.decoder is not None and self.decoder.ready():
            self.decoder.start(cursor)  # (a stream going on is already preparing it)
            self.pending = (cursor, None)
        else:
            self.pending = (cursor, self.pool.submit(self._fetch_run, cursor))

    def get(self, cursor: str | None) -> Run:
        if self.pending is not None and self.pending[0] == cursor and self.pending[1] is not None:
            future = self.pending[1]
            self.pending = None
            return future.result()
        self._settle()
        if self.decoder is not None and self.decoder.ready():
            with collector_paused():  # unpickling a run makes many objects (see there)
                run = self.decoder.get(cursor, self.cancelled)
            if run is not None:
                self.decoded_runs += 1
                return run
            self.decoder.close()
            self.decoder = None  # it failed (logged): fetch here from now on
        return self._fetch_run(cursor)

    def _fetch_run(self, cursor: str | None) -> Run:
        with collector_paused():  # decoding a run's events sets off no collection either (see there)
            pages = fetch_pages(self.client, cursor, self.limit, self.run)
            # prepared by the ingest, in the caller's thread (here they would take turns on the lock)
            return Run(pages, [event for page in pages for event in page.received()])

    def _settle(self) -> None:
        """Let a request still on its way finish (its answer is not wanted any more)."""
        if self.pending is not None:
            future = self.pending[1]
            self.pending = None
            if future is None:
                pass  # the decoder's stream: runs not wanted are dropped by the decoder
            elif not future.cancel():
                try:
                    future.result()
                except BaseException:  # noqa: BLE001 - an unwanted page's error does not matter
                    log.debug("an unused prefetched page failed", exc_info=True)

    def close(self) -> None:
        self._settle()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()
        if self.decoder is not None:
            self.decoder.close()

