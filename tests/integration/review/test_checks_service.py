"""Each review check through the service, on data in the database (and real photos where we have them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from desktop.domain.roles import Role
from desktop.persistence.models import (
    Citation,
    CitationWarnings,
    EvidencePhoto,
    HotlistEntry,
    Permit,
    PermitPlate,
    Setting,
)
from desktop.services.review import queue as review
from desktop.services.review.check_writes import CheckResults, write_check_results
from desktop.services.review.checks import recheck_citations, run_review_checks
from tests.helpers.factories import add_citation

from .conftest import ISSUED, LA, LAT, ZONE, add_pending, warnings_of

DATA = Path("/work/shared/data")


def codes(app, cid) -> set[str]:
    return set(warnings_of(app, cid))


def check(app, cid) -> set[str]:
    run_review_checks(app, cid)
    return codes(app, cid)


def test_a_clean_citation_has_no_warning(pending, reference) -> None:
    cid = pending()
    outcome = run_review_checks(reference, cid)
    assert [r.code for r in outcome.results if not r.ok] == []
    assert codes(reference, cid) == set()
    assert outcome.registered_make == "TOYT"
    assert outcome.zones.area is not None and outcome.zones.area.code == ZONE


def test_photo_time_far_from_issue_or_missing(pending, reference) -> None:
    far = pending(photos=[{"taken": ISSUED - timedelta(minutes=40)}])
    check(reference, far)
    w = warnings_of(reference, far)
    assert "photo_time" in w and "40 min" in w["photo_time"]["explanation"]
    # No EXIF time and no declared time: the photo has no time.
    blank = _jpeg_without_exif()
    untimed = pending(photos=[{"data": blank, "declared_taken_at": None}])
    assert "photo_time" in check(reference, untimed)
    assert warnings_of(reference, untimed)["photo_time"]["explanation"] == "1 photo(s) have no time."


def test_photo_time_uses_the_exif_time_over_the_declared_one(pending, reference) -> None:
    # The handheld declared a time close to the issue; the camera's own EXIF says an hour earlier.
    cid = pending(photos=[{"taken": ISSUED - timedelta(hours=1), "declared_taken_at": ISSUED}])
    assert "photo_time" in check(reference, cid)


def test_photo_gps_far_from_the_citation(pending, reference) -> None:
    cid = pending(photos=[{"lat": LAT + 0.01}])  # about 1.1 km north
    check(reference, cid)
    w = warnings_of(reference, cid)
    assert "photo_location" in w
    assert list(w["photo_location"]["data"]["distances_m"].values())[0] == pytest.approx(1112, abs=5)


def test_real_exif_gps_western_longitude_and_empty_gps_block(pending, reference) -> None:
    """iphone_hdr_NO.jpg: N40°26'49" W3°43'29" (Madrid); Canon_40D.jpg: GPS block present but empty."""
    madrid = (DATA / "photos_exif" / "misc" / "iphone_hdr_NO.jpg").read_bytes()
    cid = pending(lat=40.4470, lon=-3.7248, zone_code=None,
                  photos=[{"data": madrid, "declared_taken_at": ISSUED}])
    run_review_checks(reference, cid)
    with reference.db.reading() as s:
        exif = s.scalars(select(EvidencePhoto.exif).where(EvidencePhoto.citation_id == cid)).one()
    assert exif["longitude"] < 0 and exif["latitude"] == pytest.approx(40.447, abs=0.001)
    assert "photo_location" not in codes(reference, cid)
    # Same photo against a citation written in Los Angeles: thousands of kilometres away.
    la = pending(photos=[{"data": madrid, "declared_taken_at": ISSUED}])
    assert "photo_location" in check(reference, la)
    canon = (DATA / "photos_exif" / "misc" / "Canon_40D.jpg").read_bytes()
    empty = pending(photos=[{"data": canon, "declared_taken_at": ISSUED - timedelta(seconds=30)}])
    outcome = run_review_checks(reference, empty)
    location = next(r for r in outcome.results if r.code == "photo_location")
    assert location.ok and "No photo carries a GPS position" in location.explanation


