"""Changes seen everywhere (issue 16, point 6), in the app: a payment taken on the counter refreshes the
open case detail and the case list within a second; another program's change to the database reaches
the same screens through the change feed (SQLite: the next data_version poll)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt

from desktop.services.core.context import Actor, AppContext
from desktop.services.payments import posting
from desktop.ui.cases.view import CasesView
from desktop.ui.common.change_feed import ChangeFeed, is_external
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.operations import Changes
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.payments.view import PaymentsView
from tests.integration.payments.conftest import _maker, _people

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def people(app: AppContext) -> dict[str, Actor]:
    return _people(app)


def _screens(qtbot, app: AppContext, actor: Actor) -> tuple[UiContext, CasesView, PaymentsView]:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    ctx = UiContext(app=app, actor=actor, runner=runner, messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    cases, payments = CasesView(ctx), PaymentsView(ctx)
    for w in (cases, payments):
        qtbot.addWidget(w)
        w.resize(1300, 760)
        w.show()
        qtbot.waitExposed(w)
    with qtbot.waitSignal(cases.results, timeout=5000):
        cases.activate()
    payments.activate()
    return ctx, cases, payments


def _balance_in_list(cases: CasesView, number: str) -> int | None:
    for i in range(cases.model.rowCount()):
        row = cases.model.row_at(i)
        if row is not None and row.citation_number == number:
            return row.balance_cents
    return None


def test_a_counter_payment_refreshes_the_open_case_and_the_case_list(qtbot, app, people) -> None:  # type: ignore[no-untyped-def]
    make = _maker(app)
    cid = make("HH0001-000901", fine_cents=6300)
    ctx, cases, payments = _screens(qtbot, app, people["clerk"])
    cases.open_case(cid)
    qtbot.waitUntil(lambda: cases.detail.detail is not None and cases.detail.detail.citation.id == cid, timeout=5000)
    assert "$63.00" in cases.detail.header.text() and _balance_in_list(cases, "HH0001-000901") == 6300
    counter = payments.counter
    counter.lookup.setText("HH0001-000901")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    with qtbot.waitSignal(counter.posted, timeout=5000):
        qtbot.keyClick(counter.amount, Qt.Key.Key_Return)
    posted = time.monotonic()
    qtbot.waitUntil(lambda: "$0.00" in cases.detail.header.text(), timeout=1000)
    qtbot.waitUntil(lambda: _balance_in_list(cases, "HH0001-000901") == 0, timeout=1000)
    assert time.monotonic() - posted < 1.0
    assert "Paid" in cases.detail.header.text()
    ctx.runner.wait_all(5000)


def test_another_programs_payment_reaches_the_screens_through_the_feed(qtbot, app, people) -> None:  # type: ignore[no-untyped-def]
    make = _maker(app)
    cid = make("HH0001-000902", fine_cents=6300)
    ctx, cases, _payments = _screens(qtbot, app, people["clerk"])
    cases.open_case(cid)
    qtbot.waitUntil(lambda: cases.detail.detail is not None, timeout=5000)
    feed = ChangeFeed(app.db, ctx.runner, ctx.bus, poll_seconds=0.2)
    heard: list[tuple[Changes, object]] = []
    ctx.bus.subscribe(cases, lambda changes, initiator: heard.append((changes, initiator)))
    feed.start()
    qtbot.waitUntil(lambda: feed.task is not None and feed.task.running, timeout=2000)
    # another workstation on the same file: another process, through the same services
    script = ("import sys; from pathlib import Path; from desktop.bootstrap import make_app_context; "
              "from desktop.paths import AppPaths; from desktop.persistence.db import Database; "
              "from desktop.services.admin import users; from desktop.services.payments import posting; "
              "app = make_app_context(Database(sys.argv[1]), AppPaths(Path(sys.argv[2]))); "
              "posting.post_counter_payment(app, users.actor_for(app, 'clerk2'), [int(sys.argv[3])], 6300, 'cash')")
    with qtbot.waitSignal(feed.heard, timeout=3000):
        done = subprocess.run([sys.executable, "-c", script, app.db.url.render_as_string(hide_password=False),
                               str(app.paths.data_dir), str(cid)], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    assert any(is_external(initiator) and changes.cases and cid in changes.citation_ids
               for changes, initiator in heard)
    qtbot.waitUntil(lambda: "$0.00" in cases.detail.header.text(), timeout=2000)
    qtbot.waitUntil(lambda: _balance_in_list(cases, "HH0001-000902") == 0, timeout=2000)
    feed.stop()
    ctx.runner.wait_all(5000)


def test_a_case_on_the_counter_paid_elsewhere_shows_its_new_balance(qtbot, app, people) -> None:  # type: ignore[no-untyped-def]
    make = _maker(app)
    cid = make("HH0001-000903", fine_cents=6300)
    ctx, _cases, payments_view = _screens(qtbot, app, people["clerk"])
    counter = payments_view.counter
    counter.lookup.setText("HH0001-000903")
    with qtbot.waitSignal(counter.cases_loaded, timeout=5000):
        counter.find_cases()
    assert counter.amount.text() == "63.00"
    posting.post_counter_payment(app, people["clerk2"], [cid], 2000, "cash")  # the next window, same case
    ctx.bus.notify(Changes(cases=True, payments=True, citation_ids=frozenset({cid})), None)
    qtbot.waitUntil(lambda: counter.case_model.rows[0][0].balance_cents == 4300, timeout=2000)
    assert counter.amount.text() == "43.00" and counter.case_model.rows[0][1]  # still ticked, amount follows
    ctx.runner.wait_all(5000)
