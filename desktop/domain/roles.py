"""Roles and what each may do. The services check these on every use case."""

from __future__ import annotations

from enum import StrEnum

from desktop.domain.errors import PermissionDenied


class Role(StrEnum):
    CLERK = "clerk"
    HEARING_OFFICER = "hearing_officer"
    MAIL_OFFICE = "mail_office"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Permission(StrEnum):
    VIEW_CASES = "view cases"
    REVIEW_CITATIONS = "review citations"
    BULK_APPROVE = "approve citations in bulk"
    BULK_CHANGE = "change many cases at once"
    EDIT_CASES = "edit cases"
    LOOKUP_OWNERS = "look up registered owners"
    IMPORT_DATA = "import data"
    POST_PAYMENTS = "post payments"
    MATCH_PAYMENTS = "match payments"
    REVERSE_PAYMENTS = "reverse payments"
    REQUEST_REFUNDS = "request refunds"
    APPROVE_REFUNDS = "approve refunds"
    CLOSE_DAY = "close the day"
    FILE_APPEALS = "file appeals"
    OVERRIDE_DEADLINES = "override deadlines"
    SCHEDULE_HEARINGS = "schedule hearings"
    DECIDE_APPEALS = "decide appeals"
    RUN_NOTICES = "run notices"
    CONFIRM_MAILING = "confirm mailing"
    RECORD_RETURNED_MAIL = "record returned mail"
    RUN_ESCALATION = "run the daily escalation"
    PLACE_HOLDS = "place holds"
    SYNC_FIELD_DATA = "sync field data"
    RESOLVE_QUARANTINE = "resolve quarantined events"
    MANAGE_DEVICES = "manage devices"
    MANAGE_PERMITS = "manage permits"
    MANAGE_USERS = "manage users"
    MANAGE_SETTINGS = "manage settings"
    VIEW_REPORTS = "view reports"
    #: the management reports, the patrol statistics and plans, the dashboard's management figures (issue 18):
    #: supervisors and administrators, not clerks
    REPORTS_VIEW = "see the management reports"
    VIEW_AUDIT = "view the audit trail"
    EXPORT_DATA = "export data"
    BACKUP = "back up the database"
    UPGRADE_DATABASE = "upgrade the database schema"
    RESTORE_DATABASE = "restore the database from a backup"
    VIEW_ACTIVITY = "view the activity log"
    PATROL_PLAN = "make and change patrol plans"


P = Permission
_CLERK = {
    P.VIEW_CASES, P.REVIEW_CITATIONS, P.EDIT_CASES, P.LOOKUP_OWNERS, P.IMPORT_DATA,
    P.POST_PAYMENTS, P.MATCH_PAYMENTS, P.REQUEST_REFUNDS, P.CLOSE_DAY, P.FILE_APPEALS,
    P.SYNC_FIELD_DATA, P.RECORD_RETURNED_MAIL, P.EXPORT_DATA, P.VIEW_REPORTS,
}
_HEARING = {P.VIEW_CASES, P.DECIDE_APPEALS, P.SCHEDULE_HEARINGS, P.FILE_APPEALS, P.VIEW_REPORTS}
_MAIL = {P.VIEW_CASES, P.RUN_NOTICES, P.CONFIRM_MAILING, P.RECORD_RETURNED_MAIL, P.VIEW_REPORTS}
_SUPERVISOR = (
    _CLERK
    | _MAIL
    | {
        P.BULK_APPROVE, P.BULK_CHANGE, P.REVERSE_PAYMENTS, P.APPROVE_REFUNDS, P.OVERRIDE_DEADLINES,
        P.SCHEDULE_HEARINGS, P.RUN_ESCALATION, P.PLACE_HOLDS, P.RESOLVE_QUARANTINE,
        P.MANAGE_DEVICES, P.MANAGE_PERMITS, P.VIEW_AUDIT, P.PATROL_PLAN, P.REPORTS_VIEW,
    }
)
#: Deciding appeals is the hearing officer's alone: not even an administrator decides.
_ADMIN = (set(Permission) - {P.DECIDE_APPEALS})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(_CLERK),
    Role.HEARING_OFFICER: frozenset(_HEARING),
    Role.MAIL_OFFICE: frozenset(_MAIL),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(_ADMIN),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]


def require(role: Role, permission: Permission, username: str = "") -> None:
    """Raise PermissionDenied unless the role grants the permission."""
    if not allowed(role, permission):
        who = f"{username} ({role.label.lower()})" if username else role.label
        raise PermissionDenied(f"{who} may not {permission.value}. Ask a supervisor.")