def test_valid_permit_for_plate_and_zone_at_that_time(pending, reference) -> None:
    cid = pending()
    with reference.db.write_session() as s:
        good = Permit(permit_number="RPP-1", type="residential", zones=[ZONE], valid_from=ISSUED - timedelta(days=30),
                      valid_to=ISSUED + timedelta(days=300), status="active")
        good.plates.append(PermitPlate(plate="7ABC123", jurisdiction="CA"))
        s.add(good)
        s.commit()
    check(reference, cid)
    w = warnings_of(reference, cid)
    assert w["valid_permit"]["data"]["permit_number"] == "RPP-1"
    with reference.db.write_session() as s:
        p = s.scalars(select(Permit)).one()
        p.valid_to = ISSUED - timedelta(days=1)  # expired before the citation
        s.commit()
    assert "valid_permit" not in check(reference, cid)
    with reference.db.write_session() as s:
        p = s.scalars(select(Permit)).one()
        p.valid_to, p.zones = ISSUED + timedelta(days=1), ["Z-OTHER"]  # valid, but elsewhere
        s.commit()
    assert "valid_permit" not in check(reference, cid)


def test_plate_format_and_hotlist(pending, reference) -> None:
    misread = pending(plate="7ABC12")
    check(reference, misread)
    w = warnings_of(reference, misread)
    assert w["plate_format"]["severity"] == "warning"
    stolen = pending(plate="8XYZ999")
    with reference.db.write_session() as s:
        s.add(HotlistEntry(plate="8XYZ999", jurisdiction="CA", reason="stolen", since=ISSUED - timedelta(days=3)))
        s.add(HotlistEntry(plate="8XYZ999", jurisdiction="CA", reason="scofflaw", since=ISSUED, active=False))
        s.commit()
    check(reference, stolen)
    w = warnings_of(reference, stolen)
    assert w["hotlist"]["explanation"] == "Hot list: stolen."


def test_make_against_the_owner_registered_on_the_violation_date(pending, reference) -> None:
    # On 20 November the plate is registered as a Toyota (it was a Honda until October).
    honda = pending(make="HOND")
    check(reference, honda)
    w = warnings_of(reference, honda)
    assert w["make_mismatch"]["severity"] == "error"
    assert w["make_mismatch"]["data"] == {"cited": "Honda", "registered": "Toyota"}
    october = pending(make="HONDA", issued_at=datetime(2026, 10, 20, 17, 0, tzinfo=UTC),
                      photos=[{"taken": datetime(2026, 10, 20, 16, 59, tzinfo=UTC)}])
    assert "make_mismatch" not in check(reference, october)


def test_duplicates_and_voiding_one_clears_the_other(pending, reference, actors) -> None:
    first = pending(number="HH0001-000001")
    second = pending(number="HH0002-000001", issued_at=ISSUED + timedelta(minutes=9), lat=LAT + 0.0001,
                     photos=[{"taken": ISSUED + timedelta(minutes=8)}])
    far_later = pending(number="HH0003-000001", issued_at=ISSUED + timedelta(hours=3),
                        photos=[{"taken": ISSUED + timedelta(hours=3)}])
    with reference.db.write_session() as s:
        recheck_citations(s, [first, second, far_later], evidence_dir=reference.paths.evidence_dir)
        s.commit()
    assert warnings_of(reference, first)["duplicate"]["data"]["duplicates"] == ["HH0002-000001"]
    assert warnings_of(reference, second)["duplicate"]["data"]["duplicates"] == ["HH0001-000001"]
    assert "duplicate" not in codes(reference, far_later)
    review.void(reference, actors[Role.CLERK], second, "DUPLICATE", "same car, second officer")
    assert "duplicate" not in codes(reference, first)


