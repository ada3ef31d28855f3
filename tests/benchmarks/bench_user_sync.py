"""The user's sync: `main.py sync` on a fresh database, process start to exit, review checks included.

Run: pytest tests/benchmarks/bench_user_sync.py --benchmark-only -p no:randomly -s

Each round: the project's field simulator (``python -m desktop.demo.simulator``, its own process, on
127.0.0.1) serving CITATIONS clean citations without photos (default 30,000; their voids, amendments, patrol
records and unknown events come with them: about 56,500 events), a fresh database (a copy of a migrated
SQLite file; on PostgreSQL a new database with a unique name, created from a migrated template and dropped
after) holding the office's administrator and a `sync` API token, all set up outside the timing. Timed: the
whole command as a scheduled job or a clerk runs it, ``main.py --db URL --data-dir DIR sync --endpoint URL
--token T`` with CURBDESK_TOKEN, from process start to exit: sign-in, the pull (a sync this size prepares
its events on the helper process), the review checks after every committed batch, the reference push.
After each round the citations are in the review queue with their warnings (checked outside the timing).

Measured in the same run, group "user-sync":

- ``floor``: the very rows the command wrote (citations, violations, field events, patrol records, devices,
  audit entries) inserted raw: sqlite3 ``executemany`` in one transaction; PostgreSQL ``COPY`` (binary) of
  each table, read out of the synced database beforehand;
- ``previous code`` (when CURBDESK_BENCH_OLD_TREE names a checkout of the code before this change, e.g.
  /work/main, which is the default when it exists): the same command run from that checkout, one round
  (CURBDESK_BENCH_PREVIOUS_ROUNDS for more).

``CURBDESK_BENCH_WRAP`` runs the command under another, for a profile of where its time goes, e.g.
``py-spy record --subprocesses --format raw -o sync.txt --`` (the figures are then not the command's own).

The machine has two cores shared with other work: each result carries the load average before and after
(``extra_info``), and the ratio to the floor of the same run is the steadier figure.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.admin import tokens, users
from desktop.services.core.context import Actor

ROOT = Path(__file__).resolve().parents[2]
CITATIONS = int(os.environ.get("CURBDESK_BENCH_SYNC_CITATIONS", "30000"))
ROUNDS = int(os.environ.get("CURBDESK_BENCH_SYNC_ROUNDS", "3"))
#: rounds of the previous code (one by default: it is the comparison, not the figure)
PREVIOUS_ROUNDS = int(os.environ.get("CURBDESK_BENCH_PREVIOUS_ROUNDS", "1"))
OLD_TREE = Path(os.environ.get("CURBDESK_BENCH_OLD_TREE", "/work/main"))
TARGET = 5000.0
#: the tables a sync writes (the floor inserts their new rows)
TABLES = ["devices", "citations", "citation_warnings", "citation_violations", "evidence_photos", "field_events",
          "patrol_shifts", "patrol_checks", "quarantine", "audit_log"]
ADMIN_PASSWORD = "bench-admin-password-1"
_results: dict[str, dict[str, float]] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_simulator() -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop.demo.simulator", "--port", str(port), "--token", "bench", "--devices", "10",
         "--citations", str(CITATIONS), "--first-device", "1", "--seed", "3", "--no-photos"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "listening on" in first, first
    return process, f"http://127.0.0.1:{port}"


def _office(url: str, data: Path) -> str:
    """The office's administrator and a `sync` token in the database at ``url``; returns the token."""
    paths = AppPaths(data)
    paths.ensure()
    db = Database(url)
    try:
        app = make_app_context(db, paths)
        users.add_user(app, Actor.system("bench"), "admin", "Ada Admin", "admin", ADMIN_PASSWORD)
        return tokens.issue(app, users.actor_for(app, "admin"), "admin", "sync", days=1)[1]
    finally:
        db.dispose()


