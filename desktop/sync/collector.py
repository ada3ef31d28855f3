"""Python's cyclic garbage collector held off while a batch of events is decoded or stored.

Both sides of a sync make hundreds of thousands of short-lived objects per batch: the transport when
it decodes or unpickles a run of pages (:mod:`desktop.sync.pages`), the ingest when it checks and stores
them (:mod:`desktop.services.sync.ingest`). Shared here, below both.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pause_lock = threading.Lock()
_pauses = 0  # threads inside collector_paused()
_disabled_here = False  # whether the first of them turned the collector off (so the last turns it on again)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic collector held off while a batch is read, checked or stored, and left as it was after.

    A batch allocates hundreds of thousands of objects (decoded events, models, rows) that form no cycles,
    yet they set off the automatic collector again and again, each time over the whole heap (about a
    quarter of an ingest's time). Collection resumes when the last thread inside is done (at once if the
    counts say so), so what a batch leaves behind is collected as before; where collection is already off
    (the app runs it from the GUI thread, :class:`desktop.ui.common.tasks.MainThreadGC`) nothing changes."""
    global _pauses, _disabled_here
    with _pause_lock:
        if _pauses == 0:
            _disabled_here = gc.isenabled()
            if _disabled_here:
                gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _disabled_here:
                gc.enable()
                _disabled_here = False

