"""Appeals speed: the docket of a busy office and the one-click evidence packet, each against a baseline
measured in the same run.

Run: pytest tests/benchmarks/bench_appeals.py --benchmark-only -p no:randomly
- docket: `list_appeals` over 3,000 open appeals (profile, level, days left, hearing per row) against a
  bare SQLAlchemy Core select of the same rows (what the database alone costs). Target: under 1 s, so the
  screen refreshes without a wait.
- packet: `build_packet` of an appeal with three real evidence photos (re-hashing every file, EXIF, the
  map, print derivatives, audit) against rendering the same packet data with ReportLab alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, Citation, LedgerEntry
from desktop.services import appeals
from desktop.services.appeals.packet import build_packet, load_workspace, packet_data
from desktop.services.cases.queries import plate_key
from reports.hearing import HearingPacket
from tests.integration.appeals.conftest import make_case, pdf_bytes, png_bytes
from tests.integration.appeals.test_intake_and_decisions import request

OPEN_APPEALS = 3000
_measured: dict[str, float] = {}


def _bulk_appeals(app, n: int) -> None:
    issued = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    with app.db.write_session() as s:
        citations = [{"id": i + 1, "citation_number": f"B{i:07d}", "officer_badge": "1", "issued_at": issued,
                          "received_at": issued, "plate": f"7B{i:05d}", "plate_key": plate_key(f"7B{i:05d}"), "jurisdiction": "CA",
                          "lat": 34.05, "lon": -118.25, "violation_code": "88.13B+", "violation_description": "METER EXP.",
                          "fine_cents": 6300, "observations": [], "status": "under_appeal", "evidence_status": "ok",
                          "signature_state": "unsigned",
                          "profile_code": ["CA", "ENG", "NYC"][i % 3], "profile_version": 1, "on_hold": True, "version": 1}
                     for i in range(n)]
        s.execute(insert(Citation), citations)
        s.execute(insert(LedgerEntry), [{"citation_id": i + 1, "kind": "fine", "amount_cents": 6300, "at": issued,
                                             "effective_date": issued.date(), "dedupe_key": "fine"} for i in range(n)])
        level = {"CA": "initial_review", "ENG": "representations", "NYC": "dispute"}
        s.execute(insert(Appeal), [{"citation_id": i + 1, "level": level[c["profile_code"]], "channel": "mail",
                                        "appellant_name": f"Appellant {i}", "grounds": ["did_not_occur"], "statement": "x",
                                        "filed_at": issued + timedelta(hours=i % 500),
                                        "decide_by": date(2026, 12, 1) + timedelta(days=i % 60), "status": "open"}
                                   for i, c in enumerate(citations)])
        s.commit()


@pytest.fixture
def busy_office(app):
    _bulk_appeals(app, OPEN_APPEALS)
    return app


def test_bench_docket_baseline_core_select(benchmark, busy_office) -> None:  # type: ignore[no-untyped-def]
    """Baseline: the database alone, the same join and order, no rules applied."""
    def run() -> int:
        with busy_office.db.reading() as s:
            return len(s.execute(select(Appeal.id, Appeal.decide_by, Citation.citation_number, Citation.plate,
                                        Citation.profile_code, Citation.issued_at)
                                 .join(Citation, Citation.id == Appeal.citation_id)
                                 .where(Appeal.status.in_(("open", "scheduled")))
                                 .order_by(Appeal.decide_by, Appeal.id)).all())

    assert benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1) == OPEN_APPEALS
    _measured["docket_baseline"] = benchmark.stats.stats.median


def test_bench_docket_list_appeals(benchmark, busy_office, actors) -> None:  # type: ignore[no-untyped-def]
    actor = actors[Role.HEARING_OFFICER]
    rows = benchmark.pedantic(lambda: appeals.list_appeals(busy_office, actor, limit=OPEN_APPEALS),
                              rounds=5, iterations=1, warmup_rounds=1)
    assert len(rows) == OPEN_APPEALS and rows == sorted(rows, key=lambda r: (r.days_left, r.appeal_id))
    median = benchmark.stats.stats.median
    base = _measured.get("docket_baseline")
    benchmark.extra_info.update(rows=OPEN_APPEALS, median_s=round(median, 4))
    if base:
        benchmark.extra_info["vs_core_select"] = round(median / base, 1)
        print(f"\nlist_appeals {OPEN_APPEALS}: {median * 1000:.0f} ms (Core select {base * 1000:.0f} ms, "
              f"x{median / base:.1f})")
    assert median < 1.0, f"the docket of {OPEN_APPEALS} open appeals took {median:.2f} s"


def test_bench_docket_with_the_recently_decided(benchmark, busy_office, actors) -> None:  # type: ignore[no-untyped-def]
    """The screen's default since issue 16: the open appeals and those closed in the last 7 days (here a
    tenth of them decided yesterday), against the open-only docket measured above in the same run."""
    with busy_office.db.write_session() as s:
        s.execute(update(Appeal).where(Appeal.id % 10 == 0)
                  .values(status="decided", decision="upheld", decided_at=busy_office.now() - timedelta(days=1)))
        s.commit()
    actor = actors[Role.HEARING_OFFICER]
    rows = benchmark.pedantic(lambda: appeals.list_appeals(busy_office, actor, limit=OPEN_APPEALS,
                                                           decided_within_days=7),
                              rounds=5, iterations=1, warmup_rounds=1)
    assert len(rows) == OPEN_APPEALS and sum(r.status == "decided" for r in rows) == OPEN_APPEALS // 10
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(rows=OPEN_APPEALS, median_s=round(median, 4))
    print(f"\nlist_appeals {OPEN_APPEALS} open + decided this week: {median * 1000:.0f} ms")
    assert median < 1.0


@pytest.fixture
def one_appeal(app, actors):
    cid = make_case(app, photos=3, zone=True)
    aid = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, documents=[("receipt.pdf", pdf_bytes(pages=2)), ("sign.png", png_bytes())])).appeal_id
    return aid


def test_bench_packet_baseline_reportlab_only(benchmark, app, actors, one_appeal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Baseline: the same packet data laid out by ReportLab, nothing gathered or verified."""
    actor = actors[Role.HEARING_OFFICER]
    data = packet_data(app, actor, load_workspace(app, actor, one_appeal), tmp_path / "deriv")
    pdf = benchmark.pedantic(lambda: HearingPacket(data).render(), rounds=5, iterations=1, warmup_rounds=1)
    assert pdf.startswith(b"%PDF")
    _measured["packet_baseline"] = benchmark.stats.stats.median


