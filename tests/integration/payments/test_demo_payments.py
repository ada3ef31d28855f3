"""The demo office's payments: every tab of the Payments screen has content, and a second run adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from desktop.demo.office import build_demo
from desktop.persistence.models import AuditEntry, CashDrawer, LedgerEntry, Notice, Payment, PaymentImport, PaymentPlan
from desktop.services.admin import users
from desktop.services.core.clock import agency_date
from desktop.services.core.context import AppContext
from desktop.services.payments import daily_close, refunds
from desktop.services.payments import posting as payments


def _counts(app: AppContext) -> tuple[int, ...]:
    with app.db.reading() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)
                     for t in (Payment, LedgerEntry, PaymentImport, PaymentPlan, CashDrawer, Notice))


def test_demo_fills_every_tab_once(app: AppContext) -> None:
    build_demo(app, 150, seed=7)
    clerk = users.actor_for(app, "clerk")
    supervisor = users.actor_for(app, "supervisor")
    assert len(payments.unmatched_payments(app, clerk)) == 2
    queue = refunds.refund_queue(app, clerk)
    assert len(queue) >= 2 and sum(1 for r in queue if r.refund_id) == 1
    assert refunds.unnoticed_overpayments(app, clerk) == []
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "reversed")) == 1
        assert s.scalar(select(func.count()).select_from(PaymentImport)) == 2
        # the payments demo's plans (one indigent) and the agency plans the reports demo (desktop/demo/reports.py)
        # enrols for the Payment plans report: each enrolled once
        enrolled = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "plan.enrolled"))
        assert s.scalar(select(func.count()).select_from(PaymentPlan)) == enrolled >= 2
        assert s.scalar(select(func.count()).select_from(PaymentPlan).where(PaymentPlan.kind == "indigent")) == 1
        day = agency_date(s, app.now())
    close = daily_close.daily_close(app, supervisor, day)
    assert len(close.drawers) == 2 and {d.is_closed for d in close.drawers} == {True, False}
    kinds = {d.kind for d in close.differences}
    assert {"unmatched", "reversed", "open_drawer", "drawer"} <= kinds
    assert "missing_deposit" not in kinds  # the demo statement carries the closed drawer's deposit and the cards
    before = _counts(app)
    build_demo(app, 150, seed=7)
    assert _counts(app) == before
