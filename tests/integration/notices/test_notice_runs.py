"""Notice runs from the database: content per profile, barcodes, held pieces, cancel, batches on disk."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reportlab.graphics.barcode.usps4s import USPS_4State
from sqlalchemy import func, select

from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Notice, NoticeBatch, Setting
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as nr
from reports import geometry as geo
from reports.base import code128_bars
from tests.helpers.notice_cases import queue_case, store_photo
from tests.integration.reports.pdfprobe import reader, rects, text_runs

PHOTOS = Path("/work/shared/data/photos_exif")
LA = ZoneInfo("America/Los_Angeles")


def _text(pdf: bytes, page: int | None = None) -> str:
    pages = reader(pdf).pages if page is None else [reader(pdf).pages[page]]
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


def _notice(app: AppContext, notice_id: int) -> Notice:
    with app.db.reading() as s:
        n = s.get(Notice, notice_id)
        assert n is not None
        return n


def _number(app: AppContext, citation_id: int) -> str:
    from desktop.persistence.models import Citation

    with app.db.reading() as s:
        c = s.get(Citation, citation_id)
        assert c is not None
        return c.citation_number


def _pages_by_citation(pdf: bytes) -> dict[str, int]:
    out = {}
    for i, page in enumerate(reader(pdf).pages):
        m = re.search(r"(T\d{7})", page.extract_text())
        assert m
        out[m.group(1)] = i
    return out


def test_california_run_prints_what_the_law_requires_from_the_database(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    ids = [queue_case(app) for _ in range(3)]
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out")
    assert result.printed == 3 and result.held_count == 0 and not result.cancelled
    [batch] = result.batches
    assert batch.path.exists() and batch.path.parent == tmp_path / "out" and batch.pages == 3
    assert not list((tmp_path / "out").glob("*.part"))
    pdf = batch.path.read_bytes()
    assert len(reader(pdf).pages) == 3
    t = _text(pdf, 0)
    # the penalty, what is due and by when (delinquent penalty = 100 % of the $63 fine, from the ledger)
    assert "NOTICE OF DELINQUENT PARKING VIOLATION" in t
    assert "Fine $63.00" in t and "Penalties added $63.00" in t and "$126.00" in t
    # notice date = run date (Nov 24); 14 days to contest from mailing; final notice 30 days after mailing
    assert "November 24, 2026" in t and "Contest by December 8, 2026" in t and "Pay by December 23, 2026" in t
    # where and how to pay, that payment may be sent by mail, and how to contest
    assert "pay.example.gov" in t and "Payment may be sent by mail" in t and "payable to City of Los Angeles" in t
    assert "How to contest" in t and "initial review" in t and "40215" in t and "21 days" in t
    assert "MAIL PAYMENT TO" in t and "PO Box 30420" in t
    # the owner from the registry, as USPS Pub. 28 wants it
    assert "MARIA GARCIA" in t and "4410 W OLYMPIC BLVD APT 12" in t and "LOS ANGELES CA 90019" in t
    with app.db.reading() as s:
        rows = list(s.scalars(select(Notice).order_by(Notice.id)))
        b = s.get(NoticeBatch, batch.batch_id)
    assert b is not None and b.status == "rendered" and b.piece_count == 3 and b.page_count == 3
    assert b.file_path == str(batch.path)
    assert [r.status for r in rows] == ["printed"] * 3 and {r.batch_id for r in rows} == {b.id}
    serials = sorted(r.serial or 0 for r in rows)
    assert serials == list(range(serials[0], serials[0] + 3))
    assert {_notice(app, nid).mailed_at for _cid, nid in ids} == {None}  # not mailed until confirmed


def test_agency_wording_and_names_are_settings(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.services.core import settings

    admin = actors[Role.ADMIN]
    settings.set_value(app, admin, "agency.name", "City of Riverside Bay")
    settings.set_value(app, admin, "agency.pay_url", "https://rb.example.gov/p/{citation_number}")
    settings.set_value(app, admin, "agency.web_url", "rb.example.gov")
    settings.set_value(app, admin, "agency.wording", {"plan": "<b>Payment plan.</b> Ask us about Riverside Bay's plan."})
    queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    t = _text(batch.path.read_bytes())
    assert "City of Riverside Bay" in t and "Riverside Bay's plan" in t and "rb.example.gov" in t
    assert "$25 a month" not in t


def test_new_york_and_england_notices_follow_their_profiles(app: AppContext, actors: dict[Role, Actor],
                                                            tmp_path: Path) -> None:
    issued = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)  # 35 days before the run
    queue_case(app, profile="NYC", kind="penalty_notice", stage="penalty_30", fine_cents=6500, penalty_cents=1000,
               issued_at=issued)
    uk = {"address_line1": "14 Orchard Rise", "city": "Ashford Vale", "state": "Kent", "zip": "AV3 7QT"}
    queue_case(app, profile="ENG", kind="notice_to_owner", stage="notice_to_owner", fine_cents=7000, penalty_cents=0,
               issued_at=issued, owner_kwargs=dict(name="Mr Thomas Ellery", **uk))
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 2 and len(result.batches) == 2, result.summary()
    by_kind = {b.kind: _text(b.path.read_bytes()) for b in result.batches}
    nyc = by_kind["penalty_notice"]
    assert "NOTICE OF PENALTY" in nyc and "$75.00" in nyc  # $65 + $10 at 30 days
    assert "+$20.00" in nyc and "$95.00" in nyc and "+$30.00" in nyc and "$125.00" in nyc  # the ladder ahead
    assert "Payment may be sent by mail" in nyc and "How to dispute" in nyc
    eng = by_kind["notice_to_owner"]
    assert "NOTICE TO OWNER" in eng and "\u00a370.00" in eng and "\u00a3105.00" in eng
    assert "28 days" in eng and "deemed accepted" in eng and "Charge Certificate" in eng
    assert "Mr Thomas Ellery" in eng and "AV3 7QT" in eng
    # posted Tuesday 24 November, served Thursday 26th; 28 days beginning with the day of service end 23 December
    assert "Contest by 23 December 2026" in eng
    assert "Contest by" not in nyc  # the 30 days to dispute ran out before this notice: no past date printed


def _imb_bars(pdf: bytes, layout: geo.AddressBlockLayout) -> list[tuple[float, float, float, float]]:
    assert layout.imb is not None
    return sorted((r for r in rects(pdf) if layout.imb.contains(geo.Rect(*r), tolerance=0.01)), key=lambda r: r[0])


def test_imb_and_code128_encode_the_piece_and_sit_where_the_envelope_needs_them(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.services.core import settings

    settings.set_value(app, actors[Role.ADMIN], "mail.mailer_id", "902345678")  # a 9-digit Mailer ID
    settings.set_value(app, actors[Role.ADMIN], "mail.next_serial", 123456)
    cid, nid = queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    pdf = batch.path.read_bytes()
    n = _notice(app, nid)
    assert n.serial == 123456
    tracking = "00" + "300" + "902345678" + "123456"  # barcode id, service type, Mailer ID, 6-digit serial
    widget = USPS_4State(tracking, "90019")  # routing = the ZIP code
    widget.widthSize, widget.heightSize = geo.IMB_WIDTH_SIZE, geo.IMB_HEIGHT_SIZE
    widget.computeSize()
    lines = 3  # name, delivery line, last line
    layout = geo.address_block_layout(geo.US_LETTER_NO10, lines, with_imb=True)
    bars = _imb_bars(pdf, layout)
    assert len(bars) == 65
    v = widget._getBarVInfo(widget.verticalClearZone + widget.barHeight * 0.5)
    assert layout.imb is not None
    expected = {k: (layout.imb.y + y, h) for k, (y, h) in v.items()}
    drawn = "".join(next(k for k, (ey, eh) in expected.items() if abs(ey - y) < 0.05 and abs(eh - h) < 0.05)
                    for _x, y, _w, h in bars)
    assert drawn == widget.barcodes
    # Clear zones (USPS-B-3200: 1/8 in left and right) and the window with its clearance, insert slid either way
    assert bars[0][0] >= layout.imb.x + 0.125 * geo.INCH - 0.01
    assert bars[-1][0] + bars[-1][2] <= layout.imb.right - 0.125 * geo.INCH + 0.01
    insert = geo.US_LETTER_NO10
    window = insert.envelope.address_window
    assert layout.imb_bars is not None
    for sx, sy in insert.extreme_positions():  # bars 1/8 in from the edges, clear zones inside (DMM 601.6.3)
        assert window.contains(insert.page_to_envelope(layout.imb, sx, sy))
        assert window.inset(geo.WINDOW_CLEARANCE).contains(insert.page_to_envelope(layout.imb_bars, sx, sy))
    # the address lines under the barcode, inside the same block
    runs = text_runs(pdf)
    name = next(r for r in runs if r.text == "MARIA GARCIA")
    assert layout.block.contains(geo.Rect(name.x, name.y, 1, 1), tolerance=0.5) and name.y < layout.imb.y
    # Code 128 of the citation number: the bars drawn above its human-readable line are exactly its bars
    citation = next(r for r in runs if re.fullmatch(r"T\d{7}", r.text) and r.font_size == 7.5)
    width, want = code128_bars(citation.text, 0.30 * geo.INCH)
    base_y = citation.y - 1.5 + 9
    got = sorted((r for r in rects(pdf) if abs(r[1] - base_y) < 0.5 and abs(r[3] - 0.30 * geo.INCH) < 0.01),
                 key=lambda r: r[0])
    assert citation.text == _number(app, cid) and len(got) == len(want)
    x0 = got[0][0] - want[0][0]
    assert all(abs((gx - x0) - wx) < 0.01 and abs(gw - ww) < 0.01 for (gx, _, gw, _), (wx, _, ww, _) in zip(got, want, strict=True))
    # and it sits inside the top panel, right of the return window
    assert x0 + width <= insert.page_width - 0.5 * geo.INCH + 0.01 and base_y > insert.fold_ys[0]


def test_bad_input_holds_those_pieces_and_the_run_goes_on(app: AppContext, actors: dict[Role, Actor],
                                                          tmp_path: Path) -> None:
    good = [queue_case(app) for _ in range(2)]
    no_owner = queue_case(app, owner=False)
    unparsable = queue_case(app, owner_kwargs={"address_raw": "GENERAL DELIVERY"})
    no_zip = queue_case(app, owner_kwargs={"address_raw": "123 Main St Springfield"})
    corrupt = queue_case(app, photo=(PHOTOS / "misc" / "corrupted.jpg").read_bytes())
    real = (PHOTOS / "gps" / "DSCN0010.jpg").read_bytes()
    cut = queue_case(app, photo=real[: len(real) // 2])
    missing = queue_case(app, photo=False)
    store_photo(app, missing[0], b"never stored", sha256="ab" * 32, put=False)
    failed = queue_case(app, photo=False)
    store_photo(app, failed[0], (PHOTOS / "gps" / "DSCN0012.jpg").read_bytes(), integrity="integrity_failed")
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 2 and result.held_count == 7, result.summary()
    reasons = {h.notice_id: h.reason for h in result.held}
    assert "no registered owner" in reasons[no_owner[1]]
    assert "cannot be mailed" in reasons[unparsable[1]] and "GENERAL DELIVERY" in reasons[unparsable[1]]
    assert "missing state, ZIP code" in reasons[no_zip[1]]
    assert "damaged" in reasons[corrupt[1]] and "corrupt compressed data" in reasons[corrupt[1]]
    assert "damaged" in reasons[cut[1]] and "cut short" in reasons[cut[1]]
    assert "missing from the evidence store" in reasons[missing[1]]
    assert "integrity check" in reasons[failed[1]]
    for _cid, nid in (no_owner, unparsable, no_zip, corrupt, cut, missing, failed):
        n = _notice(app, nid)
        assert n.status == "held" and n.hold_reason == reasons[nid] and n.serial is None and n.batch_id is None
    assert {_notice(app, nid).status for _c, nid in good} == {"printed"}
    clerk = nr.held_notices(app, actors[Role.CLERK])
    assert {r.notice_id for r in clerk} == set(reasons) and all(r.reason for r in clerk)
    # the decision is audited on the case
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "notice.held")) == 7


def test_photos_whose_only_defect_is_their_exif_are_printed(app: AppContext, actors: dict[Role, Actor],
                                                             tmp_path: Path) -> None:
    """The shared data's invalid/ files break EXIF parsers, but their image data decodes whole: the print
    derivative drops the metadata, so the notice prints (holding it would stop a good notice)."""
    files = sorted((PHOTOS / "invalid").glob("*.jpg"))
    for f in files:
        queue_case(app, photo=f.read_bytes())
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == len(files) and result.held_count == 0


def test_derivative_made_once_per_photo_and_embedded_not_the_original(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reports.photos

    calls: list[str] = []
    real = reports.photos.make_print_derivative

    def counting(src, dest, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(str(src))
        return real(src, dest, *a, **kw)

    monkeypatch.setattr(reports.photos, "make_print_derivative", counting)
    original = (PHOTOS / "misc" / "iphone_hdr_NO.jpg").read_bytes()  # 1.9 MB, 3264 x 2448
    _cid, nid = queue_case(app, photo=original)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    assert len(calls) == 1
    assert batch.bytes_written < 150 * 1024  # the derivative, not the 1.9 MB original
    with app.db.reading() as s:
        n = s.get(Notice, nid)
        assert n is not None
    nr.confirm_mailed(app, actors[Role.MAIL_OFFICE], batch.batch_id)
    nr.reprint(app, actors[Role.MAIL_OFFICE], nid, "owner asked for a copy", out_dir=tmp_path)
    assert len(calls) == 1  # the reprint reused the derivative
    assert len(list((app.paths.print_dir / "derivatives").glob("*.jpg"))) == 1


def test_cancel_mid_run_leaves_no_partial_pdf_and_nothing_printed(app: AppContext, actors: dict[Role, Actor],
                                                                  tmp_path: Path) -> None:
    ids = [queue_case(app, photo=False) for _ in range(6)]
    seen: list[int] = []

    def progress(done: int, _total: int, text: str) -> None:
        if text.startswith("Printing"):
            seen.append(done)

    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out", progress,
                            cancel=lambda: len(seen) >= 1)
    assert result.cancelled and result.printed == 0 and not result.batches
    assert list((tmp_path / "out").iterdir()) == []
    assert {_notice(app, nid).status for _c, nid in ids} == {"queued"}
    assert {_notice(app, nid).serial for _c, nid in ids} == {None}
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(NoticeBatch)) == 0
    # the same pieces print on the next run
    assert nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out").printed == 6


def test_cancel_between_batches_keeps_finished_batches_whole(app: AppContext, actors: dict[Role, Actor],
                                                             tmp_path: Path) -> None:
    ids = [queue_case(app, photo=False) for _ in range(5)]
    printing: list[int] = []
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out", batch_size=2,
                            progress=lambda d, t, s: printing.append(d) if s.startswith("Printing") else None,
                            cancel=lambda: len(printing) >= 3)
    assert result.cancelled and len(result.batches) == 1 and result.printed == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [result.batches[0].path.name]
    statuses = [_notice(app, nid).status for _c, nid in ids]
    assert statuses.count("printed") == 2 and statuses.count("queued") == 3


def test_closed_case_notice_is_withdrawn_not_printed(app: AppContext, actors: dict[Role, Actor],
                                                     tmp_path: Path) -> None:
    _cid, nid = queue_case(app, status="paid")
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 0 and result.cancelled_count == 1
    assert _notice(app, nid).status == "cancelled"


def test_batches_by_kind_and_size_presorted_by_zip(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.services.core import settings

    settings.set_value(app, actors[Role.ADMIN], "mail.batch_size", 2)
    zips = ["90210", "90001", "90012"]
    for z in zips:
        queue_case(app, photo=False, owner_kwargs={"address_line1": "100 MAIN ST", "city": "LOS ANGELES", "state": "CA",
                                                       "zip": z})
    # a final notice after its delinquent notice was mailed more than 30 days ago
    queue_case(app, photo=False, kind="final_notice", stage="final_notice", issued_at=datetime(2026, 9, 1, tzinfo=UTC))
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    kinds = [(b.kind, b.pieces) for b in result.batches]
    assert sorted(kinds) == [("final_notice", 1), ("notice_of_delinquent_violation", 1),
                             ("notice_of_delinquent_violation", 2)]
    first = next(b for b in result.batches if b.kind == "notice_of_delinquent_violation" and b.pieces == 2)
    text = _text(first.path.read_bytes())
    assert text.index("90001") < text.index("90012")  # presorted by ZIP within the batch


def test_large_runs_render_on_several_processes(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.services.core import settings

    settings.set_value(app, actors[Role.ADMIN], "mail.parallel_min_pieces", 4)
    ids = [queue_case(app) for _ in range(9)]
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path, batch_size=3, workers=2)
    assert result.printed == 9 and len(result.batches) == 3
    for b in result.batches:
        assert len(reader(b.path.read_bytes()).pages) == 3
    assert {_notice(app, nid).status for _c, nid in ids} == {"printed"}


def test_confirm_mailed_starts_the_clock(app: AppContext, actors: dict[Role, Actor], tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    cid, nid = queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    mail = actors[Role.MAIL_OFFICE]
    from desktop.domain.errors import PermissionDenied, UserError

    with pytest.raises(PermissionDenied):
        nr.confirm_mailed(app, actors[Role.CLERK], batch.batch_id)
    with pytest.raises(UserError, match="future"):
        nr.confirm_mailed(app, mail, batch.batch_id, date(2026, 11, 25))
    with pytest.raises(UserError, match="printed on 2026-11-24"):
        nr.confirm_mailed(app, mail, batch.batch_id, date(2026, 11, 20))
    clock.now = clock.now + timedelta(days=1)
    done = nr.confirm_mailed(app, mail, batch.batch_id, date(2026, 11, 24))
    assert done.pieces == 1 and done.mailed_on == date(2026, 11, 24)
    n = _notice(app, nid)
    assert n.status == "mailed" and n.mailed_at is not None
    assert n.mailed_at.astimezone(LA).date() == date(2026, 11, 24)
    with app.db.reading() as s:
        b = s.get(NoticeBatch, batch.batch_id)
        assert b is not None and b.status == "mailed" and b.confirmed_by == mail.user_id
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "notice.mailed")).one()
        assert audit.entity_id == str(cid) and audit.after and audit.after["mailed_on"] == "2026-11-24"
    with pytest.raises(UserError, match="already confirmed"):
        nr.confirm_mailed(app, mail, batch.batch_id)
    assert nr.batch_list(app, actors[Role.CLERK])[0].status == "mailed"


def test_returned_mail_flags_the_address_holds_the_rest_and_lists_the_case(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.persistence.models import Citation, Hold, RegisteredOwner

    cid, nid = queue_case(app)
    mail = actors[Role.MAIL_OFFICE]
    [batch] = nr.run_notices(app, mail, tmp_path).batches
    nr.confirm_mailed(app, mail, batch.batch_id)
    # the escalation queues the next piece to the same owner before the first comes back
    with app.db.write_session() as s:
        c = s.get(Citation, cid)
        assert c is not None
        s.add(Notice(citation_id=cid, kind="final_notice", stage="final_notice", status="queued",
                     queued_at=datetime(2026, 11, 24, 19, tzinfo=UTC), owner_id=c.owner_id,
                     address_snapshot=_notice(app, nid).address_snapshot, dedupe_key="notice:final_notice"))
        s.commit()
    from desktop.domain.errors import UserError

    with pytest.raises(UserError, match="reason"):
        nr.record_returned(app, actors[Role.CLERK], nid, "  ")
    got = nr.record_returned(app, actors[Role.CLERK], nid, "Moved, left no address")
    assert got.held_pieces == 1
    n = _notice(app, nid)
    assert n.status == "returned" and n.return_reason == "Moved, left no address" and n.returned_at is not None
    with app.db.reading() as s:
        c = s.get(Citation, cid)
        assert c is not None and c.on_hold
        owner = s.get(RegisteredOwner, c.owner_id)
        assert owner is not None and owner.address_status == "bad" and "Moved" in (owner.address_problem or "")
        hold = s.scalars(select(Hold).where(Hold.citation_id == cid)).one()
        assert hold.kind == "returned_mail" and hold.ended_at is None
        held = s.scalars(select(Notice).where(Notice.status == "held")).one()
        assert "new owner lookup" in (held.hold_reason or "")
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"notice.returned", "owner.address_bad", "hold.placed"} <= actions
    lookups = nr.cases_needing_owner_lookup(app, actors[Role.CLERK])
    assert [r.citation_id for r in lookups] == [cid] and "Moved" in lookups[0].reason
    with pytest.raises(UserError, match="already"):
        nr.record_returned(app, mail, nid, "again")
    # a later piece queued to that owner is held by the run itself
    with app.db.write_session() as s:
        c = s.get(Citation, cid)
        assert c is not None
        s.add(Notice(citation_id=cid, kind="final_notice", stage="final_notice", status="queued",
                     queued_at=datetime(2026, 11, 24, 20, tzinfo=UTC), owner_id=c.owner_id,
                     dedupe_key="notice:final_notice:2"))
        s.commit()
    again = nr.run_notices(app, mail, tmp_path)
    assert again.printed == 0 and again.held_count == 1


def test_reprint_is_a_new_piece_marked_reprint(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    _cid, nid = queue_case(app)
    mail = actors[Role.MAIL_OFFICE]
    [batch] = nr.run_notices(app, mail, tmp_path).batches
    from desktop.domain.errors import UserError

    with pytest.raises(UserError, match="why"):
        nr.reprint(app, mail, nid, "")
    nr.confirm_mailed(app, mail, batch.batch_id)
    got = nr.reprint(app, mail, nid, "Owner says it never arrived", out_dir=tmp_path / "reprints")
    assert got.run is not None and got.run.printed == 1
    new = _notice(app, got.notice_id)
    assert new.reprint_of == nid and new.status == "printed" and new.serial != _notice(app, nid).serial
    t = _text(got.run.batches[0].path.read_bytes())
    assert "REPRINT" in t
    assert "REPRINT" not in _text(batch.path.read_bytes())
    assert _notice(app, nid).status == "mailed"
    log = nr.mail_log(app, actors[Role.CLERK], nr.MailLogFilter())
    assert [r.id for r in log] == [got.notice_id, nid] and log[0].reprint_of == nid
    assert nr.count_mail_log(app, actors[Role.CLERK], nr.MailLogFilter(status="mailed")) == 1
    assert nr.mail_log(app, actors[Role.CLERK], nr.MailLogFilter(text=str(new.serial)))[0].id == got.notice_id


def test_permissions_per_role(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.domain.errors import PermissionDenied

    _cid, nid = queue_case(app, photo=False)
    for role in (Role.CLERK, Role.HEARING_OFFICER):
        with pytest.raises(PermissionDenied):
            nr.run_notices(app, actors[role], tmp_path)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    with pytest.raises(PermissionDenied):
        nr.confirm_mailed(app, actors[Role.CLERK], batch.batch_id)
    with pytest.raises(PermissionDenied):
        nr.reprint(app, actors[Role.CLERK], nid, "copy")
    nr.confirm_mailed(app, actors[Role.SUPERVISOR], batch.batch_id)
    with pytest.raises(PermissionDenied):
        nr.record_returned(app, actors[Role.HEARING_OFFICER], nid, "Unknown")
    nr.record_returned(app, actors[Role.CLERK], nid, "Unknown")


def test_withdrawn_batch_goes_back_in_the_queue(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    _cid, nid = queue_case(app, photo=False)
    mail = actors[Role.MAIL_OFFICE]
    [batch] = nr.run_notices(app, mail, tmp_path).batches
    assert nr.cancel_batch(app, mail, batch.batch_id, "printer jammed, pages spoiled") == 1
    assert _notice(app, nid).status == "queued" and _notice(app, nid).serial is None
    again = nr.run_notices(app, mail, tmp_path)
    assert again.printed == 1


def test_held_piece_released_after_the_address_is_fixed(app: AppContext, actors: dict[Role, Actor],
                                                        tmp_path: Path) -> None:
    from desktop.persistence.models import Citation, RegisteredOwner

    cid, nid = queue_case(app, photo=False, owner_kwargs={"address_raw": "GENERAL DELIVERY"})
    assert nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).held_count == 1
    with app.db.write_session() as s:
        c = s.get(Citation, cid)
        assert c is not None
        o = s.get(RegisteredOwner, c.owner_id)
        assert o is not None
        o.address_line1, o.city, o.state, o.zip = "77 E COLORADO BLVD", "PASADENA", "CA", "91105"
        s.commit()
    nr.release_held(app, actors[Role.CLERK], nid)
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 1 and "PASADENA CA 91105" in _text(result.batches[0].path.read_bytes())


def test_serial_blocks_never_overlap_even_when_the_counter_is_set_back(
        any_app: AppContext, tmp_path: Path) -> None:
    from tests.conftest import seed_users

    actors = seed_users(any_app)
    mail = actors[Role.MAIL_OFFICE]
    with any_app.uow(mail) as uow:
        a = nr.reserve_serials(uow, 10)
        uow.commit()
    with any_app.uow(mail) as uow:
        b = nr.reserve_serials(uow, 5)
        uow.commit()
    assert b == a + 10
    _cid, nid = queue_case(any_app, photo=False)
    nr.run_notices(any_app, mail, tmp_path)
    serial = _notice(any_app, nid).serial
    assert serial == b + 5
    with any_app.db.write_session() as s:
        row = s.get(Setting, "mail.next_serial")
        assert row is not None
        row.value = 1  # someone sets the counter back by hand
        s.commit()
    with any_app.uow(mail) as uow:
        assert nr.reserve_serials(uow, 1) == (serial or 0) + 1


@pytest.mark.postgres
def test_two_workstations_running_notices_at_once_print_each_piece_once(pg_app: AppContext, tmp_path: Path) -> None:
    import threading

    from tests.conftest import seed_users

    actors = seed_users(pg_app)
    ids = [queue_case(pg_app, photo=False) for _ in range(12)]
    results: list[nr.RunResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(who: Role, where: str) -> None:
        try:
            barrier.wait()
            results.append(nr.run_notices(pg_app, actors[who], tmp_path / where, batch_size=4))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(Role.MAIL_OFFICE, "a")),
               threading.Thread(target=run, args=(Role.SUPERVISOR, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.printed for r in results) == 12
    with pg_app.db.reading() as s:
        rows = list(s.scalars(select(Notice).where(Notice.id.in_([n for _c, n in ids]))))
        files = [b.file_path for b in s.scalars(select(NoticeBatch))]
    assert {r.status for r in rows} == {"printed"}
    assert len({r.serial for r in rows}) == 12
    # every recorded batch file exists and holds exactly its pieces; no stray files
    on_disk = sorted(str(p) for p in tmp_path.rglob("*.pdf"))
    assert sorted(f for f in files if f) == on_disk



def test_batches_render_in_two_threads_at_once(tmp_path: Path) -> None:
    """A run and a reprint started from the GUI render on two worker threads of one process."""
    import threading

    from reports.batch import render_batch
    from reports.data import NoticeKind
    from reports.samples import sample_notice

    errors: list[BaseException] = []

    def render(name: str) -> None:
        try:
            for round_ in range(3):
                notices = [sample_notice("CA", NoticeKind.DELINQUENT, number=i) for i in range(40)]
                render_batch(notices, tmp_path / f"{name}-{round_}.pdf")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=render, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(len(reader(p.read_bytes()).pages) == 40 for p in tmp_path.glob("*.pdf"))


def test_a_run_prints_at_most_its_limit_oldest_first_and_the_next_run_goes_on(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path, monkeypatch) -> None:
    """A city's backlog (500,000 pieces after the first daily run at a million citations) is printed over
    several runs of ``mail.run_max_pieces`` each, read a chunk at a time; held pieces do not use up a run."""
    monkeypatch.setattr(nr, "PREP_CHUNK", 2)  # several chunks in each run
    no_owner = queue_case(app, photo=False, owner=False)  # the oldest: held, does not count
    cases = [queue_case(app, photo=False) for _ in range(6)]
    mail = actors[Role.MAIL_OFFICE]
    first = nr.run_notices(app, mail, tmp_path, max_pieces=4)
    assert first.printed == 4 and first.held_count == 1 and first.left_queued == 2, first.summary()
    assert "2 more queued for the next run (at most 4 pieces a run: mail.run_max_pieces)" in first.summary()
    assert [_notice(app, nid).status for _c, nid in cases] == ["printed"] * 4 + ["queued"] * 2  # oldest first
    assert _notice(app, no_owner[1]).status == "held"
    second = nr.run_notices(app, mail, tmp_path, max_pieces=4)
    assert second.printed == 2 and second.left_queued == 0 and "more queued" not in second.summary()
    assert {_notice(app, nid).status for _c, nid in cases} == {"printed"}


def test_the_limit_is_a_setting_and_zero_prints_everything(app: AppContext, actors: dict[Role, Actor],
                                                           tmp_path: Path, monkeypatch) -> None:
    from desktop.domain.errors import UserError
    from desktop.services.core import settings

    monkeypatch.setattr(nr, "PREP_CHUNK", 2)
    cases = [queue_case(app, photo=False) for _ in range(5)]
    settings.set_value(app, actors[Role.ADMIN], "mail.run_max_pieces", 3)
    assert nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).printed == 3
    settings.set_value(app, actors[Role.ADMIN], "mail.run_max_pieces", 0)
    more = [queue_case(app, photo=False) for _ in range(3)]
    run = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert run.printed == 5 and run.left_queued == 0  # the 2 left over and the 3 new, across four chunks
    assert {_notice(app, nid).status for _c, nid in cases + more} == {"printed"}
    with pytest.raises(UserError, match="mail.run_max_pieces must be 0"):
        nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path, max_pieces=-1)
