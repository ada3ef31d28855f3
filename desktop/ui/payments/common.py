"""The pieces every tab of the Payments screen shares: the column-described table model and its table,
money read from and written to a field, and the base of the tabs that reload when shown and when the
operation bus says payments changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from desktop.domain.errors import UserError
from desktop.domain.ledger import format_cents, parse_money
from desktop.domain.roles import Permission, allowed
from desktop.ui.common.list_model import Index, ListTableModel
from desktop.ui.common.operations import Changes, initiated_by
from desktop.ui.common.widgets import row_table
from desktop.ui.context import UiContext


@dataclass(frozen=True)
class Column:
    """One column of a `RowsModel`: its header, how to read it from a row, and what kind of value it is."""

    header: str
    value: Callable[[Any], Any]
    kind: str = "text"  # text, money, date, datetime
    width: int = 110


class RowsModel(ListTableModel):
    """A small list-backed table (queues and summaries hold hundreds of rows, not millions).

    `ROW_ROLE` returns the row object itself. Money is right-aligned, negative amounts in red, written in the
    currency the rows came with (`set_rows`): the office's, as the service that read them said."""


    def __init__(self, columns: Sequence[Column], tz: Any = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.tz = tz
        #: ISO 4217 code of the money columns; None until rows with money have come
        self.currency: str | None = None

    def set_rows(self, rows: Sequence[Any], currency: str | None = None) -> None:
        """Show ``rows``; ``currency`` is that of their money (kept from the last rows when not given: the
        same rows again, ticked or emptied)."""
        if currency is not None:
            self.currency = currency
        super().set_rows(rows)

    def header_labels(self) -> list[str]:
        return [c.header for c in self.columns]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == self.ROW_ROLE:
            return row
        value = col.value(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(value, col.kind)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.kind == "money":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col.kind == "money" and isinstance(value, int) and value < 0:
            return QBrush(QColor("#b71c1c"))
        if role == Qt.ItemDataRole.ToolTipRole and col.kind == "text" and value:
            return str(value)
        return None

    def _display(self, value: Any, kind: str) -> str:
        if value is None:
            return ""
        if kind == "money":
            if self.currency is None:
                raise RuntimeError("a money column was shown before its rows said their currency")
            return format_cents(int(value), self.currency)
        if kind == "datetime" and isinstance(value, datetime):
            return (value.astimezone(self.tz) if self.tz else value).strftime("%Y-%m-%d %H:%M")
        if kind == "date" and isinstance(value, datetime):
            return (value.astimezone(self.tz) if self.tz else value).date().isoformat()
        if kind == "date" and isinstance(value, date):
            return value.isoformat()
        return str(value)


def make_table(model: RowsModel, *, multi: bool = False) -> QTableView:
    """A read-only table of the model's rows, each column at its `Column.width`."""
    return row_table(model, [c.width for c in model.columns], multi=multi, read_only=True)


def selected_rows(table: QTableView) -> list[Any]:
    model = table.model()
    assert isinstance(model, RowsModel)
    rows = sorted({i.row() for i in table.selectionModel().selectedRows()})
    return [model.row_at(r) for r in rows if model.row_at(r) is not None]


def money_text(cents: int) -> str:
    """Cents as a clerk types them: 6300 -> '63.00'."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def read_money(edit: QLineEdit, what: str) -> int:
    text = edit.text().strip()
    if not text:
        raise UserError(f"Enter the {what}.")
    return parse_money(text)


#: what a payment action may change: the payments and ledgers, the cases they pay (balance, status),
#: and the notices a paid case no longer needs
PAYMENT_CHANGES = Changes(payments=True, cases=True, notices=True)


class PaymentsTab(QWidget):
    """A tab that reloads when shown, and when payments change: at once for a change made here or while
    the tab is showing, else when it is next shown."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._stale = True
        ctx.bus.subscribe(self, self._data_changed)

    def _data_changed(self, changes: Changes, initiator: object) -> None:
        if not changes.payments:
            return
        if initiated_by(initiator, self) or self.isVisible():
            self.load()
        else:
            self.mark_stale()

    def mark_stale(self) -> None:
        self._stale = True

    def refresh(self) -> None:
        self._stale = False
        self.load()

    def load(self) -> None:
        raise NotImplementedError

    def summary_column(self) -> QVBoxLayout:
        """The tab's column layout, opened by `self.summary`: the line that says what was loaded."""
        lay = QVBoxLayout(self)
        self.summary = note_label("Loading…")
        lay.addWidget(self.summary)
        return lay

    def can(self, permission: Permission) -> bool:
        return allowed(self.ctx.actor.role, permission)

    def then_tell(self, message: Callable[[Any], str]) -> Callable[[Any], None]:
        """A success callback that tells the user what happened (the tab reloads through the bus)."""
        def done(result: Any) -> None:
            self.ctx.info(message(result))
        return done


def note_label(text: str, colour: str = "#555") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color:{colour}")
    return label
