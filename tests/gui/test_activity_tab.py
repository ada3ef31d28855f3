"""Administration › Activity: the administrator sees the day's sign-ins, lockouts, payments, syncs... newest first,
narrows them by kind, user, outcome and dates, and pages; a clerk's tab says the log is for administrators and
asks the service nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.services.admin import users
from desktop.ui.admin.activity import ActivityTab
from desktop.ui.admin.view import AdminView
from tests.conftest import PASSWORDS


def morning(app, actors) -> None:  # type: ignore[no-untyped-def]
    users.login(app, "clerk", PASSWORDS[Role.CLERK])
    users.login(app, "supervisor", PASSWORDS[Role.SUPERVISOR])
    for _ in range(users.LOCKOUT_AFTER):
        with pytest.raises(UserError):
            users.login(app, "mail_office", "wrong password")
    with app.uow(actors[Role.CLERK]) as uow:
        for n in range(5):
            uow.audit("payment.counter", "payment", 100 + n, after={"amount_cents": 6300})
        uow.commit()
    with app.uow(actors[Role.SUPERVISOR]) as uow:
        uow.audit("sync.finished", "sync_endpoint", 1, reason="failed: the endpoint answered 503")
        uow.commit()
    users.sign_out(app, actors[Role.CLERK], "File › Sign out")


def test_the_administrator_filters_and_pages_the_activity(qtbot, ui_ctx, actors) -> None:
    morning(ui_ctx.app, actors)
    ctx = dataclasses.replace(ui_ctx, actor=actors[Role.ADMIN])
    view = AdminView(ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.activity.loaded, timeout=10000) as shown:
        view.activate()
    tab = view.activity
    assert shown.args[0] == tab.table.rowCount() >= 10
    assert tab.table.item(0, 4).text() == "user.signed_out" and tab.table.item(0, 1).text() == "clerk"
    assert tab.user.findData("mail_office") > 0  # the accounts were listed for the filter

    tab.kind.setCurrentIndex(tab.kind.findData("payment"))
    with qtbot.waitSignal(tab.loaded, timeout=10000) as shown:
        tab.apply_button.click()
    assert shown.args[0] == 5 and {tab.table.item(i, 2).text() for i in range(5)} == {"payment"}

    tab.kind.setCurrentIndex(0)
    tab.outcome.setCurrentIndex(tab.outcome.findData("failed"))
    with qtbot.waitSignal(tab.loaded, timeout=10000) as shown:
        tab.apply_button.click()
    failed = [(tab.table.item(i, 4).text(), tab.table.item(i, 5).text()) for i in range(shown.args[0])]
    assert any(text.endswith("failed: the endpoint answered 503") for _kind, text in failed), failed
    # the wrong passwords are failures too (each failed sign-in is audited since the accounts work)
    assert sum(kind.startswith("user.") for kind, _text in failed) == users.LOCKOUT_AFTER, failed
    assert len(failed) == users.LOCKOUT_AFTER + 1, failed

    tab.outcome.setCurrentIndex(0)
    tab.user.setCurrentIndex(tab.user.findData("clerk"))
    tab.page_size = 3
    with qtbot.waitSignal(tab.loaded, timeout=10000):
        tab.apply_button.click()
    assert tab.caption.text().startswith("1–3 of 7 entries (page 1 of 3)")
    assert tab.next_button.isEnabled() and not tab.previous_button.isEnabled()
    with qtbot.waitSignal(tab.loaded, timeout=10000) as shown:
        tab.next_button.click()
    assert tab.page == 1 and shown.args[0] == 3 and tab.previous_button.isEnabled()

    # a day range of tomorrow holds nothing
    tomorrow = ui_ctx.app.now().astimezone(ui_ctx.tz).date() + timedelta(days=1)
    tab.since.setDate(tomorrow)
    with qtbot.waitSignal(tab.loaded, timeout=10000) as shown:
        tab.apply_button.click()
    assert shown.args[0] == 0 and tab.caption.text() == "No activity matches these filters."


def test_a_clerk_is_told_the_log_is_for_administrators(qtbot, ui_ctx, actors) -> None:
    tab = ActivityTab(ui_ctx)  # ui_ctx acts as the clerk
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.loaded, timeout=2000) as shown:
        tab.refresh()
    assert shown.args[0] == 0 and tab.caption.text() == "Only administrators see the activity log."
    assert not tab.apply_button.isEnabled()
