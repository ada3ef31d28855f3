"""The review checks' warnings in a narrow table of their own (migration scale_0003, issue 19).

A sync writes the warnings of every citation it brought right after storing it; as columns of ``citations``
that was, on PostgreSQL, a new version of the whole row in each of its fifteen indexes. The migration moves
the warnings an office has into ``citation_warnings`` and back, and the case row is not rewritten when the
warnings change."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from desktop.persistence.migrate import alembic_config, upgrade
from desktop.persistence.models import Citation, CitationWarnings
from desktop.services.core.context import AppContext
from desktop.services.review.check_writes import CheckResults, write_check_results
from desktop.services.review.checks import recheck_citations
from tests.helpers.factories import add_citation

WARNING = [{"code": "hotlist", "severity": "error", "explanation": "On the hot list", "data": {}}]


def _columns(app: AppContext) -> set[str]:
    with app.db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("citations")}


def test_the_migration_moves_the_warnings_out_of_the_case_row_and_back(any_app: AppContext) -> None:
    app = any_app
    flagged = add_citation(app, number="MW-1", status="pending_review")
    clean = add_citation(app, number="MW-2", status="pending_review")
    with app.db.write_session() as s:
        s.get(Citation, flagged).review_warnings = WARNING  # type: ignore[union-attr]
        s.commit()
    app.db.dispose()
    cfg = alembic_config(app.db)
    with app.db.engine.begin() as conn:  # back to the warnings in two columns of the case row
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "scale_0002")
    assert {"review_warnings", "warning_count"} <= _columns(app)
    with app.db.engine.connect() as conn:
        assert not inspect(conn).has_table("citation_warnings")
        rows = dict(conn.execute(text("SELECT id, warning_count FROM citations WHERE id IN (:a, :b)"),
                                 {"a": flagged, "b": clean}).all())
        kept = conn.execute(text("SELECT review_warnings FROM citations WHERE id = :a"), {"a": flagged}).scalar()
    assert rows == {flagged: 1, clean: 0}
    assert "hotlist" in str(kept)
    app.db.dispose()

    assert upgrade(app.db) is not None or app.db.dialect == "postgresql"  # as a release does (a backup first)
    app.db.dispose()
    assert not {"review_warnings", "warning_count"} & _columns(app)
    with app.db.read_session() as s:
        stored = {r.citation_id: (r.count, r.warnings) for r in s.scalars(select(CitationWarnings))}
        assert stored == {flagged: (1, WARNING)}  # only the citation with warnings has a row
        assert s.get(Citation, clean).review_warnings == []  # type: ignore[union-attr]


def test_new_warnings_leave_the_case_row_and_its_version_alone(any_app: AppContext) -> None:
    app = any_app
    cid = add_citation(app, number="MW-3", status="pending_review", plate="HOT123")
    with app.db.read_session() as s:
        before = s.get(Citation, cid).version  # type: ignore[union-attr]
    with app.db.write_session() as s:
        s.get(Citation, cid).review_warnings = WARNING  # type: ignore[union-attr]
        s.commit()
    with app.db.read_session() as s:
        c = s.get(Citation, cid)
        assert c is not None and c.version == before and c.warning_count == 1 and c.review_warnings == WARNING
    with app.db.write_session() as s:  # the checks replace them with what they find
        counts = recheck_citations(s, [cid])
        s.commit()
    with app.db.read_session() as s:
        row = s.scalar(select(CitationWarnings).where(CitationWarnings.citation_id == cid))
        c = s.get(Citation, cid)
        assert c is not None and c.version == before
        assert (row.count if row is not None else 0) == counts[cid] == c.warning_count
        assert "hotlist" not in {w["code"] for w in c.review_warnings}
        assert row is None or row.count > 0  # (no warnings: no row)


def test_warnings_that_went_away_remove_the_row_unless_the_case_changed_since(any_app: AppContext) -> None:
    """``write_check_results`` with no warnings left: the row goes, but not that of a case changed since the
    checks read it (on PostgreSQL the set-based statements, on SQLite one statement a citation)."""
    app = any_app
    ids = [add_citation(app, number=f"MW-G{n}", status="pending_review") for n in range(3)]
    with app.db.write_session() as s:
        for cid in ids:
            s.get(Citation, cid).review_warnings = WARNING  # type: ignore[union-attr]
        s.commit()
    with app.db.read_session() as s:
        versions = dict(s.execute(select(Citation.id, Citation.version).where(Citation.id.in_(ids))).all())
    with app.db.write_session() as s:
        s.execute(Citation.__table__.update().where(Citation.id == ids[1])
                  .values(remarks="changed by a clerk", version=Citation.version + 1))
        write_check_results(s, CheckResults({}, [
            {"b_id": ids[0], "b_version": versions[ids[0]], "b_warnings": [], "b_count": 0},
            {"b_id": ids[1], "b_version": versions[ids[1]], "b_warnings": [], "b_count": 0},
            {"b_id": ids[2], "b_version": versions[ids[2]], "b_warnings": WARNING * 2, "b_count": 2}], []))
        s.commit()
    with app.db.read_session() as s:
        stored = dict(s.execute(select(CitationWarnings.citation_id, CitationWarnings.count)).all())
    assert stored == {ids[1]: 1, ids[2]: 2}
