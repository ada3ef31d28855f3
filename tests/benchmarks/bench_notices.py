"""Notice batch speed: pages/s with a different photo on every page against photo-less pages, same run.

Run: pytest tests/benchmarks/bench_notices.py --benchmark-only -p no:randomly -s

Four measurements, in the group "notices":
- photo-less pages (the baseline) and pages with a different evidence photo each (print derivatives made
  once beforehand, as the notice run does), rendered by `render_batch` in this process;
- a whole notice run from the database (`run_notices`: read the queue, build each piece from the ledger,
  the profile and the owner's address, take serials, render, record the batch), photos from derivatives;
- the same run on two processes (`mail.parallel_min_pieces` reached), for large runs.

Each reports pages per second of wall time and of this process's CPU time (the development machines are
shared: CPU time is what one process does when it has a core), and bytes per page. Targets from the
notice-run brief, asserted: >= 320 pages/s per process with a different photo per page (CPU time, the
fastest of five alternating batches), <= 150 KB per page, and a photo adding at most 1 ms to a page.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from reports.batch import render_batch
from reports.data import EvidencePhoto, NoticeData, NoticeKind
from reports.photos import make_print_derivative
from reports.samples import sample_notice
from tests.integration.reports.conftest import _make_photo

PAGES = 300
TARGET = 320


@pytest.fixture(scope="module")
def photo_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    src = tmp_path_factory.mktemp("bench-src")
    out = tmp_path_factory.mktemp("bench-print")
    paths = []
    for i in range(PAGES):
        original = src / f"p{i:04d}.jpg"
        _make_photo(original, i)
        paths.append(str(make_print_derivative(original, out / f"p{i:04d}.jpg")))
    return paths


def _notices(photos: list[str] | None) -> list[NoticeData]:
    base = [sample_notice("CA", NoticeKind.VIOLATION, number=i + 1) for i in range(PAGES)]
    if photos is None:
        return base
    return [replace(n, photo=EvidencePhoto(photos[i], "Front")) for i, n in enumerate(base)]


class _Clock:
    """Wraps a function to keep the CPU seconds of each call, next to pytest-benchmark's wall time."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.cpu: list[float] = []

    def __call__(self, *a: Any, **kw: Any) -> Any:
        start = time.process_time()
        try:
            return self.fn(*a, **kw)
        finally:
            self.cpu.append(time.process_time() - start)

    def median(self) -> float:
        values = sorted(self.cpu[1:] or self.cpu)  # the first call warms up
        return values[len(values) // 2]


_measured: dict[str, dict[str, float]] = {}


def _report(benchmark: Any, name: str, pages: int, cpu_seconds: float, bytes_per_page: float) -> dict[str, float]:
    wall = pages / benchmark.stats.stats.median
    cpu = pages / cpu_seconds
    figures = {"pages_per_second_wall": round(wall, 1), "pages_per_second_cpu": round(cpu, 1),
               "bytes_per_page": round(bytes_per_page)}
    benchmark.extra_info.update(figures)
    base = _measured.get("photo-less")
    if base and name != "photo-less":
        benchmark.extra_info["cpu_vs_photoless"] = round(cpu / base["pages_per_second_cpu"], 2)
    _measured[name] = figures
    print(f"\n{name}: {wall:.0f} pages/s wall, {cpu:.0f} pages/s CPU, {bytes_per_page / 1024:.1f} KB/page"
          + (f" ({cpu / base['pages_per_second_cpu']:.0%} of photo-less)" if base and name != "photo-less" else ""))
    return figures


@pytest.mark.benchmark(group="notices")
def test_bench_photoless_pages(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Baseline: the same notices without a photo."""
    clock = _Clock(render_batch)
    result = benchmark.pedantic(clock, args=(_notices(None), tmp_path / "plain.pdf"), rounds=5, iterations=1,
                                warmup_rounds=1)
    _report(benchmark, "photo-less", PAGES, clock.median(), result.bytes_written / result.pages)


@pytest.mark.benchmark(group="notices")
def test_bench_different_photo_every_page(benchmark, tmp_path: Path, photo_paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    clock = _Clock(render_batch)
    result = benchmark.pedantic(clock, args=(_notices(photo_paths), tmp_path / "photos.pdf"), rounds=5,
                                iterations=1, warmup_rounds=1)
    figures = _report(benchmark, "photo per page", PAGES, clock.median(), result.bytes_written / result.pages)
    benchmark.extra_info["target_pages_per_second"] = TARGET
    assert figures["bytes_per_page"] <= 150 * 1024
    # Photos are embedded from print derivatives, raw (useA85 = 0), once per file. Measured on alternating
    # batches, taking the fastest of each (the least disturbed by other work on a shared machine): the
    # target rate with a photo on every page, and what one photo adds to a page (stock ReportLab with
    # ASCII85 spent 90 ms a page on it).
    plain, photos = _notices(None), _notices(photo_paths)
    cpu: dict[str, list[float]] = {"plain": [], "photos": []}
    for _ in range(5):
        for key, notices in (("plain", plain), ("photos", photos)):
            start = time.process_time()
            render_batch(notices, tmp_path / f"{key}.pdf")
            cpu[key].append(time.process_time() - start)
    best_plain, best_photos = min(cpu["plain"]), min(cpu["photos"])
    rate = PAGES / best_photos
    photo_ms = (best_photos - best_plain) / PAGES * 1000
    benchmark.extra_info.update(best_pages_per_second_cpu=round(rate, 1), photo_ms_per_page=round(photo_ms, 3),
                                best_vs_photoless=round(best_plain / best_photos, 2))
    print(f"alternating batches, fastest of 5: photo-less {PAGES / best_plain:.0f} pages/s, photo per page "
          f"{rate:.0f} pages/s CPU; a photo adds {photo_ms:.2f} ms a page")
    assert rate >= TARGET, cpu
    assert photo_ms <= 1.0, cpu


def _office(tmp_path: Path, count: int) -> tuple[Any, Any, list[int]]:
    """A migrated database with `count` queued delinquent notices, each case with its own photo."""
    from datetime import datetime

    from desktop.domain.roles import Role
    from tests.conftest import FixedClock, make_app, seed_users
    from tests.helpers.notice_cases import queue_case

    app = make_app(f"sqlite:///{tmp_path / 'bench.sqlite3'}", tmp_path,
                   FixedClock(datetime(2026, 11, 24, 18, 0, tzinfo=UTC)))
    actors = seed_users(app)
    ids = [queue_case(app)[1] for _ in range(count)]
    return app, actors[Role.MAIL_OFFICE], ids


def _requeue(app: Any, ids: list[int]) -> None:
    from sqlalchemy import delete, update

    from desktop.persistence.models import Notice, NoticeBatch

    with app.db.write_session() as s:
        s.execute(update(Notice).where(Notice.id.in_(ids)).values(status="queued", batch_id=None, serial=None))
        s.execute(delete(NoticeBatch))
        s.commit()


def _measure_runs(benchmark: Any, app: Any, ids: list[int], run: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
    """Three measured calls of ``run(*args, **kwargs)``, the pieces queued again before each: the last result."""
    results: list[Any] = []

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        _requeue(app, ids)
        return args, dict(kwargs)

    def once(*a: Any, **kw: Any) -> Any:
        r = run(*a, **kw)
        results.append(r)
        return r

    benchmark.pedantic(once, setup=setup, rounds=3, iterations=1)
    return results[-1]


def _run_bench(benchmark: Any, tmp_path: Path, name: str, count: int, **run: Any) -> dict[str, float]:
    from desktop.services.notices.runs import run_notices

    app, mail, ids = _office(tmp_path, count)
    run_notices(app, mail, tmp_path / "warm", **run)  # makes the print derivatives once, as in production
    out = tmp_path / "out"
    clock = _Clock(run_notices)
    last = _measure_runs(benchmark, app, ids, clock, (app, mail, out), run)
    assert last.printed == count and not last.held
    size = sum(b.bytes_written for b in last.batches) / last.pages
    figures = _report(benchmark, name, count, clock.median(), size)
    benchmark.extra_info["render_seconds"] = round(last.render_seconds, 3)
    app.db.dispose()
    return figures


@pytest.mark.benchmark(group="notices")
def test_bench_notice_run_from_the_database(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The whole run, one process: database to recorded batch, a different photo (derivative) per page."""
    _run_bench(benchmark, tmp_path, "run from the database", PAGES, workers=1)


@pytest.mark.benchmark(group="notices")
def test_bench_large_run_on_two_processes(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A large run: batches of 150 rendered on two spawned processes (wall time; the work is in children)."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two cores")
    figures = _run_bench_parallel(benchmark, tmp_path, 600)
    assert figures["pages_per_second_wall"] > 0


def _run_bench_parallel(benchmark: Any, tmp_path: Path, count: int) -> dict[str, float]:
    from desktop.services.core import settings
    from desktop.services.core.context import Actor
    from desktop.services.notices.runs import run_notices

    app, mail, ids = _office(tmp_path, count)
    settings.set_value(app, Actor.system("bench"), "mail.parallel_min_pieces", 100)
    run_notices(app, mail, tmp_path / "warm", batch_size=150, workers=2)
    last = _measure_runs(benchmark, app, ids, run_notices, (app, mail, tmp_path / "out"),
                         {"batch_size": 150, "workers": 2})
    assert last.printed == count and len(last.batches) == count // 150
    wall = count / benchmark.stats.stats.median
    benchmark.extra_info.update(pages_per_second_wall=round(wall, 1), processes=2)
    print(f"\nlarge run, 2 processes: {wall:.0f} pages/s wall ({count} pages in {count // 150} batches)")
    app.db.dispose()
    return {"pages_per_second_wall": wall}
