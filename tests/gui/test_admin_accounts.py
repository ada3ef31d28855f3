"""Administration › Sign-ins shows failed sign-ins and lockouts to administrators; Users › Reset password…
is an administrator's button (the service refuses anyone else anyway)."""

from __future__ import annotations

import dataclasses

import pytest

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.services.admin import users
from desktop.ui.accounts import SignInEventsTab
from desktop.ui.admin.view import AdminView


def test_failed_sign_ins_and_lockouts_are_listed_in_red(qtbot, ui_ctx, actors) -> None:
    for _ in range(users.LOCKOUT_AFTER):
        with pytest.raises(UserError):
            users.login(ui_ctx.app, "hearing_officer", "a-wrong-guess-1")
    ctx = dataclasses.replace(ui_ctx, actor=actors[Role.ADMIN])
    tab = SignInEventsTab(ctx)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.loaded, timeout=5000):
        tab.failures_only.setChecked(True)
    assert tab.table.rowCount() == users.LOCKOUT_AFTER + 1
    assert tab.table.item(0, 1).text() == "LOCKED OUT" and tab.table.item(0, 2).text() == "hearing_officer"
    assert tab.table.item(1, 1).text() == "FAILED sign-in"
    assert tab.table.item(0, 1).foreground().color().name() == "#b71c1c"


def test_the_reset_button_is_for_administrators(qtbot, ui_ctx, actors) -> None:
    clerk_view = AdminView(ui_ctx)
    qtbot.addWidget(clerk_view)
    assert not clerk_view.users.reset_button.isEnabled()
    admin_view = AdminView(dataclasses.replace(ui_ctx, actor=actors[Role.ADMIN]))
    qtbot.addWidget(admin_view)
    assert admin_view.users.reset_button.isEnabled()
    assert admin_view.tabs.tabText(admin_view.tabs.indexOf(admin_view.sign_ins)) == "Sign-ins"
