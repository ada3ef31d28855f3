"""Plates read from the evidence photos (issue 20): the reading stored per photo, the "Plate photo" check,
bad photos skipped with the reason, an unavailable reader, the review item's crop, and `plates read`."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.bootstrap import make_app_context
from desktop.demo.photos import street_photo
from desktop.domain.errors import PermissionDenied
from desktop.domain.roles import Role
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, PlateReading
from desktop.services.review import plate_ocr, plates
from desktop.services.review import queue as review
from desktop.services.review.checks import recheck_pending
from tests.helpers.review_data import photo_bytes
from tests.helpers.signed_in import ADMIN_PASSWORD, new_office, signed_in

from .conftest import ISSUED, LA, LAT, LON, add_pending, warnings_of


def readings(app, cid: int) -> list[PlateReading]:
    with app.db.reading() as s:
        return list(s.scalars(select(PlateReading).where(PlateReading.citation_id == cid)
                              .order_by(PlateReading.photo_id)))


def plate_photo(plate: str, seed: int = 3) -> dict:
    return {"data": photo_bytes(plate, ISSUED - timedelta(seconds=40), LAT, LON, seed=seed)}


def test_a_mistyped_plate_is_caught_and_a_correct_one_is_not(reference, actors) -> None:
    right = add_pending(reference, plate="7GAM761")
    mistyped = add_pending(reference, plate="7GAM766", photos=[plate_photo("7GAM761")])
    lookalike = add_pending(reference, plate="7GAM76I", photos=[plate_photo("7GAM761")])
    run = plates.read_plates(reference, actors[Role.CLERK])
    assert run.photos == 3 and run.read == 3 and run.unavailable == ""
    assert run.differs == {review.review_item(reference, actors[Role.CLERK], mistyped).citation_number}
    row = readings(reference, mistyped)[0]
    assert row.status == "read" and row.plate == "7GAM761" and row.plate_key == "7GAM761"
    assert row.confidence is not None and row.confidence > 0.9
    assert row.engine.startswith("rapidocr-onnxruntime 1.4.4") and len(row.box or []) == 4
    assert "plate_photo" not in warnings_of(reference, right)
    assert "plate_photo" not in warnings_of(reference, lookalike)
    warning = warnings_of(reference, mistyped)["plate_photo"]
    assert warning["severity"] == "warning"
    assert warning["data"]["typed"] == "7GAM766" and warning["data"]["read"] == "7GAM761"
    # a second run reads nothing again; the check stays after a full recheck
    assert plates.read_plates(reference, actors[Role.CLERK]).photos == 0
    recheck_pending(reference)
    assert "plate_photo" in warnings_of(reference, mistyped)


def test_the_review_item_shows_the_crop_and_taking_the_read_plate_clears_the_warning(reference, actors) -> None:
    cid = add_pending(reference, plate="7GAM766", photos=[plate_photo("7GAM761")])
    before = review.review_item(reference, actors[Role.CLERK], cid).plate_photo
    assert before is not None and before.state == "pending" and before.crop_png is None
    plates.read_plates(reference, actors[Role.CLERK])
    view = review.review_item(reference, actors[Role.CLERK], cid).plate_photo
    assert view is not None and view.state == "read" and view.agreement == "differs"
    assert view.summary.startswith("Photo 1 reads 7GAM761 (") and "DIFFERS from the typed 7GAM766" in view.summary
    assert view.crop_png is not None and view.crop_png.startswith(b"\x89PNG")
    review.correct(reference, actors[Role.CLERK], cid, "plate", view.plate or "", "plate misread: photo 1")
    assert "plate_photo" not in warnings_of(reference, cid)
    assert review.review_item(reference, actors[Role.CLERK], cid).plate_photo.agreement == "same"  # type: ignore[union-attr]


def test_bad_photos_are_skipped_with_the_reason_and_nothing_else_breaks(reference, actors) -> None:
    failed = add_pending(reference, plate="7ABC123", photos=[{"integrity": "integrity_failed"}])
    corrupt = add_pending(reference, plate="7ABC124", photos=[{"data": b"\xff\xd8\xff\xe0 not really a jpeg" * 20}])
    side_view = street_photo("7ABC125", "CA", "GY", "TOYT", ISSUED.astimezone(LA), LAT, LON, seed=5,
                             caption="context")  # the kerb and a sign: no plate in it
    no_plate = add_pending(reference, plate="7ABC125", photos=[{"data": side_view}])
    tampered = add_pending(reference, plate="7ABC126")
    with reference.db.reading() as s:
        c = s.scalars(select(Citation).where(Citation.id == tampered)).one()
        digest = c.photos[0].sha256
    path = EvidenceStore(reference.paths.evidence_dir).path_for(digest)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"altered")
    run = plates.read_plates(reference, actors[Role.CLERK])
    assert run.skipped == 3
    assert readings(reference, failed)[0].reason == "the photo failed its integrity check"
    assert readings(reference, corrupt)[0].reason == "the photo cannot be decoded"
    assert "does not match its recorded digest" in (readings(reference, tampered)[0].reason or "")
    unread = readings(reference, no_plate)[0]
    assert (unread.status, unread.reason, unread.plate) == ("not_readable", "no plate found in the photo", None)
    assert run.not_readable == 1
    for cid in (failed, corrupt, tampered):
        assert "plate_photo" not in warnings_of(reference, cid)


def test_an_unavailable_reader_is_reported_and_nothing_is_stored(reference, actors, monkeypatch) -> None:
    cid = add_pending(reference, plate="7GAM766", photos=[plate_photo("7GAM761")])
    gone = plate_ocr.EngineStatus(False, "", "the plate model file is missing (ch_PP-OCRv4_rec_infer.onnx)")
    monkeypatch.setattr(plates, "_reader", None)
    monkeypatch.setattr(plates, "engine_status", lambda: gone)
    monkeypatch.setattr("desktop.services.review.plate_readings.engine_status", lambda: gone)
    run = plates.read_plates(reference, actors[Role.CLERK])
    assert run.unavailable == gone.reason and run.photos == 0
    assert run.lines() == [f"Plate photo check unavailable: {gone.reason}. Nothing was read."]
    assert readings(reference, cid) == []
    recheck_pending(reference)
    item = review.review_item(reference, actors[Role.CLERK], cid)
    assert item.plate_photo is not None and item.plate_photo.state == "unavailable"
    assert "plate_photo" not in warnings_of(reference, cid) and "plate_photo" in item.passed


def test_a_missing_or_damaged_model_file_makes_the_check_unavailable(tmp_path: Path) -> None:
    model = tmp_path / "rec.onnx"
    assert "missing" in plate_ocr.check_model(model, None, "v").reason
    model.write_bytes(b"the real model")
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"the real model").digest()).rstrip(b"=").decode()
    assert plate_ocr.check_model(model, digest, "v").available
    model.write_bytes(b"the real mode!")
    damaged = plate_ocr.check_model(model, digest, "v")
    assert not damaged.available and "damaged" in damaged.reason
    with pytest.raises(plate_ocr.ReaderUnavailable, match="damaged"):
        plate_ocr.PlateReader(damaged)
    assert plate_ocr.engine_status().available  # the installed wheel's own model passes its RECORD digest


def test_reading_needs_the_review_permission(reference, actors) -> None:
    add_pending(reference)
    with pytest.raises(PermissionDenied):
        plates.read_plates(reference, actors[Role.MAIL_OFFICE])


def test_plates_read_command(tmp_path, monkeypatch, capsys) -> None:
    data = tmp_path / "data"
    new_office(data)
    paths = AppPaths(data)
    db = Database(paths.default_db_url)
    try:
        app = make_app_context(db, paths)
        add_pending(app, plate="7GAM766", number="CMD-1", photos=[plate_photo("7GAM761")])
        add_pending(app, plate="7GAM761", number="OLD-1", issued_at=ISSUED - timedelta(days=30))
    finally:
        db.dispose()
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    main = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD})
    assert main(["plates", "read", "--since", (ISSUED - timedelta(days=1)).date().isoformat()]) == 0
    out = capsys.readouterr().out
    assert "1 photos read" in out and "1 plates read" in out
    assert "Photo plate differs from the typed plate on 1: CMD-1" in out
    assert main(["plates", "read"]) == 0
    assert "1 photos read" in capsys.readouterr().out  # the older citation's photo, not the first one again
    assert signed_in(monkeypatch, {}, default=None)(["plates", "read"]) == 2


def test_plate_search_also_finds_the_plate_read_from_the_photo(reference, actors) -> None:
    from desktop.services.cases.queries import search_cases

    typed_right = add_pending(reference, plate="7GAM761", number="S-1")
    mistyped = add_pending(reference, plate="7GAM766", number="S-2", photos=[plate_photo("7GAM761")])
    other = add_pending(reference, plate="8XYZ999", number="S-3")
    assert {r.id for r in search_cases(reference, actors[Role.CLERK], "7GAM761")} == {typed_right}
    plates.read_plates(reference, actors[Role.CLERK])
    rows = {r.id: r for r in search_cases(reference, actors[Role.CLERK], "7GAM761")}
    assert set(rows) == {typed_right, mistyped}
    assert rows[mistyped].photo_read and rows[mistyped].plate == "7GAM766"
    assert not rows[typed_right].photo_read
    by_typed = search_cases(reference, actors[Role.CLERK], "7GAM766")
    assert [(r.id, r.photo_read) for r in by_typed] == [(mistyped, False)]
    assert [r.id for r in search_cases(reference, actors[Role.CLERK], "8XYZ999")] == [other]


def test_the_daily_run_reads_the_photos_no_workstation_read(reference, actors) -> None:
    from desktop.services.daily_run import run_daily

    cid = add_pending(reference, plate="7GAM766", photos=[plate_photo("7GAM761")])
    lines = run_daily(reference, actors[Role.SUPERVISOR], ISSUED.date() + timedelta(days=1)).lines()
    assert any(line.startswith("Plate photos: 1 photos read") for line in lines), lines
    assert "plate_photo" in warnings_of(reference, cid)
    again = run_daily(reference, actors[Role.SUPERVISOR], ISSUED.date() + timedelta(days=1)).lines()
    assert any(line.startswith("Plate photos: 0 photos read") for line in again), again


def test_the_daily_run_reads_at_most_its_setting(reference, actors) -> None:
    from desktop.services.core import settings
    from desktop.services.daily_run import run_daily

    for i in range(3):
        add_pending(reference, plate=f"7DRM00{i}", photos=[{"integrity": "integrity_failed"}])
    settings.set_value(reference, actors[Role.ADMIN], "plates.daily_run_max_photos", 2)
    lines = run_daily(reference, actors[Role.SUPERVISOR], ISSUED.date() + timedelta(days=1)).lines()
    assert any(line.startswith("Plate photos: 2 photos read") for line in lines), lines
    assert "  1 more photo waits to be read (at most 2 a daily run): idle workstations read it, or " \
           "`main.py plates read`" in lines


def test_a_photo_read_by_another_workstation_first_keeps_its_reading(pg_app, monkeypatch) -> None:
    """PostgreSQL (several workstations; on SQLite the write lock serialises the readers)."""
    from datetime import UTC, datetime

    from tests.conftest import seed_users
    from tests.helpers.review_data import seed_reference

    reference = pg_app
    seed_reference(reference)
    actors = seed_users(reference)
    cid = add_pending(reference, plate="7GAM761")
    real = plates.read_photo
    raced: list[int] = []

    def first_elsewhere(store, photo, reader, jurisdiction=None):  # type: ignore[no-untyped-def]
        if not raced:  # another workstation commits its reading of this photo while we read it
            raced.append(photo.id)
            with reference.db.write_session() as other:
                other.add(PlateReading(photo_id=photo.id, citation_id=photo.citation_id, sha256=photo.sha256,
                                       status="read", plate="7GAM761", plate_key="7GAM761", confidence=0.9,
                                       engine=reader.version, read_at=datetime(2026, 11, 20, tzinfo=UTC)))
                other.commit()
        return real(store, photo, reader, jurisdiction)

    monkeypatch.setattr(plates, "read_photo", first_elsewhere)
    run = plates.read_plates(reference, actors[Role.CLERK])
    assert raced and run.photos == 0  # our batch gave way; nothing was left to read
    rows = readings(reference, cid)
    assert len(rows) == 1 and rows[0].confidence == 0.9


def test_each_batch_goes_on_from_the_last_photo_of_the_one_before(reference, actors, monkeypatch) -> None:
    """The run starts at the first photo of the citations it reads and each batch takes the photos after the
    last batch's last one (at a million citations the first batch otherwise walked 915,000 older photos:
    1.9 s a batch instead of 1.5 ms)."""
    old = add_pending(reference, plate="7OLD001", issued_at=ISSUED - timedelta(days=90),
                      photos=[{"integrity": "integrity_failed"}])
    recent = [add_pending(reference, plate=f"7NEW00{i}", photos=[{"integrity": "integrity_failed"}])
              for i in range(5)]
    monkeypatch.setattr(plates, "BATCH", 2)
    asked: list[int] = []
    pending = plates._pending

    def spy(session, version, since, limit, in_review_only=False, after=0):
        asked.append(after)
        return pending(session, version, since, limit, in_review_only, after)

    monkeypatch.setattr(plates, "_pending", spy)
    run = plates.read_plates(reference, actors[Role.CLERK], since=(ISSUED - timedelta(days=30)).date())
    assert run.photos == 5 and run.skipped == 5
    assert not readings(reference, old) and all(len(readings(reference, cid)) == 1 for cid in recent)
    photo_ids = [readings(reference, cid)[0].photo_id for cid in recent]
    # from just before the first recent photo, then after the 2nd and the 4th; the last batch finds none
    assert asked == [photo_ids[0] - 1, photo_ids[1], photo_ids[3], photo_ids[4]]


def test_a_run_stops_at_its_most_photos_and_says_how_many_wait(reference, actors, monkeypatch) -> None:
    """The daily run reads at most ``plates.daily_run_max_photos`` (82,000 unread photos at a million
    citations would hold it for 75 minutes at 55 ms a photo); the next run goes on with the rest."""
    cids = [add_pending(reference, plate=f"7CAP00{i}", photos=[{"integrity": "integrity_failed"}]) for i in range(5)]
    monkeypatch.setattr(plates, "BATCH", 2)
    run = plates.read_plates(reference, actors[Role.CLERK], max_photos=3)
    assert run.photos == 3 and run.left == 2
    assert run.lines()[1] == ("2 more photos wait to be read (at most 3 a daily run): idle workstations read them, "
                              "or `main.py plates read`")
    assert [len(readings(reference, cid)) for cid in cids] == [1, 1, 1, 0, 0]
    rest = plates.read_plates(reference, actors[Role.CLERK], max_photos=3)
    assert rest.photos == 2 and rest.left == 0 and len(rest.lines()) == 1


def test_the_reader_works_outside_any_write_transaction(reference, actors, monkeypatch) -> None:
    """SQLite has one write lock: a batch read inside a write transaction kept every other save waiting for up
    to a second at a time while a workstation read plates in the background. While a photo is read, another
    connection can take the write lock at once (``BEGIN IMMEDIATE`` with no wait)."""
    import sqlite3

    cids = [add_pending(reference, plate=f"7LCK00{i}", photos=[plate_photo(f"7LCK00{i}", seed=i)]) for i in range(3)]
    path = reference.db.engine.url.database
    real = plates.read_photo
    free: list[bool] = []

    def while_reading(store, photo, reader, jurisdiction=None):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            free.append(True)
        except sqlite3.OperationalError:  # "database is locked"
            free.append(False)
        finally:
            other.close()
        return real(store, photo, reader, jurisdiction)

    monkeypatch.setattr(plates, "read_photo", while_reading)
    run = plates.read_plates(reference, actors[Role.CLERK])
    assert run.photos == 3 and free == [True, True, True]
    assert all(readings(reference, cid)[0].plate == f"7LCK00{i}" for i, cid in enumerate(cids))


def test_photos_of_the_same_bytes_are_read_once_a_run(reference, actors, monkeypatch) -> None:
    """The reader's answer depends only on the bytes and the typed state: a photo attached to several
    citations (and the million-citation demo's 48 photos shared by a million citations) is read once a run;
    a photo whose file failed its check is still skipped, and another state reads the bytes again."""
    same = plate_photo("7GAM761")
    cids = [add_pending(reference, plate="7GAM761", photos=[same]) for _ in range(3)]
    other_state = add_pending(reference, plate="7GAM761", jurisdiction="NV", photos=[same])
    failed = add_pending(reference, plate="7GAM761", photos=[dict(same, integrity="integrity_failed")])
    real = plates.read_photo
    calls: list[int] = []

    def counted(store, photo, reader, jurisdiction=None):  # type: ignore[no-untyped-def]
        calls.append(photo.citation_id)
        return real(store, photo, reader, jurisdiction)

    monkeypatch.setattr(plates, "read_photo", counted)
    run = plates.read_plates(reference, actors[Role.CLERK])
    assert sorted(calls) == sorted([cids[0], other_state, failed])
    assert run.photos == 5 and run.reused == 2 and run.read == 4 and run.skipped == 1
    first = readings(reference, cids[0])[0]
    for cid in cids[1:]:
        again = readings(reference, cid)[0]
        assert (again.status, again.plate, again.plate_key, again.confidence, again.box, again.engine) == \
               (first.status, first.plate, first.plate_key, first.confidence, first.box, first.engine)
    assert readings(reference, failed)[0].status == "skipped"
    assert "2 the same bytes as a photo read before: its reading is kept)" in run.lines()[0]


def test_the_daily_run_shows_the_plate_step_s_progress_and_a_cancel_after_the_commit_stops_it(
        reference, actors, monkeypatch) -> None:
    """The plate step after the escalation's commit reports its progress (the photos it will read, capped at
    its setting) and a Cancel there stops it at the next batch: the escalation stays committed, the photos
    read stay read, and the report says how many wait. (Before, the dialog showed "Plate photos 0 / 1" for the
    whole step, 2.5 minutes on the demo office, and Cancel did nothing until it ended.)"""
    from desktop.services.core import settings
    from desktop.services.daily_run import run_daily

    for i in range(4):
        add_pending(reference, plate=f"7CNL00{i}", photos=[{"integrity": "integrity_failed"}])
    settings.set_value(reference, actors[Role.ADMIN], "plates.daily_run_max_photos", 3)
    monkeypatch.setattr(plates, "BATCH", 1)
    seen: list[tuple[int, int, str]] = []
    stop: list[bool] = []

    def progress(done: int, total: int, text: str) -> None:
        seen.append((done, total, text))
        if text.startswith("Plate photos: 1 of"):
            stop.append(True)  # Cancel, once the first batch is read

    result = run_daily(reference, actors[Role.SUPERVISOR], ISSUED.date() + timedelta(days=1), progress,
                       cancelled=lambda: bool(stop))
    assert ("Plate photos: 1 of 3 read") in [text for _d, _t, text in seen]
    assert all(total == 3 for _d, total, text in seen if text.startswith("Plate photos:"))
    lines = result.lines()
    assert any(line.startswith("Plate photos: 1 photos read") for line in lines), lines
    assert "  3 more photos wait to be read (stopped by Cancel): idle workstations read them, or " \
           "`main.py plates read`" in lines
    assert result.as_of == ISSUED.date() + timedelta(days=1)  # the escalation ran and committed


def test_a_cancel_before_the_escalation_commits_changes_nothing(reference, actors) -> None:
    """Cancel during the escalation rolls its one transaction back and the later steps do not run."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import func

    from desktop.persistence.models import LedgerEntry
    from desktop.services.daily_run import DailyRunCancelled, run_daily
    from tests.helpers.factories import add_citation

    la = ZoneInfo("America/Los_Angeles")
    for i in range(3):  # open cases long past their first stage: the escalation would post penalties
        add_citation(reference, plate=f"7CNL02{i}", issued_at=datetime(2026, 9, 1 + i, 10, tzinfo=la))
    cid = add_pending(reference, plate="7CNL010", photos=[plate_photo("7CNL010")])
    asked: list[str] = []

    def progress(done: int, total: int, text: str) -> None:
        asked.append(text)

    with pytest.raises(DailyRunCancelled) as stopped:
        run_daily(reference, actors[Role.SUPERVISOR], ISSUED.date() + timedelta(days=1), progress,
                  cancelled=lambda: any(t.startswith("Scheduling") for t in asked))
    # the steps before the escalation committed on their own: the cancel says what they did, not "nothing"
    assert [line.split(":")[0] for line in stopped.value.kept if not line.startswith(" ")] == [
        "Nightly backup", "Appeal deadlines", "Payment plans"]
    with reference.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "penalty")) == 0
    assert readings(reference, cid) == [] and not any(t.startswith("Plate photos") for t in asked)
    result = run_daily(reference, actors[Role.SUPERVISOR], ISSUED.date() + timedelta(days=1))  # and again, whole
    assert result.penalties == 3 and len(readings(reference, cid)) == 1
