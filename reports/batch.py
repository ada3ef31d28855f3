"""Batch rendering of notice runs: one PDF per batch, written atomically, optionally over processes.

A batch is one PDF with one page per notice (in the order given), ready for the mail office's printer.
Photos are embedded once per file name, so the same photo drawn twice costs nothing. The file is written
under a temporary name in the destination folder, flushed to disk, and renamed only when complete: a
cancelled or failed batch leaves no file behind (and no half-written one). The notice run passes a hidden
staging name as the destination and gives the file its final name itself once the batch is recorded.

Letters (`StoryDocument`s: hearing notices, decisions, refunds...) lay out on their own canvas; a letter
batch renders each and joins the pages with pypdf (letters are a few a day, notices thousands).

Worker processes come from a fork server (or are spawned where there is none), never from a fork of the
caller: the notice run is started from a GUI whose threads may hold locks at the moment of a fork.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from reportlab.pdfgen.canvas import Canvas

from reports.base import FONT_BOLD
from reports.data import BatchResult, NoticeData
from reports.ink import MONO
from reports.notices import notice_class_for

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


class BatchCancelled(Exception):
    """The batch was cancelled; no output file was written."""


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
                canvas.setTitle(f"Notice batch {_title(out)}")
            pages += doc.draw(canvas)
            numbers.append(notice.facts.citation_number)
            if progress is not None:
                progress(i + 1, total)
        if canvas is None:
            raise ValueError("a notice batch needs at least one notice")
        canvas.save()
        _fsync(tmp)
        os.replace(tmp, out)
    except BatchCancelled:
        _remove(tmp)
        return BatchResult(None, len(numbers), pages, 0, time.perf_counter() - started, cancelled=True)
    except BaseException:
        _remove(tmp)
        raise
    return BatchResult(out, len(numbers), pages, out.stat().st_size, time.perf_counter() - started,
                       citation_numbers=tuple(numbers))


def _title(out: Path) -> str:
    """The batch's name for the PDF's metadata: the final name's stem, also for a staging name
    (`.<name>.pdf.<host>-<pid>.staged`)."""
    name = out.name.lstrip(".")
    return name.split(".pdf", 1)[0] if ".pdf" in name else out.stem


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _render_one(args: tuple[list[NoticeData], str]) -> BatchResult:
    notices, path = args
    return render_batch(notices, path)


BatchDone = Callable[[int, BatchResult], None]


def _process_context() -> multiprocessing.context.BaseContext:
    """Where worker processes come from: a fork server where there is one (Linux, macOS), else spawn.

    Never a plain fork of the caller (a GUI's threads may hold locks). The fork server is a fresh
    interpreter that imports the document modules once; each pool's workers are forked from it in a few
    milliseconds, where spawning imports ReportLab again in every worker (about a second each).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["reports.batch", "reports.notices"])
        return ctx
    return multiprocessing.get_context("spawn")


