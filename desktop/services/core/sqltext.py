"""Plain SQL text run straight on the driver, for the set-based work of the daily escalation and
the case search (where building SQLAlchemy expressions per call costs more than the query itself).

``Sql`` takes ``:name`` parameters on both SQLite and PostgreSQL, converts values the way the mapped
column types store them, and writes the few fragments that differ by database: date arithmetic, the
local calendar date of a UTC instant, JSON objects, and temporary work tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")


@lru_cache(maxsize=32)
def _utc_offsets(tz_name: str, first_year: int, last_year: int) -> tuple[tuple[str, int], ...]:
    """(first UTC instant 'YYYY-MM-DD HH:MM:SS', offset seconds) of every offset period of a zone, oldest first."""
    tz = ZoneInfo(tz_name)

    def off(t: datetime) -> int:
        delta = t.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    periods = [("", off(start))]
    day = start
    while day < end:
        nxt = day + timedelta(days=1)
        if off(nxt) != periods[-1][1]:
            lo, hi = 0, 24 * 60  # minutes after `day`: lo has the old offset, hi the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(day + timedelta(minutes=mid)) == periods[-1][1]:
                    lo = mid
                else:
                    hi = mid
            at = day + timedelta(minutes=hi)
            periods.append((at.strftime("%Y-%m-%d %H:%M:%S"), off(at)))
        day = nxt
    return tuple(periods)


@lru_cache(maxsize=256)
def _local_date_sql(pg: bool, instant: str, tz_name: str) -> str:
    """The SQL for the local calendar date of a UTC instant column (SQLite: a CASE over the offsets)."""
    if not _TZ_NAME.match(tz_name):
        raise ValueError(f"unexpected time zone name {tz_name!r}")
    if pg:
        return f"(({instant}) AT TIME ZONE '{tz_name}')::date"
    periods = _utc_offsets(tz_name, 2000, datetime.now(UTC).year + 1)
    if len(periods) == 1:
        return f"date({instant}, '{periods[0][1]:+d} seconds')"
    whens = " ".join(f"WHEN {instant} >= '{start}' THEN '{offset:+d} seconds'"
                     for start, offset in reversed(periods[1:]))
    return f"date({instant}, CASE {whens} ELSE '{periods[0][1]:+d} seconds' END)"


#: Statements as the driver wants them, by their text (the escalation sends the same few dozen every run).
_DRIVER_SQL: dict[tuple[bool, str], str] = {}
_PG_PARAM = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)")


class Sql:
    """Runs SQL text straight on the driver (``:name`` parameters) and writes the few fragments that
    differ by database. Values are converted the way the mapped column types store them."""

    #: ``indexes_rebuilt`` rebuilds only for statements over at least this many rows
    REBUILD_MIN_ROWS = 100_000
    #: a work table filled with at least this many rows is analysed (PostgreSQL)
    ANALYZE_MIN_ROWS = 1_000
    #: the daily run's work_mem (PostgreSQL, SET LOCAL)
    WORK_MEM = "256MB"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        self._dirty: set[str] = set()

    def _driver_sql(self, sql: str) -> str:
        key = (self.pg, sql)
        out = _DRIVER_SQL.get(key)
        if out is None:
            if self.pg:  # psycopg: %(name)s placeholders, a literal % doubled
                out = _PG_PARAM.sub(lambda m: m.group(0) if m.group(1) is None else f"%({m.group(1)})s",
                                    sql.replace("%", "%%"))
            else:
                out = sql
            if len(_DRIVER_SQL) > 2048:
                _DRIVER_SQL.clear()
            _DRIVER_SQL[key] = out
        return out

    def _value(self, value: Any) -> Any:
        if self.pg:
            return value
        if isinstance(value, datetime):  # as UTCDateTime stores it on SQLite
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def _execute(self, sql: str, params: dict[str, Any]) -> Any:
        conn = self.session.connection()
        return conn.exec_driver_sql(self._driver_sql(sql), {k: self._value(v) for k, v in params.items()})

    def run(self, sql: str, **params: Any) -> int:
        result = self._execute(sql, params)
        return max(int(getattr(result, "rowcount", 0) or 0), 0)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        return list(self._execute(sql, params).all())

    def scalar(self, sql: str, **params: Any) -> Any:
        return self._execute(sql, params).scalar()

    # fragments ------------------------------------------------------------
    def add_days(self, day: str, days: str) -> str:
        if self.pg:
            return f"(({day}) + CAST({days} AS INTEGER))"
        return f"date({day}, printf('%+d days', {days}))"

    def days_between(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"(({later}) - ({earlier}))"
        return f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"

    def local_date(self, instant: str, tz_name: str) -> str:
        """The calendar date of a UTC instant in a time zone (SQLite: a CASE over the zone's offsets)."""
        return _local_date_sql(self.pg, instant, tz_name)

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"max({a}, {b})"

    def distinct(self, a: str, b: str) -> str:
        return f"({a} IS DISTINCT FROM {b})" if self.pg else f"({a} IS NOT {b})"

    def address_json(self, o: str) -> str:
        pairs = ", ".join(f"'{k}', {o}.{col}" for k, col in (
            ("name", "name"), ("line1", "address_line1"), ("line2", "address_line2"), ("city", "city"),
            ("state", "state"), ("zip", "zip"), ("delivery_point", "delivery_point"), ("raw", "address_raw"),
            ("status", "address_status")))
        fn = "json_build_object" if self.pg else "json_object"
        return f"CASE WHEN {o}.id IS NULL THEN NULL ELSE {fn}({pairs}) END"

    def driven_by(self, target: str, table: str, alias: str) -> str:
        """``WHERE`` of an ``UPDATE target ... FROM table alias`` matching ids: on SQLite also ``target.id IN
        (work table)``, so the planner walks the work table's ids instead of scanning all of ``target``
        (it has no statistics on a work table)."""
        if self.pg:
            return f"{target}.id = {alias}.id"
        return f"{target}.id = {alias}.id AND {target}.id IN (SELECT id FROM {table})"

    @contextmanager
    def indexes_rebuilt(self, table: str, names: Sequence[str], rows: int) -> Iterator[None]:
        """Around one statement that rewrites the indexed columns of ``rows`` rows of ``table``: on SQLite,
        when that is at least half of the table, the indexes ``names`` are dropped first and built again
        after it (one sort instead of a million scattered index updates). Safe there: it happens inside
        the caller's transaction (a rollback brings the indexes back; other connections see nothing until
        the commit, and the write lock is held anyway). On PostgreSQL, DROP INDEX would lock the table
        for everyone until the commit: nothing is done."""
        if self.pg or rows < self.REBUILD_MIN_ROWS or rows * 2 < int(self.scalar(f"SELECT MAX(rowid) FROM {table}") or 0):
            yield
            return
        ddl = [r[0] for r in self.rows(f"SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' "
                                      f"AND name IN {self.in_list(names)} AND sql IS NOT NULL")]
        for name in names:
            self.run(f"DROP INDEX IF EXISTS {name}")
        yield  # (if the statement fails, the caller's rollback restores the indexes)
        for statement in ddl:
            self.run(statement)

    def in_list(self, values: Sequence[str]) -> str:
        return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"

    def clear(self, table: str) -> None:
        """Empty a work table (skipped when nothing went into it since the last time)."""
        if table in self._dirty:
            self.run(f"DELETE FROM {table}")
            self._dirty.discard(table)

    def fill(self, table: str, sql: str, **params: Any) -> int:
        """``INSERT INTO <work table> ...``; returns the row count."""
        n = self.run(sql, **params)
        if n:
            self._dirty.add(table)
            if self.pg and n >= self.ANALYZE_MIN_ROWS:
                # autovacuum never analyses a temporary table: without this the planner guesses its size
                # (a few thousand rows) and picks plans for that, e.g. batched hash joins spilled to disk
                self.run(f"ANALYZE {table}")
        return n

    def temp_tables(self) -> None:
        """Work tables for the run's sets of case ids (dropped at commit on PostgreSQL)."""
        specs = {
            "esc_batch": ("id BIGINT PRIMARY KEY, d DATE, prev_status VARCHAR(20), owner_id BIGINT, "
                          "looked_up INTEGER, fine BIGINT"),
            "esc_next": "id BIGINT PRIMARY KEY, action VARCHAR(80), d DATE",
            "esc_touched": "id BIGINT PRIMARY KEY",
            "esc_undated": ("id BIGINT PRIMARY KEY, d DATE, status VARCHAR(20), owner_id BIGINT, fine BIGINT, "
                            "tag VARCHAR(120), new INTEGER"),
            "esc_plates": "plate VARCHAR(16), jurisdiction VARCHAR(8), PRIMARY KEY (plate, jurisdiction)",
            # a profile's mailing dates and the days they count as served (England: 2 working days later)
            "esc_service": "code VARCHAR(16), mailed DATE, served DATE, PRIMARY KEY (code, mailed)",
        }
        if self.pg:
            # hash joins and sorts of a city's case ids in memory, for this transaction only (the server's
            # default, 4 MB, spilled the first run's joins to disk in batches)
            self.run(f"SET LOCAL work_mem = '{self.WORK_MEM}'")
        for name, cols in specs.items():
            if self.pg:
                self.run(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols}) ON COMMIT DROP")
            else:
                self.run(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols.replace('BIGINT PRIMARY KEY', 'INTEGER PRIMARY KEY')})")
            self.run(f"DELETE FROM {name}")

    def insert_ignore(self, table: str, columns: str, select_sql: str, conflict: str, **params: Any) -> int:
        return self.run(f"INSERT INTO {table} ({columns}) {select_sql} ON CONFLICT ({conflict}) DO NOTHING", **params)
