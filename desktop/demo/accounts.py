"""The demo's sign-in history: a few failed sign-ins (a typo, a name nobody has) for Administration › Sign-ins,
made through the sign-in itself, so the screen a newcomer opens has what an office sees on a Monday."""

from __future__ import annotations

from sqlalchemy import func, select

from desktop.demo.office import DEMO_USERS
from desktop.domain.errors import UserError
from desktop.persistence.models import AuditEntry
from desktop.services.admin import users
from desktop.services.core.context import AppContext

ORDER = 90

#: (username typed, password typed, where from): fewer failures than a lockout, so every demo account works
ATTEMPTS = [("hearing", "curbdesk-haering", "sign-in window"), ("jsmith", "Summer2024!", "sign-in window"),
            ("hearing", "curbdesk-hearign", "sign-in window")]


def extend_demo(app: AppContext, progress: object = None) -> None:
    with app.db.reading() as s:
        if s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.sign_in_failed")):
            return
    for username, password, via in ATTEMPTS:
        try:
            users.login(app, username, password, via=via)
        except UserError:
            pass  # the point: each one is a failed sign-in, audited
    # then the hearing officer gets it right (which also clears the failure count)
    users.login(app, "hearing", dict((u, pw) for u, _n, _r, pw in DEMO_USERS)["hearing"], via="sign-in window")
