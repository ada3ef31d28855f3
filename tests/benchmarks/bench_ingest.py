"""Benchmarks of the ingest, end to end from a local field simulator running as its own process.

* citations/s without photos (goal: >= 5,000/s; the events fetched and prepared on the sync's helper
  process, as a large sync does, and once more all in one process), next to a raw sqlite3 insert of the
  very rows the ingest wrote (citations, violations, field events, patrol records, audit entries), measured in the
  same run: the ratio says what validation, dedupe, the audit chain and HTTP cost on top of storage;
* photo ingest in MB/s (download, verify digest/size/decoding, store with fsync, EXIF), next to a plain
  file copy of the same photo files.

Run with ``pytest tests/benchmarks/bench_ingest.py --benchmark-only -p no:randomly``.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sql_text

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services import sync as sync_service
from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext
from desktop.services.review.checks import recheck_citations

ROOT = Path(__file__).resolve().parents[2]
CITATIONS = 20_000
PHOTO_CITATIONS = 150
TABLES = ["citations", "citation_violations", "field_events", "patrol_checks", "patrol_shifts", "audit_log",
          "devices", "evidence_photos"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Simulator:
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_simulator(citations: int, photos: bool) -> Simulator:
    """A field simulator in its own process (as a real endpoint would be), fresh for every round."""
    port = _free_port()
    args = [sys.executable, "-m", "desktop.demo.simulator", "--port", str(port), "--token", "bench",
            "--devices", "10", "--citations", str(citations), "--first-device", "1", "--seed", "3"]
    if not photos:
        args.append("--no-photos")
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "listening on" in first, first
    return Simulator(process, f"http://127.0.0.1:{port}")


def fresh_app(folder: Path, template: Path) -> AppContext:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copyfile(template, folder / "curbdesk.sqlite3")
    paths = AppPaths(folder)
    paths.ensure()
    return make_app_context(Database(f"sqlite:///{folder / 'curbdesk.sqlite3'}"), paths)


@pytest.fixture(scope="module")
def template(sqlite_template: Path) -> Path:
    """The migrated SQLite file each round copies (the suite's own template)."""
    return sqlite_template


class Round:
    """One measured sync: a fresh database and a fresh simulator (set up outside the timing)."""

    def __init__(self, base: Path, template: Path, citations: int, photos: bool,
                 helper_process_from: int | None = sync_service.HELPER_PROCESS_FROM) -> None:
        self.base, self.template, self.citations, self.photos = base, template, citations, photos
        self.helper_process_from = helper_process_from
        self.n = 0
        self.app: AppContext | None = None
        self.sim: Simulator | None = None
        self.endpoint_id = 0
        self.summaries: list[sync_service.SyncSummary] = []

    def setup(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        self.close()
        self.n += 1
        self.app = fresh_app(self.base / f"round{self.n}", self.template)
        self.sim = start_simulator(self.citations, self.photos)
        self.endpoint_id = sync_service.endpoint_for_url(self.app, Actor.system("bench"), self.sim.url)
        return (), {}

    def run(self) -> sync_service.SyncSummary:
        assert self.app is not None
        # the review checks that follow each commit are measured on their own (test_bench_review_checks_...)
        summary = sync_service.sync_now(self.app, Actor.system("bench"), self.endpoint_id, token="bench", push=False,
                                        review_checks=False, helper_process_from=self.helper_process_from)
        self.summaries.append(summary)
        return summary

    def close(self) -> None:
        if self.sim is not None:
            self.sim.stop()
            self.sim = None
        if self.app is not None:
            self.app.db.dispose()

    def measure(self, benchmark: Any, rounds: int) -> sync_service.SyncSummary:
        """The benchmark's rounds of this sync (the last one's summary), the last round closed after."""
        try:
            summary: sync_service.SyncSummary = benchmark.pedantic(self.run, setup=self.setup, rounds=rounds,
                                                                    iterations=1)
            return summary
        finally:
            self.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[dict[str, Any]]:
    """What the end-to-end benchmark measured, shared with the baseline measured after it."""
    yield {}


def test_bench_ingest_without_photos(benchmark: Any, tmp_path_factory: pytest.TempPathFactory, template: Path,
                                     ingested: dict[str, Any]) -> None:
    base = tmp_path_factory.mktemp("ingest")
    rounds = Round(base, template, CITATIONS, photos=False)
    summary = rounds.measure(benchmark, 5)
    assert summary.stats.citations == CITATIONS and summary.stats.quarantined == 0
    median = benchmark.stats.stats.median
    benchmark.extra_info["citations"] = CITATIONS
    benchmark.extra_info["events"] = summary.stats.events
    benchmark.extra_info["citations_per_s"] = round(CITATIONS / median)
    benchmark.extra_info["events_per_s"] = round(summary.stats.events / median)
    benchmark.extra_info["runs_prepared_on_the_helper_process"] = summary.helper_runs
    ingested["db"] = base / f"round{rounds.n}" / "curbdesk.sqlite3"
    ingested["median"] = median


def test_bench_ingest_without_photos_in_one_process(benchmark: Any, tmp_path_factory: pytest.TempPathFactory,
                                                    template: Path) -> None:
    """The same sync with everything in the application's process (no helper process): what the helper
    process gains."""
    base = tmp_path_factory.mktemp("ingest-one")
    rounds = Round(base, template, CITATIONS, photos=False, helper_process_from=None)
    summary = rounds.measure(benchmark, 3)
    assert summary.stats.citations == CITATIONS and summary.helper_runs == 0
    benchmark.extra_info["citations_per_s"] = round(CITATIONS / benchmark.stats.stats.median)


def test_bench_review_checks_after_ingest(benchmark: Any, tmp_path_factory: pytest.TempPathFactory,
                                          ingested: dict[str, Any]) -> None:
    """What the app runs after each committed page and the figure above leaves out: the review checks on
    the new citations, a page of 500 at a time (each in its own transaction, as the ingest does)."""
    if "db" not in ingested:
        pytest.skip("run together with test_bench_ingest_without_photos")
    base = tmp_path_factory.mktemp("checks")
    counter = [0]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        counter[0] += 1
        folder = base / f"checks{counter[0]}"
        folder.mkdir()
        shutil.copyfile(ingested["db"], folder / "curbdesk.sqlite3")
        paths = AppPaths(folder)
        paths.ensure()
        app = make_app_context(Database(f"sqlite:///{folder / 'curbdesk.sqlite3'}"), paths)
        with app.db.reading() as s:
            ids = list(s.scalars(sql_text("select id from citations order by id")))
        return (app, ids), {}

    def check(app: AppContext, ids: list[int]) -> int:
        for start in range(0, len(ids), 500):
            with app.uow(Actor.system("bench")) as uow:
                recheck_citations(uow, ids[start:start + 500])
                uow.commit()
        app.db.dispose()
        return len(ids)

    n = benchmark.pedantic(check, setup=setup, rounds=1, iterations=1)
    benchmark.extra_info["citations"] = n
    benchmark.extra_info["citations_per_s"] = round(n / benchmark.stats.stats.median)


def _rows(db: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    with sqlite3.connect(db) as c:
        out = {}
        for table in TABLES:
            cursor = c.execute(f"select * from {table}")
            out[table] = ([d[0] for d in cursor.description], cursor.fetchall())
        return out


def test_bench_raw_sqlite_insert_of_the_same_rows(benchmark: Any, tmp_path_factory: pytest.TempPathFactory,
                                                  template: Path, ingested: dict[str, Any]) -> None:
    """Baseline: the rows the ingest wrote, inserted with plain sqlite3 executemany in one transaction."""
    if "db" not in ingested:
        pytest.skip("run together with test_bench_ingest_without_photos")
    rows = _rows(ingested["db"])
    base = tmp_path_factory.mktemp("raw")
    counter = [0]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        counter[0] += 1
        target = base / f"raw{counter[0]}.sqlite3"
        shutil.copyfile(template, target)
        return (target,), {}

    def insert(target: Path) -> int:
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        n = 0
        for table, (columns, values) in rows.items():
            if values:
                marks = ",".join("?" * len(columns))
                conn.executemany(f"insert into {table} ({','.join(columns)}) values ({marks})", values)
                n += len(values)
        conn.execute("COMMIT")
        conn.close()
        return n

    n = benchmark.pedantic(insert, setup=setup, rounds=3, iterations=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info["rows"] = n
    benchmark.extra_info["citations_per_s"] = round(CITATIONS / median)
    benchmark.extra_info["ingest_over_raw_ratio"] = round(ingested["median"] / median, 1)


def test_bench_photo_ingest(benchmark: Any, tmp_path_factory: pytest.TempPathFactory, template: Path,
                            ingested: dict[str, Any]) -> None:
    base = tmp_path_factory.mktemp("photos")
    rounds = Round(base, template, PHOTO_CITATIONS, photos=True)
    summary = rounds.measure(benchmark, 3)
    assert summary.stats.photos > PHOTO_CITATIONS and summary.stats.photos_failed == 0
    evidence = base / f"round{rounds.n}" / "evidence"
    files = sorted(p for p in evidence.rglob("*.jpg") if "thumbs" not in p.parts)
    size = sum(p.stat().st_size for p in files)
    median = benchmark.stats.stats.median
    benchmark.extra_info["photos"] = summary.stats.photos
    benchmark.extra_info["MB"] = round(size / 1e6, 1)
    benchmark.extra_info["MB_per_s"] = round(size / 1e6 / median, 1)
    benchmark.extra_info["photos_per_s"] = round(summary.stats.photos / median)
    ingested["photo_files"] = files
    ingested["photo_median"] = median


def test_bench_photo_file_copy_baseline(benchmark: Any, tmp_path_factory: pytest.TempPathFactory,
                                        ingested: dict[str, Any]) -> None:
    """Baseline: copying the same photo files (one file each, like the store) with shutil."""
    if "photo_files" not in ingested:
        pytest.skip("run together with test_bench_photo_ingest")
    files: list[Path] = ingested["photo_files"]
    base = tmp_path_factory.mktemp("copy")
    counter = [0]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        counter[0] += 1
        target = base / f"copy{counter[0]}"
        target.mkdir()
        return (target,), {}

    def copy(target: Path) -> int:
        total = 0
        for f in files:
            shutil.copyfile(f, target / f.name)
            total += f.stat().st_size
        return total

    size = benchmark.pedantic(copy, setup=setup, rounds=5, iterations=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info["MB_per_s"] = round(size / 1e6 / median, 1)
    benchmark.extra_info["ingest_over_copy_ratio"] = round(ingested["photo_median"] / median, 1)


AUDIT_ENTRIES = 5000


@pytest.mark.parametrize("mode", ["bulk", "per_row"])
def test_bench_audit_append(benchmark: Any, tmp_path_factory: pytest.TempPathFactory, template: Path,
                            mode: str) -> None:
    """`citation.received` entries: one bulk append per page (what the ingest does) against one append
    per entry (the ORM path every other use case takes)."""
    base = tmp_path_factory.mktemp(f"audit-{mode}")
    counter = [0]
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    records = [audit.AuditRecord("citation.received", "citation", n,
                                 after={"citation_number": f"HH0001-{n:06d}", "device_id": "HH-0001",
                                        "event_id": f"ev-{n}", "status": "pending_review", "evidence_status": "ok"},
                                 reason="received from HH-0001 via endpoint:bench") for n in range(AUDIT_ENTRIES)]

    apps: list[AppContext] = []

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        counter[0] += 1
        app = fresh_app(base / f"r{counter[0]}", template)
        apps.append(app)
        return (app,), {}

    def append(app: AppContext) -> int:
        with app.db.write_session() as s:
            if mode == "bulk":
                for start in range(0, AUDIT_ENTRIES, 500):
                    audit.append_many(s, records[start:start + 500], at=now, user_id=None, username="bench")
            else:
                for r in records:
                    audit.append(s, at=now, user_id=None, username="bench", action=r.action,
                                 entity_type=r.entity_type, entity_id=r.entity_id, after=r.after, reason=r.reason)
            s.commit()
        return AUDIT_ENTRIES

    benchmark.pedantic(append, setup=setup, rounds=3, iterations=1)
    for app in apps:  # the chain is whole either way (checked outside the timing)
        assert audit.verify(app.db).ok
        app.db.dispose()
    benchmark.extra_info["entries_per_s"] = round(AUDIT_ENTRIES / benchmark.stats.stats.median)
