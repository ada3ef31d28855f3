"""A sync's helper processes: started (spawned), stopped, and their spool folders (``decoder`` and the review
checks' ``checks_process`` use them). The standard library only: a helper's process imports this module with
its target's, and nothing here should make it import the sync's other modules.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["STALE_SPOOL_SECONDS", "start_helper", "stop_helper"]

_SPOOLS = "curbdesk-"
STALE_SPOOL_SECONDS = 24 * 3600


def start_helper(target: Callable[..., None], name: str, args: tuple[Any, ...], spool_parent: Path | None,
                 prefix: str) -> tuple[Connection, multiprocessing.process.BaseProcess, str]:
    """A sync's helper process, spawned (a fresh interpreter, never a fork of the application's threads) as
    ``target(pipe, *args, spool)``, with its end of the pipe and a spool folder of its own under
    ``spool_parent`` (the folders a day old, left by a killed sync, are removed first)."""
    ctx = multiprocessing.get_context("spawn")
    parent = Path(spool_parent) if spool_parent is not None else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_spools(parent)
    spool = tempfile.mkdtemp(prefix=prefix, dir=parent)
    conn, child = ctx.Pipe()
    process = ctx.Process(target=target, name=name, daemon=True, args=(child, *args, spool))
    try:
        process.start()
    except BaseException:
        shutil.rmtree(spool, ignore_errors=True)
        raise
    child.close()
    return conn, process, spool


def stop_helper(conn: Connection, process: multiprocessing.process.BaseProcess, spool: str, *,
                at_once: bool) -> None:
    """End a helper: at once (terminated), or asked to stop and given 5 s to finish what it is doing; killed
    if still there. Its pipe is closed and its spool folder removed."""
    if at_once:
        if process.is_alive():
            process.terminate()
    else:
        try:
            conn.send(("stop",))
        except Exception:  # noqa: BLE001 - it has ended already
            pass
    process.join(timeout=5)
    if process.is_alive():
        process.kill()
        process.join(timeout=5)
    conn.close()
    shutil.rmtree(spool, ignore_errors=True)


def _remove_stale_spools(parent: Path) -> None:
    """Spool folders a day old: left by a sync whose process was killed (a running sync's is younger)."""
    now = time.time()
    for folder in parent.glob(_SPOOLS + "*"):
        try:
            if now - folder.stat().st_mtime > STALE_SPOOL_SECONDS:
                shutil.rmtree(folder)
        except OSError:  # another user's, or gone already
            continue
