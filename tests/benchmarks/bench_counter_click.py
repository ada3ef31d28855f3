"""A counter payment as the clerk sees it: from Enter on the amount until the receipt is painted (SQLite).

Each round, outside the timing, the clerk has typed a citation number and its case is on the screen with
the amount filled in. Timed: Enter on the amount, the payment posted on the worker thread (lock, drawer,
payment, ledger entry, case closed, receipt number, audit) and its receipt text read, back on the GUI thread,
the receipt dialog opened and painted. Baselines in the same run: the worker's own calls alone (the payment
and the receipt's data and text, no screen), and the least a payment writes (one ledger entry and its audit
line, ``bench_payments_service.test_baseline_one_ledger_entry``'s floor).

Run: ``QT_QPA_PLATFORM=offscreen pytest tests/benchmarks/bench_counter_click.py --benchmark-only -p no:randomly``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt

from desktop.services.admin import users
from desktop.services.core.context import AppContext
from desktop.services.payments import posting as payments
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.payments.view import PaymentsView
from tests.benchmarks.bench_payments_service import N, counter_app, one_ledger_entry, template  # noqa: F401 - the shared office

ROUNDS = 100
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def office(counter_app: AppContext) -> AppContext:  # noqa: F811 - a fresh copy of the shared office
    return counter_app


@pytest.mark.benchmark(group="counter-click")
def test_floor_one_ledger_entry(benchmark, office: AppContext) -> None:  # type: ignore[no-untyped-def]
    benchmark.pedantic(one_ledger_entry(office), rounds=ROUNDS)


@pytest.mark.benchmark(group="counter-click")
def test_the_workers_calls_alone(benchmark, office: AppContext) -> None:  # type: ignore[no-untyped-def]
    clerk = users.actor_for(office, "clerk")
    ids = iter(range(1, N + 1))

    def post() -> str:
        result = payments.post_counter_payment(office, clerk, [next(ids)], 6300, "cash")
        return payments.receipt_text(payments.receipt_data(office, clerk, result.payment_id))

    text = benchmark.pedantic(post, rounds=ROUNDS)
    assert "$63.00" in text


@pytest.mark.benchmark(group="counter-click")
def test_enter_until_the_receipt_is_painted(benchmark, office: AppContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    clerk = users.actor_for(office, "clerk")
    runner = TaskRunner()
    ctx = UiContext(app=office, actor=clerk, runner=runner, messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    view = PaymentsView(ctx)
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    qtbot.waitExposed(view)
    view.activate()
    counter = view.counter
    numbers = iter(f"BN{i:06d}" for i in range(1, N + 1))
    posted: list[object] = []

    def setup() -> tuple[tuple[()], dict[str, object]]:
        if counter.receipt_dialog is not None and counter.receipt_dialog.isVisible():
            counter.receipt_dialog.accept()
            qtbot.waitUntil(lambda: view.window().focusWidget() is counter.lookup)
        counter.lookup.setText(next(numbers))
        with qtbot.waitSignal(counter.cases_loaded, timeout=10_000):
            qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
        assert counter.amount.text() == "63.00"
        return (), {}

    def enter_and_paint() -> None:
        with qtbot.waitSignal(counter.posted, timeout=10_000) as signal:
            qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
        dialog = counter.receipt_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.repaint()  # painted now, not at the next turn of the event loop
        posted.append(signal.args[0])

    benchmark.pedantic(enter_and_paint, setup=setup, rounds=ROUNDS)
    assert len(posted) == ROUNDS and counter.receipt_dialog is not None
    assert posted[-1].receipt_number in counter.receipt_dialog.text.toPlainText()  # type: ignore[attr-defined]
    counter.receipt_dialog.accept()
    # the screen back at the look-up, as for the next payer
    qtbot.waitUntil(lambda: view.window().focusWidget() is counter.lookup)
    runner.wait_all(5000)
