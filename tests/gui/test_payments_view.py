"""The Payments screen: a counter payment by keyboard alone, the queues, imports and the daily close."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.demo.payments import Bai2Item, build_bai2
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.payments import posting as payments
from desktop.services.payments import refunds
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.payments.common import Column, RowsModel
from desktop.ui.payments.view import PaymentsView
from tests.integration.payments.conftest import BANK_FILES, _maker, _people, ledger_balance

LA = ZoneInfo("America/Los_Angeles")
# The offscreen platform says this for every dialog; it is not a defect of ours.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def people(app: AppContext) -> dict[str, Actor]:
    return _people(app)


@pytest.fixture
def bank_files() -> Path:
    if not BANK_FILES.is_dir():
        pytest.skip("shared bank payment files are not available")
    return BANK_FILES


@pytest.fixture
def make_case(app: AppContext):
    return _maker(app)


def _view(qtbot, app: AppContext, actor: Actor) -> PaymentsView:
    runner = TaskRunner()
    ctx = UiContext(app=app, actor=actor, runner=runner, messages=MessageChannel(interactive=False), tz=LA)
    view = PaymentsView(ctx)
    qtbot.addWidget(view)
    view.resize(1300, 800)
    view.show()
    qtbot.waitExposed(view)
    view.activate()
    view._runner = runner  # keep alive
    return view


def _drain(view: PaymentsView) -> None:
    view.ctx.runner.wait_all(5000)
    QApplication.processEvents()


def test_post_a_payment_with_the_keyboard_alone(qtbot, app, people, make_case) -> None:
    cid = make_case("HH0001-000777", fine_cents=6300)
    view = _view(qtbot, app, people["clerk"])
    counter = view.counter
    qtbot.waitUntil(lambda: counter.lookup.hasFocus())
    qtbot.keyClicks(counter.lookup, "hh0001-000777")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    assert counter.amount.text() == "63.00" and counter.amount.hasFocus()
    with qtbot.waitSignal(counter.posted, timeout=5000) as posted:
        qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
    result = posted.args[0]
    qtbot.waitUntil(lambda: counter.receipt_dialog is not None and counter.receipt_dialog.isVisible())
    text = counter.receipt_dialog.text.toPlainText()
    assert result.receipt_number in text and "HH0001-000777" in text and "$63.00" in text
    qtbot.keyClick(counter.receipt_dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not counter.receipt_dialog.isVisible())
    qtbot.waitUntil(lambda: view.window().focusWidget() is counter.lookup)
    assert counter.case_model.rowCount() == 0
    assert ledger_balance(app, cid) == 0
    qtbot.waitUntil(lambda: "1 payment(s)" in counter.drawer_label.text())
    _drain(view)


def test_cheque_across_an_owners_cases_with_f3(qtbot, app, people, make_case) -> None:
    old = make_case("P-00001", plate="6TRK001", days_ago=30)
    new = make_case("P-00002", plate="6TRK001", days_ago=3)
    view = _view(qtbot, app, people["clerk"])
    counter = view.counter
    qtbot.keyClicks(counter.lookup, "6trk001")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    assert counter.amount.text() == "126.00"
    qtbot.keyClick(counter.amount, Qt.Key.Key_F3)
    assert counter.method.currentData() == "check" and counter.cheque_number.hasFocus()
    qtbot.keyClicks(counter.cheque_number, "1042")
    with qtbot.waitSignal(counter.posted, timeout=5000):
        qtbot.keyClick(counter.cheque_number, Qt.Key.Key_Return)
    assert ledger_balance(app, old) == ledger_balance(app, new) == 0
    counter.receipt_dialog.accept()
    _drain(view)


def test_full_card_number_is_refused_on_screen(qtbot, app, people, make_case) -> None:
    cid = make_case("C-00001")
    view = _view(qtbot, app, people["clerk"])
    counter = view.counter
    qtbot.keyClicks(counter.lookup, "C-00001")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    qtbot.keyClick(counter.amount, Qt.Key.Key_F4)
    qtbot.keyClicks(counter.card_reference, "4111 1111 1111 1111")
    qtbot.keyClicks(counter.card_last4, "1111")
    with qtbot.waitSignal(view.ctx.messages.error_shown, timeout=5000) as shown:
        qtbot.keyClick(counter.card_last4, Qt.Key.Key_Return)
    assert "full card number" in shown.args[0]
    assert ledger_balance(app, cid) == 6300
    _drain(view)


def test_import_then_clear_the_unmatched_queue_by_hand(qtbot, app, people, make_case, tmp_path: Path) -> None:
    cid = make_case("HH0003-000042", plate="4UNM004", fine_cents=7300)
    statement = tmp_path / "bank.bai2"
    statement.write_bytes(build_bai2([Bai2Item("142", 7300, "PARKING TICKET OB: R JOHNSON", "B1")], date(2026, 11, 24)))
    view = _view(qtbot, app, people["clerk"])
    view.tabs.setCurrentWidget(view.imports)
    with qtbot.waitSignal(view.imports.imported, timeout=10000):
        view.imports.import_file(statement)
    assert "1 to the unmatched queue" in view.imports.result.toPlainText()
    qtbot.waitUntil(lambda: view.imports.model.rowCount() == 1)
    with qtbot.waitSignal(view.unmatched.loaded, timeout=5000) as loaded:
        view.tabs.setCurrentWidget(view.unmatched)
    assert loaded.args == [1]
    tab = view.unmatched
    qtbot.keyClicks(tab.search, "4UNM004")
    qtbot.keyClick(tab.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.case_model.rowCount() == 1)
    with qtbot.waitSignal(tab.matched, timeout=5000):
        qtbot.keyClick(tab.case_table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 0)
    assert ledger_balance(app, cid) == 0
    _drain(view)


def test_a_malformed_file_is_refused_with_its_line(qtbot, app, people, bank_files: Path) -> None:
    view = _view(qtbot, app, people["clerk"])
    view.tabs.setCurrentWidget(view.imports)
    with qtbot.waitSignal(view.imports.rejected, timeout=10000) as rejected:
        view.imports.import_file(bank_files / "bai2_moov/sample-parseError.txt")
    assert "line 1" in rejected.args[0] and "nothing in it was posted" in rejected.args[0]
    assert view.imports.result.toPlainText().startswith("Refused:")
    assert payments.payments_list(app, people["clerk"]) == []
    _drain(view)


def test_refund_queue_buttons_follow_the_supervisor_rule(qtbot, app, people, make_case) -> None:
    cid = make_case("O-00001")
    payments.post_counter_payment(app, people["clerk"], [cid], 8300, "cash", confirmed_overpaid_cents=2000)
    refunds.request_refund(app, people["supervisor"], cid, reason="overpaid")
    own = _view(qtbot, app, people["supervisor"])
    with qtbot.waitSignal(own.refunds.loaded, timeout=5000):
        own.tabs.setCurrentWidget(own.refunds)
    assert not own.refunds.approve_button.isEnabled()
    assert "Check passed" in own.refunds.check.text()
    other = _view(qtbot, app, people["supervisor2"])
    with qtbot.waitSignal(other.refunds.loaded, timeout=5000):
        other.tabs.setCurrentWidget(other.refunds)
    assert other.refunds.approve_button.isEnabled()
    with qtbot.waitSignal(other.refunds.loaded, timeout=5000) as loaded:
        other.refunds.approve_button.click()
    assert loaded.args == [0] and ledger_balance(app, cid) == 0
    _drain(own)
    _drain(other)


def test_daily_close_shows_the_ledger_figures(qtbot, app, people, make_case, qtmodeltester) -> None:
    cid = make_case("D-00001")
    payments.post_counter_payment(app, people["clerk"], [cid], 6300, "cash")
    view = _view(qtbot, app, people["clerk"])
    tab = view.close_tab
    with qtbot.waitSignal(tab.loaded, timeout=5000) as loaded:
        view.tabs.setCurrentWidget(tab)
    result = loaded.args[0]
    (line,) = tab.line_model.rows
    assert line.received_cents == line.applied_cents == 6300 == 6300 - ledger_balance(app, cid)
    assert tab.line_model.data(tab.line_model.index(0, 2)) == "$63.00"
    assert {d.kind for d in result.differences} >= {"open_drawer", "missing_file"}
    qtmodeltester.check(tab.diff_model)
    qtbot.keyClicks(tab.counted_cash, "163.00")
    with qtbot.waitSignal(tab.loaded, timeout=5000) as closed:
        qtbot.keyClick(tab.counted_cheques, Qt.Key.Key_Return)
    (drawer,) = closed.args[0].drawers
    assert drawer.is_closed and drawer.difference_cents == 0
    _drain(view)


def test_rows_model_is_a_proper_model(qtmodeltester) -> None:
    model = RowsModel([Column("A", lambda r: r[0]), Column("Cents", lambda r: r[1], "money")])
    model.set_rows([("x", 100), ("y", -250)], "USD")
    qtmodeltester.check(model)
    assert model.data(model.index(1, 1)) == "-$2.50"
    assert model.data(model.index(1, 1), RowsModel.ROW_ROLE) == ("y", -250)
    model.set_rows([("x", 100)], "GBP")  # the money in the currency the rows came with
    assert model.data(model.index(0, 1)) == "£1.00"
    model.set_rows([("x", 100), ("y", -250)])  # the same rows again (a tick): the currency is kept
    assert model.data(model.index(1, 1)) == "-£2.50"


def test_supervisor_reverses_a_bounced_cheque_from_the_counter(qtbot, app, people, make_case, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    cid = make_case("B-00001")
    paid = payments.post_counter_payment(app, people["clerk"], [cid], 6300, "cheque", cheque_number="5510")
    view = _view(qtbot, app, people["supervisor"])
    answers = iter([(paid.receipt_number, True), ("cheque returned unpaid (NSF)", True)])
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: next(answers)))
    with qtbot.waitSignal(view.ctx.messages.notified, timeout=5000,
                          check_params_cb=lambda text, _ms: "reversed" in text) as note:
        view.counter.reverse_button.click()
    assert "reopened B-00001" in note.args[0]
    assert ledger_balance(app, cid) == 6300
    clerk_view = _view(qtbot, app, people["clerk"])
    assert not clerk_view.counter.reverse_button.isEnabled()
    _drain(view)
    _drain(clerk_view)


def test_an_overpayment_asks_once_naming_the_refund(qtbot, app, people, make_case, monkeypatch) -> None:
    """$200 cash on a $94 balance: one question naming the $106 refund; No posts nothing, Yes posts it."""
    from PySide6.QtWidgets import QMessageBox

    cid = make_case("OV-00001", fine_cents=9400)
    view = _view(qtbot, app, people["clerk"])
    counter = view.counter
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answers[len(asked) - 1])
    qtbot.keyClicks(counter.lookup, "OV-00001")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    counter.amount.selectAll()
    qtbot.keyClicks(counter.amount, "200.00")
    qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(asked) == 1 and not counter._busy)
    assert "$106.00" in asked[0] and "refund queue" in asked[0]
    assert ledger_balance(app, cid) == 9400 and counter.amount.hasFocus()
    with qtbot.waitSignal(counter.posted, timeout=5000) as posted:
        qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
    assert len(asked) == 2  # asked once per attempt, not again after Yes
    assert posted.args[0].overpaid_cents == 10600 and ledger_balance(app, cid) == -10600
    counter.receipt_dialog.accept()
    _drain(view)


def test_the_tendered_label_is_not_clipped_at_1366(qtbot, app, people) -> None:
    """Every label of the counter's form is as wide as its text ("Tendered" lost its last letter)."""
    from PySide6.QtWidgets import QFormLayout, QLabel

    view = _view(qtbot, app, people["clerk"])
    view.resize(1366 - 190, 768 - 60)
    form = view.counter.tendered.parentWidget().layout()
    assert isinstance(form, QFormLayout)
    label = form.labelForField(view.counter.tendered)
    assert isinstance(label, QLabel)
    qtbot.waitUntil(lambda: label.width() > 0)
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        widget = item.widget() if item is not None else None
        if isinstance(widget, QLabel) and widget.text():
            text = widget.text().replace("&", "")
            need = widget.fontMetrics().boundingRect(text).width()
            assert widget.width() >= need + 2, (text, widget.width(), need)
    _drain(view)


