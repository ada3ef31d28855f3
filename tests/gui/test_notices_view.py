"""The Notices screen: run notices with progress, preview the batch (Qt PDF), print to a PDF printer,
confirm mailed, the mail log (returned mail, reprint), and what each role may press."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtPrintSupport import QPrinter
from sqlalchemy import select

from desktop.domain.roles import Role
from desktop.persistence.models import Notice
from desktop.services.core.context import Actor, AppContext
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.notices.view import NoticesView, print_pdf
from tests.helpers.notice_cases import queue_case
from tests.integration.reports.pdfprobe import reader

TIMEOUT = 60_000


def _ctx(app: AppContext, actor: Actor) -> UiContext:
    return UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                     tz=ZoneInfo("America/Los_Angeles"))


@pytest.fixture
def view(qtbot, app: AppContext, actors: dict[Role, Actor]):  # type: ignore[no-untyped-def]
    ctx = _ctx(app, actors[Role.MAIL_OFFICE])
    v = NoticesView(ctx)
    qtbot.addWidget(v)
    v.resize(1300, 800)
    yield v
    ctx.runner.wait_all(10_000)


def _ink_box(path: Path) -> tuple[int, int, int, int]:
    """Bounding box of the dark pixels of page 1 rendered at 50 dpi."""
    import io

    from PIL import Image, ImageOps
    from PySide6.QtCore import QBuffer, QIODevice, QSize
    from PySide6.QtPdf import QPdfDocument

    doc = QPdfDocument()
    doc.load(str(path))
    image = doc.render(0, QSize(425, 550))
    doc.close()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    gray = Image.open(io.BytesIO(bytes(buf.data().data()))).convert("L")
    box = ImageOps.invert(gray).point(lambda v: 255 if v > 80 else 0).getbbox()
    assert box is not None
    return box


def _statuses(app: AppContext) -> list[str]:
    with app.db.reading() as s:
        return list(s.scalars(select(Notice.status).order_by(Notice.id)))


def test_run_preview_confirm_returned_and_reprint(qtbot, view: NoticesView, app: AppContext) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        queue_case(app)
    queue_case(app, owner_kwargs={"address_raw": "GENERAL DELIVERY"})
    with qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        view.activate()
    assert view.due_model.rowCount() == 1 and view.due_model.rows[0].count == 4
    assert "4</b> pieces due" in view.summary.text()
    assert view.run_button.isEnabled()

    progress: list[tuple[int, int]] = []
    view.progress.valueChanged.connect(lambda v: progress.append((v, view.progress.maximum())))
    with qtbot.waitSignal(view.preview_loaded, timeout=TIMEOUT) as preview, \
            qtbot.waitSignal(view.run_finished, timeout=TIMEOUT) as finished:
        view.run_button.click()
        assert not view.cancel_button.isHidden() and not view.progress.isHidden()
    result = finished.args[0]
    assert result.printed == 3 and result.held_count == 1 and not result.cancelled
    assert progress and progress[-1][0] == progress[-1][1]
    assert view.cancel_button.isHidden()
    # the preview shows the batch's pages in Qt's PDF viewer
    batch_id, pages = preview.args
    assert batch_id == result.batches[0].batch_id and pages == 3 and view.pdf.pageCount() == 3
    assert view.tabs.currentIndex() == 1
    assert view.held_model.rowCount() == 1 and "cannot be mailed" in view.held_model.rows[0].reason
    assert view.confirm_button.isEnabled() and view.print_button.isEnabled()

    with qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        view.confirm_selected(mailed_on=date(2026, 11, 24))
    assert view.selected_batch() is not None and view.selected_batch().status == "mailed"  # type: ignore[union-attr]
    assert not view.confirm_button.isEnabled()
    assert _statuses(app) == ["mailed", "mailed", "mailed", "held"]

    # mail log: every piece; a mailed one comes back
    view.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(view.log_loaded, timeout=TIMEOUT):
        view.search_log()
    assert view.log_model.rowCount() == 4
    mailed_row = next(i for i in range(4) if view.log_model.row_at(i).status == "mailed")  # type: ignore[union-attr]
    view.log_table.selectRow(mailed_row)
    assert view.returned_button.isEnabled() and view.reprint_button.isEnabled()
    piece = view.selected_piece()
    assert piece is not None
    with qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        view.record_returned_selected("Moved, left no address")
    assert view.lookup_model.rowCount() == 1 and "Moved" in view.lookup_model.rows[0].reason
    # reprint another mailed piece: printed at once, marked, previewed
    with qtbot.waitSignal(view.log_loaded, timeout=TIMEOUT):
        view.search_log()
    other = next(i for i in range(view.log_model.rowCount()) if view.log_model.row_at(i).status == "mailed")  # type: ignore[union-attr]
    view.log_table.selectRow(other)
    with qtbot.waitSignal(view.preview_loaded, timeout=TIMEOUT) as again:
        view.reprint_selected("Owner says it never arrived")
    assert again.args[1] == 1
    assert "REPRINT" in reader(Path(view.selected_batch().file_path).read_bytes()).pages[0].extract_text()  # type: ignore[union-attr]


def test_print_path_renders_pages_onto_a_pdf_printer(qtbot, view: NoticesView, app: AppContext,  # type: ignore[no-untyped-def]
                                                     actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.services.notices.runs import run_notices

    for _ in range(3):
        queue_case(app)
    batch = run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "b").batches[0]
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    seen: list[int] = []
    assert print_pdf(batch.path, printer, lambda d, _t: seen.append(d)) == 3
    assert seen == [1, 2, 3]
    out = reader((tmp_path / "printed.pdf").read_bytes())
    assert len(out.pages) == 3
    box = out.pages[0].mediabox
    assert abs(float(box.width) - 612) < 2 and abs(float(box.height) - 792) < 2  # US Letter, as the batch
    # each printed page carries the rendered page as an image, at 100 %: the ink lies where the batch put it
    assert all(page.images for page in out.pages)
    want, got = _ink_box(batch.path), _ink_box(tmp_path / "printed.pdf")
    assert all(abs(a - b) <= 2 for a, b in zip(want, got, strict=True)), (want, got)
    # a page range from the print dialog
    printer2 = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer2.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer2.setOutputFileName(str(tmp_path / "page2.pdf"))
    printer2.setFromTo(2, 2)
    assert print_pdf(batch.path, printer2) == 1
    assert len(reader((tmp_path / "page2.pdf").read_bytes()).pages) == 1
    # and through the screen, in the background
    with qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        view.activate()
    view.select_batch(batch.batch_id)
    printer3 = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer3.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer3.setOutputFileName(str(tmp_path / "screen.pdf"))
    with qtbot.waitSignal(view.printed, timeout=TIMEOUT) as done:
        row = view.selected_batch()
        assert row is not None
        view.print_batch(row, printer3)
    assert done.args == [3] and len(reader((tmp_path / "screen.pdf").read_bytes()).pages) == 3


def test_cancel_on_the_screen_prints_nothing(qtbot, view: NoticesView, app: AppContext) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        queue_case(app)
    with qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        view.activate()
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT) as finished:
        view.run_button.click()
        view.cancel_button.click()
    assert finished.args[0].cancelled and finished.args[0].printed == 0
    assert _statuses(app) == ["queued"] * 4
    assert "Cancelled" in view.run_status.text()


def test_a_clerk_sees_the_lists_but_cannot_run_or_confirm(qtbot, app: AppContext, actors: dict[Role, Actor],  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    from desktop.services.notices.runs import run_notices

    queue_case(app)
    queue_case(app, owner=False)
    run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    queue_case(app)
    ctx = _ctx(app, actors[Role.CLERK])
    v = NoticesView(ctx)
    qtbot.addWidget(v)
    with qtbot.waitSignal(v.refreshed, timeout=TIMEOUT):
        v.activate()
    assert not v.run_button.isEnabled()
    assert v.held_model.rowCount() == 1 and v.release_button.isEnabled()
    v.batch_table.selectRow(0)
    assert not v.confirm_button.isEnabled() and not v.withdraw_button.isEnabled() and v.print_button.isEnabled()
    ctx.runner.wait_all(10_000)


def test_models_pass_the_model_tester(qtbot, qtmodeltester, view: NoticesView, app: AppContext,  # type: ignore[no-untyped-def]
                                      actors: dict[Role, Actor], tmp_path: Path) -> None:
    from desktop.services.notices.runs import run_notices

    for _ in range(3):
        queue_case(app)
    queue_case(app, owner=False)
    run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    with qtbot.waitSignal(view.refreshed, timeout=TIMEOUT):
        view.activate()
    with qtbot.waitSignal(view.log_loaded, timeout=TIMEOUT):
        view.search_log()
    for model in (view.batch_model, view.held_model, view.log_model):
        qtmodeltester.check(model)


def test_the_held_notices_why_is_read_whole_at_1366(qtbot, app: AppContext, actors) -> None:  # type: ignore[no-untyped-def]
    """At 1366x768 the reason a notice is held wraps in its cell instead of being cut off."""
    from PySide6.QtCore import QRect, Qt

    queue_case(app, owner_kwargs={"address_raw": "GENERAL DELIVERY"})
    ctx = _ctx(app, actors[Role.MAIL_OFFICE])
    v = NoticesView(ctx)
    qtbot.addWidget(v)
    v.resize(1366 - 190, 768 - 60)  # the main window's area beside the navigation, under menu and status bar
    v.show()
    with qtbot.waitSignal(v.refreshed, timeout=TIMEOUT):
        v.activate()
    with qtbot.waitSignal(v.run_finished, timeout=TIMEOUT):
        v.run_button.click()
    qtbot.waitUntil(lambda: v.held_model.rowCount() == 1, timeout=TIMEOUT)
    table = v.held_table
    why = v.held_model.index(0, v.held_model.columnCount() - 1)
    text = why.data()
    assert len(text) > 40
    qtbot.waitUntil(lambda: table.visualRect(why).height() > 24, timeout=5000)
    cell = table.visualRect(why)
    need = table.fontMetrics().boundingRect(QRect(0, 0, cell.width() - 8, 10_000),
                                            int(Qt.TextFlag.TextWordWrap), text)
    assert cell.height() >= need.height(), (cell, need, text)
    ctx.runner.wait_all(10_000)
