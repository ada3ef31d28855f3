"""The daily run: every step the office runs once a day, in order, as one use case for the screens and
the command line.

An orchestrator above the workflows it calls: the nightly backup first (``backup.nightly_keep``; before the
run changes anything), appeal deadlines (England's deemed acceptance
closes cases), then payment plans (a default reinstates waived fees and ends the plan's hold), then
the escalation of every case along its profile's ladder, then the plates in the photos no workstation
read yet (issue 20). Nothing in the services imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from desktop.domain.errors import UserError
from desktop.domain.roles import Permission
from desktop.services.admin.maintenance import nightly_backup
from desktop.services.appeals.deadlines import apply_appeal_deadlines
from desktop.services.cases.escalation import EscalationResult, Progress, run_escalation
from desktop.services.core import audit, settings
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices.print_copies import make_print_copies
from desktop.services.payments.plans import check_plans
from desktop.services.review.plates import read_plates

PLATE_DAYS = 30
"""The daily run reads the plates in the photos of citations issued in the last this many days."""

log = logging.getLogger(__name__)


class DailyRunCancelled(Exception):
    """Cancel was asked before the escalation committed: nothing of the escalation was stored. ``kept``: the
    report lines of the steps before it, each its own transaction and committed (tonight's backup, the appeal
    deadlines, the payment plans)."""

    def __init__(self, kept: list[str]) -> None:
        super().__init__("Cancelled before the escalation committed")
        self.kept = kept


def _backup_line(app: AppContext, actor: Actor) -> str:
    """Tonight's backup, named by the agency's real today (not ``as_of``, which may replay another day). A
    backup that fails is reported on its line and in the log; the run goes on (the cases must still move)."""
    with app.db.reading() as session:
        today = agency_date(session, app.now())
    try:
        return nightly_backup(app, actor, today).line()
    except UserError as exc:
        log.error("nightly backup failed: %s", exc)
        return f"Nightly backup FAILED: {exc}"


def _section(title: str, lines: list[str]) -> list[str]:
    """Another step's report under its title, one finding a line (first line: what was checked)."""
    return [f"{title}: {lines[0]}" if lines else f"{title}: nothing to check."] + [f"  {ln}" for ln in lines[1:]]


def run_daily(app: AppContext, actor: Actor, as_of: date | None = None,
              progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> EscalationResult:
    """The whole daily run: appeal deadlines first (England's deemed acceptance closes cases), then
    payment plans (a default reinstates waived fees and ends the plan's hold), then the escalation, then
    the print copies of the photos of the notices it queued (so the notice run need not make them), then
    the plates of the photos no workstation read.

    The invoking user must be allowed to run the escalation; the steps then act as the system account
    (their automatic work needs powers no one role holds, such as applying deadlines), named in the
    audit trail with the invoking user: ``system:daily-run by alice``.

    ``cancelled`` (Cancel asked): until the escalation commits, the run stops with ``DailyRunCancelled`` and the
    escalation's one transaction is rolled back; after it, the print copies and the plate reading stop at their
    next photo or batch and the report says what was done and what waits. ``progress`` only reports."""
    with app.reader(actor, Permission.RUN_ESCALATION):
        pass
    if not actor.is_system:
        actor = Actor.system(f"daily-run by {actor.username}"[:57])  # the audit username is 64 characters

    kept: list[str] = []

    def step(done: int, total: int, text: str) -> None:
        if cancelled is not None and cancelled():
            raise DailyRunCancelled(kept)
        if progress:
            progress(done, total, text)

    def report(done: int, total: int, text: str) -> None:
        if progress:
            progress(done, total, text)

    step(0, 0, "Nightly backup")
    backup_line = _backup_line(app, actor)
    kept.append(backup_line)
    step(0, 0, "Appeal deadlines")
    deadlines = apply_appeal_deadlines(app, actor, as_of)
    kept.extend(_section("Appeal deadlines", deadlines.lines()))
    step(0, 0, "Payment plans")
    plans = check_plans(app, actor, as_of)
    kept.extend(_section("Payment plans", plans.lines()))
    result = run_escalation(app, actor, as_of, step)
    # committed: from here a Cancel stops the remaining steps, each keeping what it did
    stop = cancelled or (lambda: False)
    # the photos of the notices just queued get their print copies now, off the notice run's critical path
    copies = make_print_copies(app, actor, report, stop)
    report(0, 0, "Plate photos")
    # the photos a sync brought in and no workstation read yet (the last PLATE_DAYS days: never the whole archive)
    day = as_of or app.now().date()
    with app.db.reading() as session:
        most = int(settings.get(session, "plates.daily_run_max_photos"))

    def plates_read(done: int, total: int) -> None:
        shown = min(total, most) if most else total
        report(min(done, shown), shown, f"Plate photos: {min(done, shown):,} of {shown:,} read")

    photos = read_plates(app, actor, day - timedelta(days=PLATE_DAYS), max_photos=most, progress=plates_read,
                         cancelled=stop)
    result.other_steps = ([backup_line] + _section("Appeal deadlines", deadlines.lines())
                          + _section("Payment plans", plans.lines()) + _section("Print copies", copies.lines())
                          + _section("Plate photos", photos.lines()))
    # last: anchor the audit head (and the sealed tables' counts) in the checkpoint file outside the database
    result.other_steps.append(audit.checkpoint(app.db).line)
    return result