def test_fine_against_the_schedule_on_the_issue_date(pending, reference) -> None:
    cheap = pending(handheld_fine_cents=5800)
    check(reference, cheap)
    w = warnings_of(reference, cheap)
    assert w["fine_schedule"]["data"]["problems"]["88.13B+"] == {"handheld_cents": 5800, "schedule_cents": 6300}
    # In June 2025 the schedule said 58.00: the same handheld amount is right then.
    old = pending(handheld_fine_cents=5800, fine_cents=5800, issued_at=datetime(2025, 6, 20, 17, 0, tzinfo=UTC),
                  photos=[{"taken": datetime(2025, 6, 20, 16, 59, tzinfo=UTC)}])
    assert "fine_schedule" not in check(reference, old)
    unknown = pending(code="99.99Z")
    check(reference, unknown)
    assert warnings_of(reference, unknown)["fine_schedule"]["data"]["problems"] == {"99.99Z": "not in the fine schedule"}


def test_zone_rules_time_and_chalk(pending, reference) -> None:
    sunday = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)  # 11:00 Sunday in LA: no meters on Sundays
    cid = pending(issued_at=sunday, photos=[{"taken": sunday - timedelta(seconds=30)}])
    check(reference, cid)
    w = warnings_of(reference, cid)
    assert "Meters not in force at Sun 11:00" in w["zone_rules"]["explanation"]
    chalked = pending(code="80.69C", observations=[
        {"kind": "chalk", "first_seen_at": (ISSUED - timedelta(minutes=50)).isoformat(),
         "second_seen_at": (ISSUED - timedelta(minutes=1)).isoformat()}])
    check(reference, chalked)
    w = warnings_of(reference, chalked)
    assert "Limit not exceeded" in w["zone_rules"]["explanation"]
    # Chalked at 08:30, cited at 13:15: well over two hours. (At 09:15 it would not be: minutes before
    # the meters start at 08:00 do not count.)
    afternoon = ISSUED + timedelta(hours=4)
    long_parked = pending(code="80.69C", plate="6DEF456", issued_at=afternoon,
                          photos=[{"taken": afternoon - timedelta(seconds=20)}], observations=[
                              {"kind": "chalk", "first_seen_at": (afternoon - timedelta(minutes=285)).isoformat()}])
    assert "zone_rules" not in check(reference, long_parked)
    sweeping = pending(code="80.69BS", plate="5GHJ789")  # Friday; the district sweeps on Tuesdays
    check(reference, sweeping)
    assert "Outside the street-cleaning window" in warnings_of(reference, sweeping)["zone_rules"]["explanation"]


def test_late_arrival(pending, reference) -> None:
    cid = pending(received_after=timedelta(hours=30))
    check(reference, cid)
    w = warnings_of(reference, cid)
    assert w["late_arrival"]["data"] == {"hours": 30.0}


def test_evidence_failed_or_missing(pending, reference) -> None:
    failed = pending(photos=[{"integrity": "integrity_failed"}])
    check(reference, failed)
    assert warnings_of(reference, failed)["evidence_integrity"]["severity"] == "error"
    gone = pending(photos=[{"store": False, "taken": ISSUED - timedelta(seconds=55)}])  # marked verified, but the file is not in the store
    check(reference, gone)
    w = warnings_of(reference, gone)
    assert w["evidence_integrity"]["data"]["missing"]
    nothing = pending(photos=[])
    assert "photo_time" in check(reference, nothing)


def test_settings_move_the_thresholds(pending, reference) -> None:
    cid = pending(photos=[{"taken": ISSUED - timedelta(minutes=20)}])
    assert "photo_time" in check(reference, cid)
    with reference.db.write_session() as s:
        s.add(Setting(key="review.photo_minutes", value=30))
        s.commit()
    assert "photo_time" not in check(reference, cid)