@dataclass
class Backend:
    """Makes a fresh database for each round and inserts the floor's rows."""

    name: str
    base: Path
    token: str = ""
    made: list[str] = field(default_factory=list)

    def fresh(self) -> str: ...

    def rows_after_office(self, url: str) -> Any: ...

    def floor(self, rows: Any) -> None: ...

    def citations_checked(self, url: str) -> tuple[int, int, int]:
        """(citations, those in the review queue, those of the queue carrying their review warnings)."""
        from sqlalchemy import text

        db = Database(url)
        try:
            with db.engine.connect() as c:
                total = c.execute(text("select count(*) from citations")).scalar()
                queued = c.execute(text("select count(*) from citations where status = 'pending_review'")).scalar()
                # a citation without photos always fails the photo check: its warning is the proof the checks ran
                checked = c.execute(text("select count(*) from citations c join citation_warnings w "
                                         "on w.citation_id = c.id where c.status = 'pending_review' and "
                                         "w.count > 0 and cast(w.warnings as text) like :w"), {"w": "%photo_time%"}
                                    ).scalar()
        finally:
            db.dispose()
        return int(total or 0), int(queued or 0), int(checked or 0)

    def close(self) -> None: ...


class SqliteBackend(Backend):
    def setup(self, template: Path) -> None:
        self.office = self.base / "office.sqlite3"
        shutil.copyfile(template, self.office)
        self.token = _office(f"sqlite:///{self.office}", self.base / "office-data")
        with sqlite3.connect(self.office) as c:
            self.audit_from = c.execute("select coalesce(max(id), 0) from audit_log").fetchone()[0]
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def fresh(self) -> str:
        target = self.base / f"db{len(self.made)}.sqlite3"
        shutil.copyfile(self.office, target)
        self.made.append(str(target))
        return f"sqlite:///{target}"

    def rows_after_office(self, url: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        path = url.removeprefix("sqlite:///")
        out = {}
        with sqlite3.connect(path) as c:
            for table in TABLES:
                where = f" where id > {self.audit_from}" if table == "audit_log" else ""
                cursor = c.execute(f"select * from {table}{where}")
                out[table] = ([d[0] for d in cursor.description], cursor.fetchall())
        return out

    def floor(self, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
        conn = sqlite3.connect(self._floor_target,
                               isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        for table, (columns, values) in rows.items():
            if values:
                marks = ",".join("?" * len(columns))
                conn.executemany(f"insert into {table} ({','.join(columns)}) values ({marks})", values)
        conn.execute("COMMIT")
        conn.close()

    def floor_setup(self) -> None:
        self._floor_target = str(self.base / f"floor{time.monotonic_ns()}.sqlite3")
        shutil.copyfile(self.office, self._floor_target)


class PostgresBackend(Backend):
    def setup(self, server: str, template: str) -> None:
        import psycopg

        self.server, self.admin = server, server.replace("postgresql+psycopg://", "postgresql://")
        self.office_name = f"curbdesk_bench_office_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.office_name}" TEMPLATE "{template}"')
        self.made.append(self.office_name)
        self.token = _office(self._url(self.office_name), self.base / "office-data")
        with psycopg.connect(self._plain(self.office_name)) as conn:
            self.audit_from = conn.execute("select coalesce(max(id), 0) from audit_log").fetchone()[0]  # type: ignore[index]

    def _url(self, name: str) -> str:
        return f"{self.server.rsplit('/', 1)[0]}/{name}"

    def _plain(self, name: str) -> str:
        return self._url(name).replace("postgresql+psycopg://", "postgresql://")

    def fresh(self) -> str:
        import psycopg

        name = f"curbdesk_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.office_name}"')
        self.made.append(name)
        return self._url(name)

    def rows_after_office(self, url: str) -> dict[str, tuple[list[str], bytes]]:
        import psycopg

        out = {}
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            for table in TABLES:
                columns = [r[0] for r in conn.execute(
                    "select column_name from information_schema.columns where table_name = %s "
                    "order by ordinal_position", (table,))]
                where = f" where id > {self.audit_from}" if table == "audit_log" else ""
                buffer = io.BytesIO()
                with conn.cursor().copy(f"COPY (select {','.join(columns)} from {table}{where}) TO STDOUT "
                                        "(FORMAT BINARY)") as copy:
                    for chunk in copy:
                        buffer.write(chunk)
                out[table] = (columns, buffer.getvalue())
        return out

    def floor_setup(self) -> None:
        self._floor_target = self.fresh()

    def floor(self, rows: dict[str, tuple[list[str], bytes]]) -> None:
        import psycopg

        with psycopg.connect(self._floor_target.replace("postgresql+psycopg://", "postgresql://")) as conn:
            with conn.cursor() as cur:
                for table, (columns, data) in rows.items():
                    with cur.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                        copy.write(data)
            conn.commit()

    def close(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[SqliteBackend]:
    backend = SqliteBackend("sqlite", tmp_path_factory.mktemp("user-sync-sqlite"))
    backend.setup(sqlite_template)
    yield backend


@pytest.fixture(scope="module")
def pg_backend(tmp_path_factory: pytest.TempPathFactory, pg_server: str, pg_template: str) -> Iterator[PostgresBackend]:
    backend = PostgresBackend("postgresql", tmp_path_factory.mktemp("user-sync-pg"))
    backend.setup(pg_server, pg_template)
    yield backend
    backend.close()


class Rounds:
    """Rounds of the command: a fresh database and simulator for each (outside the timing)."""

    def __init__(self, backend: Backend, main: Path) -> None:
        self.backend, self.main = backend, main
        self.sim: subprocess.Popen[str] | None = None
        self.url = self.db = ""
        self.n = 0
        self.loads: list[float] = []
        self.outputs: list[str] = []
        self.cpu: list[float] = []

    def setup(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        self.stop()
        self.n += 1
        self.sim, self.url = _start_simulator()
        self.db = self.backend.fresh()
        self.data = self.backend.base / f"data-{self.main.parent.name}-{self.n}"
        shutil.copytree(self.backend.base / "office-data", self.data)  # the office's keys (audit, seal)
        self.loads.append(os.getloadavg()[0])
        return (), {}

    def run(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("CURBDESK_USER", "CURBDESK_PASSWORD")}
        env["CURBDESK_TOKEN"] = self.backend.token
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrap = os.environ.get("CURBDESK_BENCH_WRAP", "").split()  # e.g. a profiler: py-spy record ... --
        done = subprocess.run([*wrap, sys.executable, str(self.main), "--db", self.db, "--data-dir", str(self.data), "sync",
                               "--endpoint", self.url, "--token", "bench"], capture_output=True, text=True, env=env,
                              cwd=self.main.parent, timeout=1800)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert done.returncode == 0, done.stderr[-3000:]
        self.outputs.append(done.stdout.strip())
        # the command's CPU time (with its helper process): steadier than the wall time on a shared machine
        self.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.terminate()
            self.sim.wait(timeout=30)
            self.sim = None

    def measure(self, benchmark: Any, rounds: int) -> float:
        try:
            benchmark.pedantic(self.run, setup=self.setup, rounds=rounds, iterations=1)
        finally:
            self.stop()
        self.loads.append(os.getloadavg()[0])
        return float(benchmark.stats.stats.median)


def _report(benchmark: Any, key: str, seconds: float, loads: list[float], **extra: Any) -> None:
    figures = {"citations_per_s": round(CITATIONS / seconds), "median_s": round(seconds, 2),
               "load_average_1min": [round(x, 1) for x in loads], **extra}
    floor = _results.get(key.split(":")[0] + ":floor")
    if floor is not None and not key.endswith(":floor"):
        figures["times_the_floor"] = round(seconds / floor["median_s"], 1)
    benchmark.extra_info.update(figures)
    _results[key] = {"median_s": seconds}
    print(f"\n{key}: median {seconds:.2f} s = {CITATIONS / seconds:,.0f} citations/s "
          + " ".join(f"{k}={v}" for k, v in figures.items() if k not in ("citations_per_s", "median_s")))


def _user_sync(benchmark: Any, backend: Backend) -> None:
    rounds = Rounds(backend, ROOT / "main.py")
    median = rounds.measure(benchmark, ROUNDS)
    total, queued, checked = backend.citations_checked(rounds.db)
    # (a few are voided by their officer in the same feed: out of the queue)
    assert total == CITATIONS and checked == queued > CITATIONS * 0.9, (total, queued, checked)
    assert f"{CITATIONS:,} citations" in rounds.outputs[-1], rounds.outputs[-1]
    backend.last_db = rounds.db  # type: ignore[attr-defined]
    _report(benchmark, f"{backend.name}:this code", median, rounds.loads, cpu_s=[round(x, 1) for x in rounds.cpu],
            output=rounds.outputs[-1])


def _floor(benchmark: Any, backend: Backend) -> None:
    if not hasattr(backend, "last_db"):
        pytest.skip("run together with the user's sync of the same backend")
    rows = backend.rows_after_office(backend.last_db)  # type: ignore[attr-defined]
    loads = [os.getloadavg()[0]]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        backend.floor_setup()  # type: ignore[attr-defined]
        return (), {}

    benchmark.pedantic(lambda: backend.floor(rows), setup=setup, rounds=ROUNDS, iterations=1)
    loads.append(os.getloadavg()[0])
    median = float(benchmark.stats.stats.median)
    _results[f"{backend.name}:floor"] = {"median_s": median}
    this = _results.get(f"{backend.name}:this code")
    extra = {"command_over_floor": round(this["median_s"] / median, 1)} if this else {}
    _report(benchmark, f"{backend.name}:floor", median, loads, **extra)


def _previous(benchmark: Any, backend: Backend) -> None:
    main = OLD_TREE / "main.py"
    if not main.is_file() or OLD_TREE.resolve() == ROOT.resolve():
        pytest.skip(f"no checkout of the previous code at {OLD_TREE} (CURBDESK_BENCH_OLD_TREE)")
    rounds = Rounds(backend, main)
    median = rounds.measure(benchmark, PREVIOUS_ROUNDS)
    total, queued, checked = backend.citations_checked(rounds.db)
    assert total == CITATIONS and checked == queued > CITATIONS * 0.9, (total, queued, checked)
    this = _results.get(f"{backend.name}:this code")
    extra = {"previous_over_this": round(median / this["median_s"], 1)} if this else {}
    _report(benchmark, f"{backend.name}:previous code", median, rounds.loads,
            cpu_s=[round(x, 1) for x in rounds.cpu], **extra)


@pytest.mark.benchmark(group="user-sync-sqlite")
def test_bench_user_sync_sqlite(benchmark: Any, sqlite_backend: SqliteBackend) -> None:
    _user_sync(benchmark, sqlite_backend)


@pytest.mark.benchmark(group="user-sync-sqlite")
def test_bench_user_sync_sqlite_floor_executemany(benchmark: Any, sqlite_backend: SqliteBackend) -> None:
    _floor(benchmark, sqlite_backend)


@pytest.mark.benchmark(group="user-sync-sqlite")
def test_bench_user_sync_sqlite_previous_code(benchmark: Any, sqlite_backend: SqliteBackend) -> None:
    _previous(benchmark, sqlite_backend)


@pytest.mark.benchmark(group="user-sync-postgresql")
def test_bench_user_sync_postgresql(benchmark: Any, pg_backend: PostgresBackend) -> None:
    _user_sync(benchmark, pg_backend)


@pytest.mark.benchmark(group="user-sync-postgresql")
def test_bench_user_sync_postgresql_floor_copy(benchmark: Any, pg_backend: PostgresBackend) -> None:
    _floor(benchmark, pg_backend)


@pytest.mark.benchmark(group="user-sync-postgresql")
def test_bench_user_sync_postgresql_previous_code(benchmark: Any, pg_backend: PostgresBackend) -> None:
    _previous(benchmark, pg_backend)
