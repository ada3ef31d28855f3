"""Bulk inserts of many plain rows (dicts), as cheap as the database driver allows.

SQLAlchemy's Core ``insert()`` with a list of dicts adds its own bookkeeping to every row
(parameter construction, one call per value and type). On SQLite, :func:`insert_rows` hands the
rows to the driver's ``executemany`` as tuples, each value converted by its column's own bind
processor: the same values SQLAlchemy would send, without that per-row overhead. On PostgreSQL the same
tuples go through ``COPY ... FROM STDIN`` in the session's transaction (psycopg writes each row in C; the
server parses no INSERT): an ingest batch's rows in about half the time of SQLAlchemy's multi-row INSERTs
("insertmanyvalues"), which it used before. A database error of the COPY is raised as SQLAlchemy raises one
(an ``IntegrityError`` for a duplicate key, a disconnect marked as such), so callers handle both alike.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, Integer, Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from desktop.persistence.models import Base

_NOTHING = object()
_Plan = tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...], tuple[Any, ...]]
#: per dialect (the processors belong to it): (table, keys) -> plan
_plans: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, tuple[str, ...]], _Plan | None]] = \
    weakref.WeakKeyDictionary()


def _plan(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """The INSERT statement, each given key with its bind processor, and the values of the columns the
    rows leave to a constant default (which SQLAlchemy would fill in), in the statement's order.

    None when SQLAlchemy would add anything else (a default computed in Python).
    """
    plans = _plans.setdefault(dialect, {})
    cache_key = (table.fullname, keys)
    if cache_key not in plans:
        copy = dialect.name == "postgresql"
        if copy:  # (named parameters: no positions to read the defaults from)
            defaults = [c for c in table.c if c.key not in keys and c.default is not None]
        else:
            wanted = insert(table).compile(dialect=dialect, column_keys=list(keys)).positiontup or ()
            defaults = [table.c[key] for key in wanted if key not in keys]
        plan: _Plan | None = None
        if (dialect.paramstyle == "qmark" or copy) and all(c.default is not None and c.default.is_scalar
                                                           for c in defaults):
            def processor(key: str) -> Callable[[Any], Any] | None:
                return table.c[key].type.dialect_impl(dialect).bind_processor(dialect)

            constants = []
            for column in defaults:
                process = processor(column.key)
                arg = column.default.arg  # type: ignore[union-attr]
                constants.append(process(arg) if process is not None else arg)
            quote = dialect.identifier_preparer
            names = ", ".join(quote.format_column(table.c[key]) for key in keys + tuple(c.key for c in defaults))
            marks = ", ".join("?" for _ in range(len(keys) + len(defaults)))
            if copy:
                statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
            else:
                statement = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({marks})"
            plan = (statement, tuple((key, processor(key)) for key in keys), tuple(constants))
        plans[cache_key] = plan
    return plans[cache_key]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows (dicts with the same keys, the table's column keys) in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    plan = _plan(table, tuple(rows[0]), dialect) if dialect.name in ("sqlite", "postgresql") else None
    if plan is None:
        session.execute(insert(table), list(rows))
        return
    statement, processors, constants = plan
    if dialect.name == "sqlite":
        connection.exec_driver_sql(statement, _values(rows, processors, constants))
        return
    raw: Any = connection.connection.driver_connection  # psycopg's own connection: its COPY API
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for values in _values(rows, processors, constants):
                write(values)
    except dialect.loaded_dbapi.Error as exc:
        gone = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error,
                                  connection_invalidated=gone, dialect=dialect) from exc


def _values(rows: Sequence[dict[str, Any]], processors: tuple[tuple[str, Callable[[Any], Any] | None], ...],
            constants: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows as the driver's tuples: the values read in C (itemgetter), then only the columns that have a
    bind processor converted. A value that is the very object of the row before (a batch's shared ``now``)
    is not converted again."""
    keys = [key for key, _ in processors]
    get = itemgetter(*keys)
    if len(keys) == 1:
        raw: list[Any] = [(value,) for value in map(get, rows)]
    else:
        raw = list(map(get, rows))
    converted = [(n, process) for n, (_, process) in enumerate(processors) if process is not None]
    if not converted:
        return [values + constants for values in raw] if constants else raw
    out: list[tuple[Any, ...]] = []
    last: list[Any] = [_NOTHING] * len(processors)
    done: list[Any] = [None] * len(processors)
    for values in raw:
        row = list(values)
        for n, process in converted:
            value = row[n]
            if value is last[n]:
                row[n] = done[n]
            else:
                last[n] = value
                row[n] = done[n] = process(value)
        out.append((*row, *constants))
    return out


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """Ids for a bulk insert without RETURNING (which SQLite would run one row at a time), for rows whose
    seal covers their id and so must know it before they are written.

    PostgreSQL hands them out from the table's sequence; on SQLite the write transaction holds the database
    lock (BEGIN IMMEDIATE), so the next ids after the highest are ours."""
    return reserve_ids_of(session, {table: count})[table]


def reserve_ids_of(session: Session, counts: Mapping[str, int]) -> dict[str, list[int]]:
    """``reserve_ids`` for several tables in one round trip (a counter payment: its payment and its ledger
    entries), by table name."""
    wanted = [(table, n) for table, n in counts.items() if n > 0]
    out: dict[str, list[int]] = {table: [] for table in counts}
    if not wanted:
        return out
    params: dict[str, Any] = {}
    parts: list[str] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for k, (table, n) in enumerate(wanted):
        params[f"t{k}"], params[f"n{k}"] = table, n
        if postgres:
            parts.append(f"SELECT {k} AS k, nextval(pg_get_serial_sequence(:t{k}, 'id')) AS id "
                         f"FROM generate_series(1, :n{k})")
        else:
            if not table.isidentifier():
                raise ValueError(f"not a table name: {table!r}")
            parts.append(f"SELECT {k} AS k, COALESCE(MAX(id), 0) + 1 AS id FROM {table}")
    for k, first in session.execute(text(" UNION ALL ".join(parts)), params):
        table, n = wanted[int(k)]
        if postgres:
            out[table].append(int(first))
        else:  # the write transaction holds the database lock: the next ids after the highest are ours
            out[table] = list(range(int(first), int(first) + n))
    return out


def advance_id_sequences(session: Session, *tables: str) -> None:
    """After rows were inserted with explicit ids (the demo, a copy): move each table's id sequence past the
    largest id, so that the next row the database numbers itself does not collide (PostgreSQL; SQLite
    numbers from the largest rowid already). ``tables`` by name; none: every table with an integer ``id`` key."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if not tables:
        tables = tuple(_id_tables())
    for name in tables:
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {name}"),
            {"table": name})


def _id_tables() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables
            if "id" in t.c and t.c["id"].primary_key and isinstance(t.c["id"].type, Integer)]


def copy_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """:func:`insert_rows` for the demo's million-citation office, which must never fall back to SQLAlchemy's
    INSERTs: on PostgreSQL, rows that leave out a column with a default computed in Python are refused.
    Each value goes through its column's bind processor first (UTC datetimes, JSON as text), as in an INSERT.
    https://www.postgresql.org/docs/15/sql-copy.html"""
    if not rows:
        return
    table = Base.metadata.tables[model.__tablename__]
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and _plan(table, tuple(rows[0]), dialect) is None:
        raise ValueError(f"copy_rows: give {table.name}'s columns with computed defaults")
    insert_rows(session, table, rows)