def test_the_counter_shows_each_receipt_in_one_dialog(qtbot, app, people, make_case, monkeypatch) -> None:
    """A clerk takes hundreds of payments a day: each receipt goes into the same dialog (not a new window left in
    memory a payment), showing that payment's receipt and nothing of the one before; Print prints that one."""
    from desktop.ui.payments import counter as counter_module
    from desktop.ui.payments.counter import ReceiptDialog

    printed: list[tuple[int, str]] = []
    monkeypatch.setattr(counter_module, "print_receipt",
                        lambda _ctx, payment_id, number, _parent: printed.append((payment_id, number)))

    make_case("HH0001-000801", fine_cents=6300)
    make_case("HH0001-000802", fine_cents=5800)
    view = _view(qtbot, app, people["clerk"])
    counter = view.counter
    receipts = []
    for number in ("HH0001-000801", "HH0001-000802"):
        counter.lookup.setText(number)
        with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
            qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
        with qtbot.waitSignal(counter.posted, timeout=5000) as posted:
            qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
        assert counter.receipt_dialog is not None and counter.receipt_dialog.isVisible()
        receipts.append((posted.args[0].receipt_number, counter.receipt_dialog))
        counter.receipt_dialog.print_button.click()
        assert printed[-1] == (posted.args[0].payment_id, posted.args[0].receipt_number)
        text = counter.receipt_dialog.text.toPlainText()
        assert posted.args[0].receipt_number in text and number in text
        assert counter.receipt_dialog.close_button.hasFocus() or not counter.receipt_dialog.isActiveWindow()
        qtbot.keyClick(counter.receipt_dialog, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not counter.receipt_dialog.isVisible())
    (first_number, first), (_second_number, second) = receipts
    assert first is second and first_number not in second.text.toPlainText()
    assert len(counter.findChildren(ReceiptDialog)) == 1
    _drain(view)