def test_bench_packet_one_click(benchmark, app, actors, one_appeal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    actor = actors[Role.HEARING_OFFICER]
    out = tmp_path / "packet.pdf"
    path = benchmark.pedantic(lambda: build_packet(app, actor, one_appeal, out), rounds=5, iterations=1,
                              warmup_rounds=1)
    assert path.stat().st_size > 20_000
    median = benchmark.stats.stats.median
    base = _measured.get("packet_baseline")
    benchmark.extra_info.update(median_s=round(median, 4))
    if base:
        benchmark.extra_info["vs_reportlab_only"] = round(median / base, 1)
        print(f"\nbuild_packet: {median * 1000:.0f} ms (ReportLab alone {base * 1000:.0f} ms, x{median / base:.1f})")
    assert median < 3.0


def test_bench_packet_with_the_appellants_pdf_appended(benchmark, app, actors, one_appeal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The packet as the renderer now prints it (the appellant's 2-page PDF appended after a title sheet),
    against the same run's ReportLab-only baseline above: what reproducing the appellant's file costs."""
    from reports.hearing import render_packet

    actor = actors[Role.HEARING_OFFICER]
    data = packet_data(app, actor, load_workspace(app, actor, one_appeal), tmp_path / "deriv")
    pdf = benchmark.pedantic(lambda: render_packet(data), rounds=5, iterations=1, warmup_rounds=1)
    assert pdf.startswith(b"%PDF")
    median = benchmark.stats.stats.median
    base = _measured.get("packet_baseline")
    if base:
        benchmark.extra_info["vs_reportlab_only"] = round(median / base, 2)
        print(f"\nrender_packet with the appellant's PDF: {median * 1000:.0f} ms (ReportLab alone "
              f"{base * 1000:.0f} ms, +{(median - base) * 1000:.0f} ms)")
    assert median < 3.0