def test_recheck_is_a_fixed_number_of_queries(reference) -> None:
    """The ingest pipeline calls this per batch: the number of queries must not grow with the batch."""
    few = [add_pending(reference, plate=f"7AB{i:04d}"[:7]) for i in range(2)]
    many = [add_pending(reference, plate=f"8CD{i:04d}"[:7]) for i in range(30)]

    def count(ids: list[int]) -> int:
        statements = []
        with reference.db.write_session() as s:
            listener = lambda *a: statements.append(a[2])  # noqa: E731
            event.listen(reference.db.engine, "before_cursor_execute", listener)
            try:
                recheck_citations(s, ids, evidence_dir=reference.paths.evidence_dir)
                s.commit()
            finally:
                event.remove(reference.db.engine, "before_cursor_execute", listener)
        return sum(1 for st in statements if st.lstrip().upper().startswith("SELECT"))

    count(few)  # warm the zone cache
    assert count(many) <= count(few) + 1


def test_recheck_leaves_decided_citations_alone(reference) -> None:
    cid = add_pending(reference, status="open", make="HOND")
    assert recheck_citations(_session(reference), [cid]) == {}


def _session(app):
    return app.db.write_session()


def _jpeg_without_exif() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(buf, "JPEG")
    return buf.getvalue()


def test_zones_and_citation_times_are_local(reference, pending) -> None:
    # 07:30 local on a Friday: the meters start at 08:00.
    early = datetime(2026, 11, 20, 7, 30, tzinfo=LA)
    cid = pending(issued_at=early, photos=[{"taken": early}])
    assert "zone_rules" in check(reference, cid)
    assert date(2026, 11, 20) == early.date()


@pytest.mark.parametrize("any_app", ["sqlite", "postgresql"], indirect=True)
def test_written_warnings_skip_a_row_changed_since_and_two_batches_share_a_transaction(any_app) -> None:
    """``write_check_results``: each row written only under the version the checks read; a row someone changed
    since keeps its own; a second batch in the same transaction, and a transaction after one rolled back,
    write theirs too. The warnings live in their own table: the case row (and its version) is not rewritten."""
    app = any_app
    ids = [add_citation(app, number=f"W-{n}", status="pending_review") for n in range(4)]
    with app.db.read_session() as s:
        versions = dict(s.execute(select(Citation.id, Citation.version).where(Citation.id.in_(ids))).all())
    warning = [{"code": "NO_PHOTO", "severity": "warning", "message": "No evidence photo"}]

    def results(*cids: int) -> CheckResults:
        return CheckResults(counts={}, changed=[{"b_id": c, "b_version": versions[c], "b_warnings": warning,
                                                 "b_count": 1} for c in cids], exif=[])

    with app.db.write_session() as s:  # written, then undone: nothing stays
        write_check_results(s, results(ids[3]))
        s.rollback()
    with app.db.write_session() as s:
        s.execute(Citation.__table__.update().where(Citation.id == ids[1])
                  .values(remarks="changed by a clerk", version=Citation.version + 1))
        write_check_results(s, results(ids[0], ids[1]))
        write_check_results(s, results(ids[2]))
        s.commit()
    with app.db.read_session() as s:
        rows = {r.id: r for r in s.scalars(select(Citation).where(Citation.id.in_(ids)))}
    assert [rows[c].warning_count for c in ids] == [1, 0, 1, 0]
    assert rows[ids[0]].review_warnings == warning and rows[ids[1]].review_warnings == []
    assert [rows[c].version - versions[c] for c in ids] == [0, 1, 0, 0]  # (only the clerk's change)
    with app.db.read_session() as s:
        stored = dict(s.execute(select(CitationWarnings.citation_id, CitationWarnings.count)).all())
    assert stored == {ids[0]: 1, ids[2]: 1}
    assert rows[ids[1]].remarks == "changed by a clerk"