@pytest.mark.parametrize(("currency", "sign", "other"), [("GBP", "£", "$"), ("USD", "$", "£")])
def test_the_counter_and_the_daily_close_write_the_offices_currency(qtbot, app, people, make_case, tmp_path: Path,
                                                                    currency, sign, other) -> None:
    """An office that takes pounds sees pounds at the counter (balance, owed, change due, the message, the
    receipt, the drawer), in the daily close and in the unmatched queue; an office in dollars still sees dollars."""
    settings.set_value(app, people["admin"], "agency.currency", currency)
    make_case("CUR-00001", plate="LB01CUR", fine_cents=9400)
    make_case("CUR-00002", plate="LB02CUR", fine_cents=4100)
    statement = tmp_path / "bank.bai2"
    statement.write_bytes(build_bai2([Bai2Item("142", 4100, "NO IDEA", "B1")], date(2026, 11, 24))
                          .replace(b",USD,", f",{currency},".encode()))
    view = _view(qtbot, app, people["clerk"])
    counter = view.counter
    qtbot.keyClicks(counter.lookup, "CUR-00001")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    assert counter.case_model.data(counter.case_model.index(0, 4)) == f"{sign}94.00"
    assert counter.owed.text() == f"{sign}94.00 on 1 case(s)"
    qtbot.keyClicks(counter.tendered, "100")
    assert counter.change.text() == f"Change due: {sign}6.00"
    with qtbot.waitSignal(counter.posted, timeout=5000), \
            qtbot.waitSignal(view.ctx.messages.notified, timeout=5000,
                             check_params_cb=lambda text, _ms: "posted" in text) as note:
        qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
    assert note.args[0].startswith(f"Payment of {sign}94.00 posted")
    qtbot.waitUntil(lambda: counter.receipt_dialog is not None and counter.receipt_dialog.isVisible())
    receipt = counter.receipt_dialog.text.toPlainText()
    assert f"{sign}100.00" in receipt and f"{sign}6.00" in receipt and other not in receipt
    counter.receipt_dialog.accept()
    qtbot.waitUntil(lambda: "1 payment(s)" in counter.drawer_label.text())
    drawer = counter.drawer_label.text()
    assert f"Cash {sign}94.00" in drawer and f"Expected in the drawer: <b>{sign}" in drawer and other not in drawer

    view.tabs.setCurrentWidget(view.imports)
    with qtbot.waitSignal(view.imports.imported, timeout=10000):
        view.imports.import_file(statement)
    assert f"1 payment(s) for {sign}41.00" in view.imports.result.toPlainText()
    with qtbot.waitSignal(view.unmatched.loaded, timeout=5000):
        view.tabs.setCurrentWidget(view.unmatched)
    assert f"for <b>{sign}41.00</b> wait to be matched" in view.unmatched.summary.text()
    assert view.unmatched.model.data(view.unmatched.model.index(0, 2)) == f"{sign}41.00"
    qtbot.keyClicks(view.unmatched.search, "LB02CUR")
    qtbot.keyClick(view.unmatched.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.unmatched.case_model.rowCount() == 1)
    assert view.unmatched.case_model.data(view.unmatched.case_model.index(0, 2)) == f"{sign}41.00"

    tab = view.close_tab
    with qtbot.waitSignal(tab.loaded, timeout=5000):
        view.tabs.setCurrentWidget(tab)
    assert f"{sign}135.00 received" in tab.verdict.text()
    assert tab.drawer_model.data(tab.drawer_model.index(0, 3)) == f"{sign}94.00"
    assert tab.line_model.data(tab.line_model.index(0, 2)) == f"{sign}94.00"
    shown = [tab.diff_model.data(tab.diff_model.index(r, c)) for r in range(tab.diff_model.rowCount())
             for c in (2, 3)]
    assert any(f"{sign}41.00" in (text or "") for text in shown) and not any(other in (text or "") for text in shown)
    qtbot.keyClicks(tab.counted_cash, "200.00")  # the float (100.00) and the 94.00 taken: 6.00 over
    with qtbot.waitSignal(view.ctx.messages.notified, timeout=5000,
                          check_params_cb=lambda text, _ms: text.startswith("Drawer closed")) as closed:
        qtbot.keyClick(tab.counted_cheques, Qt.Key.Key_Return)
    assert closed.args[0] == f"Drawer closed: over by {sign}6.00."
    _drain(view)