def render_jobs_parallel(jobs: Sequence[tuple[list[NoticeData], str]], workers: int | None = None,
                         on_batch: BatchDone | None = None, cancel: Cancel | None = None,
                         poll_seconds: float = 0.2) -> list[BatchResult | None]:
    """Render each (notices, out_path) job into its own PDF on a pool of spawned processes.

    `on_batch(index, result)` is called in this process as each batch completes (in completion order),
    so the caller can record it at once. `cancel()` is polled every `poll_seconds`: batches not started
    are dropped, batches already running finish (each file is complete on its own) and are reported.
    Returns the results in job order, None for dropped jobs.
    """
    results: list[BatchResult | None] = [None] * len(jobs)
    if not jobs:
        return results
    count = max(1, min(len(jobs), workers or os.cpu_count() or 1))
    ctx = _process_context()
    with ProcessPoolExecutor(max_workers=count, mp_context=ctx) as pool:
        futures: dict[Future[BatchResult], int] = {pool.submit(_render_one, job): n for n, job in enumerate(jobs)}
        pending = set(futures)
        cancelled = False
        while pending:
            done, pending = wait(pending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
            for fut in done:
                if fut.cancelled():
                    continue
                n = futures[fut]
                results[n] = fut.result()
                if on_batch is not None:
                    on_batch(n, results[n])  # type: ignore[arg-type]
            if not cancelled and cancel is not None and cancel():
                cancelled = True
                for fut in pending:
                    fut.cancel()
                pending = {f for f in pending if not f.cancelled()}
    return results


def render_batches_parallel(notices: Sequence[NoticeData], out_dir: str | os.PathLike[str], batch_size: int = 500,
                            prefix: str = "notices", workers: int | None = None,
                            progress: Progress | None = None, cancel: Cancel | None = None) -> list[BatchResult]:
    """Split `notices` into batches of `batch_size` and render them on a process pool, one PDF each.

    Files are named `{prefix}-0001.pdf`, ... in notice order. `progress(done_notices, total)` is called as
    batches finish; `cancel()` is polled while they run: pending batches are dropped, and batches
    already written stay (each is complete on its own). Returns the results in batch order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chunks = [list(notices[i:i + batch_size]) for i in range(0, len(notices), batch_size)]
    jobs = [(chunk, str(out / f"{prefix}-{n + 1:04d}.pdf")) for n, chunk in enumerate(chunks)]
    done = [0]

    def finished(n: int, _result: BatchResult) -> None:
        done[0] += len(jobs[n][0])
        if progress is not None:
            progress(done[0], len(notices))

    results = render_jobs_parallel(jobs, workers, finished, cancel)
    return [r for r in results if r is not None]


# ---------------------------------------------------------------- letters


def stamp_reprint(pdf: bytes, text: str = "REPRINT - DUPLICATE OF A LETTER ALREADY MAILED") -> bytes:
    """The same PDF with a reprint mark at the top right of its first page."""
    from pypdf import PdfReader, PdfWriter  # lazy: pypdf costs 66 ms; only stamping and merging need it

    src = PdfReader(io.BytesIO(pdf))
    first = src.pages[0]
    w, h = float(first.mediabox.width), float(first.mediabox.height)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h), invariant=1)
    c.setFillColor(MONO.alert)
    c.setFont(FONT_BOLD, 8)
    c.drawRightString(w - 36, h - 30, text)
    c.save()
    stamp = PdfReader(io.BytesIO(buf.getvalue())).pages[0]
    out = PdfWriter()
    out.append(src)
    out.pages[0].merge_page(stamp)
    result = io.BytesIO()
    out.write(result)
    return result.getvalue()


def render_letter_batch(letters: Sequence[tuple[Any, bool]], out_path: str | os.PathLike[str],
                        progress: Progress | None = None, cancel: Cancel | None = None) -> BatchResult:
    """Render (document, reprint) pairs into one PDF at `out_path`, each letter starting on a new sheet.

    Same contract as `render_batch`: atomic file, `cancelled=True` and no file when `cancel()` answers
    True, errors propagate after the temporary file is removed.
    """
    from pypdf import PdfReader, PdfWriter  # lazy: pypdf costs 66 ms; only stamping and merging need it

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    writer = PdfWriter()
    numbers: list[str] = []
    for i, (doc, reprint) in enumerate(letters):
        if cancel is not None and cancel():
            return BatchResult(None, len(numbers), len(writer.pages), 0, time.perf_counter() - started,
                               cancelled=True)
        pdf = doc.render()
        if reprint:
            pdf = stamp_reprint(pdf)
        writer.append(PdfReader(io.BytesIO(pdf)))
        facts = getattr(doc.data, "facts", None)
        numbers.append(facts.citation_number if facts is not None else getattr(doc.data, "citation_number", ""))
        if progress is not None:
            progress(i + 1, len(letters))
    if not numbers:
        raise ValueError("a letter batch needs at least one letter")
    writer.add_metadata({"/Title": f"Letter batch {_title(out)}", "/Creator": "Curbdesk"})
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer.write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    return BatchResult(out, len(numbers), len(writer.pages), out.stat().st_size, time.perf_counter() - started,
                       citation_numbers=tuple(numbers))
