"""Who may do what."""

import pytest

from desktop.domain.errors import PermissionDenied
from desktop.domain.roles import GRANTS, Permission, Role, allowed, require


def test_only_hearing_officers_decide_appeals() -> None:
    assert [r for r in Role if allowed(r, Permission.DECIDE_APPEALS)] == [Role.HEARING_OFFICER]


def test_clerk_cannot_manage_users_and_message_names_them() -> None:
    with pytest.raises(PermissionDenied, match="casey \\(clerk\\) may not manage users"):
        require(Role.CLERK, Permission.MANAGE_USERS, "casey")


def test_refund_approval_is_a_supervisor_power() -> None:
    assert not allowed(Role.CLERK, Permission.APPROVE_REFUNDS)
    assert allowed(Role.CLERK, Permission.REQUEST_REFUNDS)
    assert allowed(Role.SUPERVISOR, Permission.APPROVE_REFUNDS)


def test_mail_office_prints_but_does_not_take_money() -> None:
    assert allowed(Role.MAIL_OFFICE, Permission.RUN_NOTICES)
    assert not allowed(Role.MAIL_OFFICE, Permission.POST_PAYMENTS)


def test_every_role_has_grants() -> None:
    assert set(GRANTS) == set(Role)
    assert all(Permission.VIEW_CASES in GRANTS[r] for r in Role)
