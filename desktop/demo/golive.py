"""The demo's go-live pieces: nightly backups switched on (seven kept) with tonight's taken, and a morning at
the office on the Activity screen (Administration › Activity): the staff signing in, a clerk signing out.

Last of the extensions (after the daily runs the others replay), idempotent: it does its part once.
"""

from __future__ import annotations

from desktop.demo.office import DEMO_USERS, Progress
from desktop.services.admin import maintenance, users
from desktop.services.core import settings
from desktop.services.core.clock import agency_date
from desktop.services.core.context import AppContext

ORDER = 90
#: who signs in on the demo's morning, in this order
MORNING = ("supervisor", "clerk", "clerk2", "mail", "hearing")


def extend_demo(app: AppContext, progress: Progress) -> None:
    with app.db.reading() as s:
        if int(settings.get(s, "backup.nightly_keep")) > 0:
            return  # done before
        today = agency_date(s, app.now())
    progress("Nightly backups and the morning's sign-ins", 0, 1)
    passwords = {u: pw for u, _n, _r, pw in DEMO_USERS}
    admin = users.login(app, "admin", passwords["admin"], via="demo: the morning")
    settings.set_value(app, admin, "backup.nightly_keep", 7)
    maintenance.nightly_backup(app, admin, today)
    signed_in = {name: users.login(app, name, passwords[name], via="demo: the morning") for name in MORNING}
    users.sign_out(app, signed_in["clerk2"], "File › Sign out (demo)")
    progress("Nightly backups and the morning's sign-ins", 1, 1)
