"""The review checks' findings written: the warnings of a batch of new citations, into ``citation_warnings``.

The writing half of :func:`desktop.services.review.checks.check_new_citations` (the sync's checks compute on
a helper process, ``checks_process``, and the sync writes what they found in its next transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from desktop.persistence.db import json_text
from desktop.persistence.models import Citation, CitationWarnings, EvidencePhoto


@dataclass
class CheckResults:
    """What :func:`compute_new_citation_checks` found, to write with :func:`write_check_results` (plain values:
    they cross from the process that computed them to the one that writes them)."""

    #: citation id -> number of warnings
    counts: dict[int, int]
    #: the rows whose warnings change: b_id, b_version (as read), b_warnings, b_count
    changed: list[dict[str, Any]]
    #: photos whose EXIF summary was read from the file: b_citation, b_sha, b_exif
    exif: list[dict[str, Any]]


def write_check_results(session: Session, results: CheckResults) -> None:
    """The writing half of :func:`check_new_citations`, in the caller's transaction: each changed citation's
    warnings (its row of ``citation_warnings``: written, replaced, or removed when none are left) only if the
    case is still the version the checks read (a case someone changed since is theirs: its own checks wrote
    its warnings). The case row itself is not written (see :class:`CitationWarnings`). On PostgreSQL a batch
    is two statements over arrays (a statement a citation cost more than the rows: 30,000 of them, each a
    round of parse, plan and execute on the server); on SQLite, in process, one statement run for each."""
    changed, exif = results.changed, results.exif
    found = [r for r in changed if r["b_count"]]
    gone = [r for r in changed if not r["b_count"]]
    if changed and session.get_bind().dialect.name == "postgresql":
        unchanged = "JOIN citations c ON c.id = u.id AND c.version = u.v"
        if found:
            session.execute(text(f"""
                INSERT INTO citation_warnings (citation_id, warnings, count)
                SELECT u.id, u.w, u.n FROM unnest(CAST(:ids AS bigint[]), CAST(:vs AS integer[]),
                                                  CAST(:ws AS json[]), CAST(:ns AS integer[])) AS u(id, v, w, n)
                {unchanged}
                ON CONFLICT (citation_id) DO UPDATE SET warnings = EXCLUDED.warnings, count = EXCLUDED.count"""),
                {"ids": [r["b_id"] for r in found], "vs": [r["b_version"] for r in found],
                 "ws": [json_text(r["b_warnings"]) for r in found], "ns": [r["b_count"] for r in found]})
        if gone:
            session.execute(text(f"""
                DELETE FROM citation_warnings w USING unnest(CAST(:ids AS bigint[]), CAST(:vs AS integer[]))
                                                      AS u(id, v) {unchanged}
                WHERE w.citation_id = u.id"""),
                {"ids": [r["b_id"] for r in gone], "vs": [r["b_version"] for r in gone]})
    elif changed:
        citations, table = cast(Table, Citation.__table__), cast(Table, CitationWarnings.__table__)
        unchanged_row = select(citations.c.id).where(citations.c.id == bindparam("b_id"),
                                                     citations.c.version == bindparam("b_version")).exists()
        if found:
            values = select(bindparam("b_id", type_=table.c.citation_id.type),
                            bindparam("b_warnings", type_=table.c.warnings.type),
                            bindparam("b_count", type_=table.c.count.type)).where(unchanged_row)
            upsert = sqlite_insert(table).from_select(["citation_id", "warnings", "count"], values)
            session.execute(upsert.on_conflict_do_update(
                index_elements=[table.c.citation_id],
                set_={"warnings": upsert.excluded.warnings, "count": upsert.excluded.count}), found)
        if gone:
            session.execute(delete(table).where(table.c.citation_id == bindparam("b_id"), unchanged_row)
                            .execution_options(synchronize_session=False),
                            [{"b_id": r["b_id"], "b_version": r["b_version"]} for r in gone])
    if exif:
        table = cast(Table, EvidencePhoto.__table__)
        session.execute(update(table).where(table.c.citation_id == bindparam("b_citation"),
                                            table.c.sha256 == bindparam("b_sha"))
                        .values(exif=bindparam("b_exif", type_=table.c.exif.type))
                        .execution_options(synchronize_session=False), exif)
