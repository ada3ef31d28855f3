"""Batch rendering of notice runs: one PDF per batch, written atomically, optionally over processes.

A batch is one PDF with one page per notice (in the order given), ready for the mail office's printer.
Photos are embedded once per file name, so the same photo drawn twice costs nothing. The file is written
under a temporary name in the destination folder and renamed only when complete: a cancelled or failed
batch leaves no file behind (and no half-written one).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from reports.data import NoticeData
from reports.notices import notice_class_for

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


class BatchCancelled(Exception):
    """The batch was cancelled; no output file was written."""


@dataclass(frozen=True)
class BatchResult:
    """What one batch produced."""

    path: Path | None  # None when cancelled
    notices: int
    pages: int
    bytes_written: int
    seconds: float
    cancelled: bool = False
    citation_numbers: tuple[str, ...] = field(default=(), repr=False)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def render_batch(notices: Iterable[NoticeData], out_path: str | os.PathLike[str],
                 progress: Progress | None = None, cancel: Cancel | None = None) -> BatchResult:
    """Render `notices` into one PDF at `out_path` (one page per notice, in order).

    `progress(done, total)` is called after each notice (total is 0 when `notices` has no length);
    `cancel()` is polled before each notice: when it returns True the temporary file is removed and a
    BatchResult with `cancelled=True` and `path=None` is returned. Errors in a notice propagate after the
    temporary file is removed.
    """
    items = list(notices) if not isinstance(notices, Sequence) else notices
    total = len(items)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    pages = 0
    numbers: list[str] = []
    try:
        canvas: Canvas | None = None
        for i, notice in enumerate(items):
            if cancel is not None and cancel():
                raise BatchCancelled()
            doc = notice_class_for(notice)(notice)
            if canvas is None:
                canvas = doc.new_canvas(tmp)
                canvas.setTitle(f"Notice batch {out.stem}")
            pages += doc.draw(canvas)
            numbers.append(notice.facts.citation_number)
            if progress is not None:
                progress(i + 1, total)
        if canvas is None:
            raise ValueError("a notice batch needs at least one notice")
        canvas.save()
        os.replace(tmp, out)
    except BatchCancelled:
        _remove(tmp)
        return BatchResult(None, len(numbers), pages, 0, time.perf_counter() - started, cancelled=True)
    except BaseException:
        _remove(tmp)
        raise
    return BatchResult(out, len(numbers), pages, out.stat().st_size, time.perf_counter() - started,
                       citation_numbers=tuple(numbers))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _render_one(args: tuple[list[NoticeData], str]) -> BatchResult:
    notices, path = args
    return render_batch(notices, path)


def render_batches_parallel(notices: Sequence[NoticeData], out_dir: str | os.PathLike[str], batch_size: int = 500,
                            prefix: str = "notices", workers: int | None = None,
                            progress: Progress | None = None, cancel: Cancel | None = None) -> list[BatchResult]:
    """Split `notices` into batches of `batch_size` and render them on a process pool, one PDF each.

    Files are named `{prefix}-0001.pdf`, ... in notice order. `progress(done_notices, total)` is called as
    batches finish; `cancel()` is polled between batches: pending batches are dropped, and batches
    already written stay (each is complete on its own). Returns the results in batch order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chunks = [list(notices[i:i + batch_size]) for i in range(0, len(notices), batch_size)]
    jobs = [(chunk, str(out / f"{prefix}-{n + 1:04d}.pdf")) for n, chunk in enumerate(chunks)]
    results: list[BatchResult | None] = [None] * len(jobs)
    done = 0
    with ProcessPoolExecutor(max_workers=workers or min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        futures = {pool.submit(_render_one, job): n for n, job in enumerate(jobs)}
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            n = futures[fut]
            results[n] = fut.result()
            done += len(jobs[n][0])
            if progress is not None:
                progress(done, len(notices))
            if cancel is not None and cancel():
                for other in futures:
                    other.cancel()
                break
    return [r for r in results if r is not None]
