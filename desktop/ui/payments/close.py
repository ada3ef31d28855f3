"""The Payments screen's daily close: each drawer counted and closed, the deposits, the GL and payments
exports for a day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.roles import Permission
from desktop.services.lists import PaymentsFilter
from desktop.services.payments import daily_close
from desktop.services.payments import posting as payments
from desktop.ui.common.list_export import ListExportBar
from desktop.ui.common.operations import Mutation, Query
from desktop.ui.context import UiContext
from desktop.ui.payments.common import (
    PAYMENT_CHANGES,
    Column,
    PaymentsTab,
    RowsModel,
    make_table,
    note_label,
    read_money,
)


class CloseTab(PaymentsTab):
    """Drawers, the reconciliation of a day, the differences, and the exports. Signal `loaded(result)`."""

    loaded = Signal(object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        day_label = QLabel("Business &day")
        today = ctx.app.now().astimezone(ctx.tz).date() if ctx.tz else ctx.app.now().date()
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.dateChanged.connect(lambda _d: self.load())
        day_label.setBuddy(self.day)
        bar.addWidget(day_label)
        bar.addWidget(self.day)
        refresh = QPushButton("Re&fresh (F5)")
        refresh.clicked.connect(self.load)
        bar.addWidget(refresh)
        self.verdict = QLabel("")
        bar.addWidget(self.verdict, 1)
        self.gl_button = QPushButton("Export &GL…")
        self.gl_button.clicked.connect(self.export_gl)
        self.export_button = QPushButton("Export &payments…")
        self.export_button.clicked.connect(self.export_payments)
        for b in (self.gl_button, self.export_button):
            b.setEnabled(self.can(Permission.EXPORT_DATA))
            bar.addWidget(b)
        #: the day's payments as a list (printed or to a spreadsheet)
        self.list_export = ListExportBar(ctx, "payment-list", lambda: PaymentsFilter(day=self.selected_day()))
        bar.addWidget(self.list_export)
        lay.addLayout(bar)
        QShortcut(QKeySequence("F5"), self, self.load)

        top = QHBoxLayout()
        count_box = QGroupBox("Count my drawer")
        count = QFormLayout(count_box)
        self.counted_cash = QLineEdit()
        self.counted_cash.setPlaceholderText("cash in the drawer, float included")
        self.counted_cheques = QLineEdit()
        self.counted_cheques.setPlaceholderText("total of the cheques")
        self.counted_cheques.returnPressed.connect(self.close_my_drawer)
        self.close_button = QPushButton("Close my dra&wer")
        self.close_button.clicked.connect(self.close_my_drawer)
        self.close_button.setEnabled(self.can(Permission.CLOSE_DAY) and ctx.actor.user_id is not None)
        count.addRow("Counted c&ash", self.counted_cash)
        count.addRow("Counted c&heques", self.counted_cheques)
        count.addRow(self.close_button)
        top.addWidget(count_box, 1)
        self.drawer_model = RowsModel([
            Column("Clerk", lambda d: d.clerk, width=130),
            Column("Status", lambda d: "closed" if d.is_closed else "open", width=60),
            Column("Float", lambda d: d.opening_float_cents, "money", 80),
            Column("Cash", lambda d: d.cash_cents, "money", 80),
            Column("Cheques", lambda d: d.cheques_cents, "money", 80),
            Column("Cards", lambda d: d.card_cents, "money", 80),
            Column("Expected", lambda d: d.expected_cash_cents + d.expected_cheques_cents, "money", 85),
            Column("Counted", lambda d: None if d.counted_cash_cents is None else
                   d.counted_cash_cents + (d.counted_cheques_cents or 0), "money", 85),
            Column("Difference", lambda d: d.difference_cents, "money", 85),
        ], ctx.tz, self)
        drawers = make_table(self.drawer_model)
        drawers.setMinimumHeight(110)
        top.addWidget(drawers, 3)
        lay.addLayout(top)

        self.line_model = RowsModel([
            Column("Source", lambda r: r.label, width=130),
            Column("Payments", lambda r: r.count, width=80),
            Column("Received", lambda r: r.received_cents, "money", 100),
            Column("Applied to cases", lambda r: r.applied_cents, "money", 125),
            Column("Unmatched", lambda r: r.unmatched_cents, "money", 95),
            Column("Reversed", lambda r: r.reversed_cents, "money", 95),
            Column("Files / drawers say", lambda r: r.reported_cents, "money", 140),
            Column("Difference", lambda r: r.difference_cents, "money", 95),
        ], ctx.tz, self)
        lines = make_table(self.line_model)
        lines.setMaximumHeight(170)
        lay.addWidget(lines)
        self.deposits = note_label("")
        lay.addWidget(self.deposits)
        lay.addWidget(QLabel("<b>Differences to explain</b>"))
        self.diff_model = RowsModel([
            Column("Kind", lambda d: d.kind.replace("_", " "), width=130),
            Column("Source", lambda d: d.source, width=80),
            Column("Amount", lambda d: d.amount_cents or None, "money", 90),
            Column("What", lambda d: d.text, width=900),
        ], ctx.tz, self)
        diffs = make_table(self.diff_model)
        lay.addWidget(diffs, 1)

    def selected_day(self) -> date:
        return date.fromisoformat(self.day.date().toString("yyyy-MM-dd"))

    def load(self) -> None:
        if not self.can(Permission.CLOSE_DAY):
            self.verdict.setText("Your role does not close the day.")
            return
        app, actor, day = self.ctx.app, self.ctx.actor, self.selected_day()
        Query(self.ctx, self, lambda _c: daily_close.daily_close(app, actor, day), success=self._arrived).run()

    def _arrived(self, result: daily_close.DailyClose) -> None:
        self.drawer_model.set_rows(result.drawers, result.currency)
        self.line_model.set_rows(result.lines, result.currency)
        self.diff_model.set_rows(result.differences, result.currency)
        seen = [f"{e['what']} {format_cents(int(str(e['amount_cents'])), result.currency)}: "
                + (f"in {e['seen_in']}" if e.get("seen_in") else "<b>not in any bank statement yet</b>")
                for e in result.deposits_expected]
        self.deposits.setText("<b>Deposits</b> — " + "; ".join(seen) if seen else
                              "<b>Deposits</b> — none expected yet (no closed drawer, lockbox or card file).")
        total = format_cents(result.received_cents, result.currency)
        if not result.differences:
            self.verdict.setText(f"<span style='color:#2e7d32'><b>{total} received; every cent is explained.</b>"
                                 f"</span>")
        else:
            self.verdict.setText(f"<span style='color:#8a5a00'><b>{total} received; {len(result.differences)} "
                                 f"difference(s) to look at.</b></span>")
        self.loaded.emit(result)

    def close_my_drawer(self) -> None:
        try:
            cash = read_money(self.counted_cash, "cash counted")
            cheques = parse_money(self.counted_cheques.text()) if self.counted_cheques.text().strip() else 0
        except UserError as exc:
            self.ctx.error(exc)
            return
        app, actor, day = self.ctx.app, self.ctx.actor, self.selected_day()

        def done(summary: daily_close.DrawerSummary) -> None:
            diff = summary.difference_cents or 0
            self.ctx.info("Drawer closed: " + ("it balances." if diff == 0 else
                                               f"{'over' if diff > 0 else 'short'} by "
                                               f"{format_cents(abs(diff), summary.currency)}."))
            self.counted_cash.clear()
            self.counted_cheques.clear()

        Mutation(self.ctx, self, lambda _c: daily_close.close_drawer(app, actor, cash, cheques, day=day),
                 changes=PAYMENT_CHANGES, success=done).run()

    def export_gl(self) -> None:
        day = self.selected_day()
        path, _ = QFileDialog.getSaveFileName(self, "Export the general ledger", f"gl-{day:%Y-%m-%d}.csv",
                                              "CSV files (*.csv)")
        if not path:
            return
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: daily_close.export_gl(app, actor, day, Path(path)),
              success=lambda lines: self.ctx.info(f"{len(lines)} journal lines written to {path}.")).run()

    def export_payments(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export payments", "payments.csv", "CSV files (*.csv)")
        if not path:
            return
        app, actor = self.ctx.app, self.ctx.actor
        Query(self.ctx, self, lambda _c: payments.export_payments(app, actor, Path(path)),
              success=lambda n: self.ctx.info(f"{n:,} payments written to {path}.")).run()
