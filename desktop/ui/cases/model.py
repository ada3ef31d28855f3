"""The case list as a windowed table model: a count, then 256-row pages fetched off the GUI thread.

It never loads everything: pages are fetched on demand through the TaskRunner and kept in a
small cache, so a list of 1,000,000 citations paints as fast as one of 100.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor

from desktop.domain.ladder import describe_next_action
from desktop.domain.ledger import format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.services.cases.queries import CaseFilter, CaseRow, count_cap
from desktop.ui.common.list_model import ROW_ROLE, Index
from desktop.ui.common.operations import Query
from desktop.ui.common.tasks import TaskControl, TaskRunner
from desktop.ui.common.widgets import STATUS_COLOURS

PAGE = 256
MAX_PAGES = 64
#: how long after an estimated list's first paint its exact count starts
COUNT_AFTER_PAINT_MS = 100


class CaseSource:
    """Where the rows come from (injected, so tests can hand in a temporary database)."""

    def __init__(self, count: Callable[[CaseFilter], int],
                 page: Callable[[CaseFilter, int, int], list[CaseRow]],
                 estimate: Callable[[CaseFilter], int | None] | None = None) -> None:
        self.count = count
        self.page = page
        #: a quick estimate of a big list's count (None: count it), shown first and counted exactly after
        self.estimate = estimate


class WindowedTableModel(QAbstractTableModel):
    """A table over a query of any size: a count, then PAGE-row pages fetched off the GUI thread.

    Subclasses set HEADERS and implement `data()` using `row_at(row)`, which is None (and asks for the
    page) until the page has arrived; a subclass whose count stops early overrides `count_cap()`, and
    `capped` then says the list shows only the first `count_cap` rows of more. With an ``estimate``
    function, a big list is first shown with its estimated count (`estimated` is True) and counted exactly
    off the GUI thread afterwards: the rows past the estimate are added, or those the list does not have
    removed, and `counted(count)` says so. Signals: `loaded(count)` after a new filter's first page (the
    rows shown); `counted(count)` when an estimated count has been corrected (by the exact count, or by a page
    that came back short: see `estimated`);
    `page_loaded(page)`; `failed(exc)`.
    """

    HEADERS: ClassVar[list[str]] = []
    #: the column whose text is coloured by the row's status
    STATUS: ClassVar[int] = -1
    ROW_ROLE = ROW_ROLE
    #: the roles `data()` and `row_data()` answer; a subclass answering another adds it here
    ANSWERED_ROLES: ClassVar[frozenset[int]] = frozenset({
        Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole, ROW_ROLE})

    loaded = Signal(int)
    counted = Signal(int)
    page_loaded = Signal(int)
    failed = Signal(object)

    def __init__(self, runner: TaskRunner, count: Callable[[Any], int],
                 page: Callable[[Any, int, int], list[Any]], initial_filter: Any, parent: Any = None,
                 estimate: Callable[[Any], int | None] | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.count_fn = count
        self.page_fn = page
        self.estimate_fn = estimate
        self.filter = initial_filter
        self._count = 0
        self.capped = False
        self.estimated = False
        self._pages: OrderedDict[int, list[Any]] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0

    # --------------------------------------------------------------- loading
    def set_filter(self, f: Any) -> None:
        """The list of ``f``: its count (or estimate) and its first page, asked for at once on two worker
        threads (each its own database connection), shown when both have come. One after the other they
        took their sum. A text search, counted only to its cap, asks for its first page alone and shows it:
        all of the list when it is short, else the first rows of "at least" that many, counted after the
        paint like an estimate (an owner's surname at a million on PostgreSQL: 19.6 ms to count to 1,001,
        11.7 ms for its first 256 rows with balances)."""
        self._generation += 1
        gen = self._generation
        if self.count_cap(f) is not None:
            Query(self.runner, self, lambda _c: self.page_fn(f, 0, PAGE),
                  success=lambda rows: self._first_loaded(gen, f, (len(rows), len(rows) >= PAGE, rows)),
                  failure=self.failed.emit).run()
            return
        parts: dict[str, Any] = {}

        def counting(_c: TaskControl) -> tuple[int, bool]:
            guess = self.estimate_fn(f) if self.estimate_fn is not None else None
            return (guess, True) if guess is not None else (self.count_fn(f), False)

        def arrived(part: str, value: Any) -> None:
            parts[part] = value
            if gen == self._generation and "count" in parts and "page" in parts and "failed" not in parts:
                count, estimated = parts["count"]
                self._first_loaded(gen, f, (count, estimated, parts["page"]))

        def failed(exc: BaseException) -> None:
            if gen == self._generation and "failed" not in parts:
                parts["failed"] = exc  # one message, though both halves fail (the server is gone)
                self.failed.emit(exc)

        Query(self.runner, self, counting, success=lambda r: arrived("count", r), failure=failed).run()
        Query(self.runner, self, lambda _c: self.page_fn(f, 0, PAGE), success=lambda r: arrived("page", r),
              failure=failed).run()

    def refresh(self) -> None:
        self.set_filter(self.filter)

    def count_cap(self, f: Any) -> int | None:
        """The most rows the count of ``f`` goes to (a count above it means more); None: counted to the end."""
        return None

    def _first_loaded(self, gen: int, f: Any, result: tuple[int, bool, list[Any]]) -> None:
        """Show the first page with its count: exact, or (``result[1]``) a first guess that is counted exactly
        after the paint."""
        if gen != self._generation:
            return
        self.beginResetModel()
        self.filter = f
        count, estimated, first = result
        cap = self.count_cap(f)
        self.capped = cap is not None and count > cap
        self._count = min(count, cap) if cap is not None else count
        self.estimated = estimated
        self._pages = OrderedDict({0: first})
        self._pending.clear()
        self.endResetModel()
        if estimated and len(first) < PAGE:  # the whole list is on its first page: that is its count
            self._set_count(len(first))
        self.loaded.emit(self._count)
        if self.estimated:
            # counted once the list has painted: the count's worker, started at once, took the interpreter
            # from the GUI thread while it painted (at a million on PostgreSQL the list took 65 ms to paint
            # instead of 35 ms); the paint itself takes about 30 ms
            QTimer.singleShot(COUNT_AFTER_PAINT_MS, self, lambda: self._count_exactly(gen, f))

    def _count_exactly(self, gen: int, f: Any) -> None:
        if gen == self._generation and self.estimated:
            Query(self.runner, self, lambda _c: self.count_fn(f), success=lambda n: self._counted(gen, n),
                  failure=self.failed.emit).run()

    def _set_count(self, count: int, *, exact: bool = True) -> None:
        """The list's length in place of an estimate (``exact``, or at most this): rows added at the end, or
        removed from it."""
        self.estimated = not exact
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        elif count < self._count:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            self.endRemoveRows()

    def _counted(self, gen: int, count: int) -> None:
        if gen != self._generation or not self.estimated:
            return
        cap = self.count_cap(self.filter)
        self.capped = cap is not None and count > cap
        self._set_count(min(count, cap) if cap is not None else count)
        self.counted.emit(self._count)

    def _request(self, page: int) -> None:
        if page in self._pending:
            return
        self._pending.add(page)
        gen, f = self._generation, self.filter
        Query(self.runner, self, lambda _c: self.page_fn(f, page * PAGE, PAGE),
              success=lambda rows: self._page_arrived(gen, page, rows), failure=self.failed.emit).run()

    def _page_arrived(self, gen: int, page: int, rows: list[Any]) -> None:
        self._pending.discard(page)
        if gen != self._generation:
            return
        self._pages[page] = rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        first = page * PAGE
        if self.estimated and len(rows) < PAGE and first + len(rows) < self._count:
            # scrolled past the list's end before its exact count came: a short page says where it is, an
            # empty one that it is before this page
            self._set_count(first + len(rows), exact=bool(rows))
            self.counted.emit(self._count)
        last = min(first + PAGE, self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.HEADERS) - 1))
        self.page_loaded.emit(page)

    def row_at(self, row: int) -> Any:
        page = self._pages.get(row // PAGE)
        if page is None:
            return None
        offset = row % PAGE
        return page[offset] if offset < len(page) else None

    # --------------------------------------------------------------- Qt model
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """An unloaded row shows "…" (and asks for its page); a loaded one answers `ROW_ROLE` with itself,
        its text by `_display()`, the `STATUS` column's colour by the status, the rest by `row_data()`.
        Roles outside `ANSWERED_ROLES` get None at once: a paint asks seven roles of every visible cell."""
        if role not in self.ANSWERED_ROLES or not index.isValid():
            return None
        r = self.row_at(index.row())
        if r is None:
            if role == Qt.ItemDataRole.DisplayRole and index.row() // PAGE not in self._pages:
                self._request(index.row() // PAGE)
                return "…" if index.column() == 0 else ""
            return None
        col = index.column()
        if role == self.ROW_ROLE:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.STATUS:
            return QBrush(QColor(STATUS_COLOURS.get(r.status, "#000000")))
        return self.row_data(r, col, role)

    def _display(self, r: Any, col: int) -> str:
        raise NotImplementedError

    def row_data(self, r: Any, col: int, role: int) -> Any:
        """A loaded row's answer for the roles `data()` leaves to the subclass (tool tips, colours...)."""
        return None


class CaseTableModel(WindowedTableModel):
    """Signals: `loaded(count)` after a new filter's first page; `page_loaded(page)`; `failed(exc)`.

    A text search is counted only up to ``cases.SEARCH_COUNT_CAP`` (``capped`` says there are more)."""

    CITATION, ISSUED, PLATE, STATE, VIOLATION, STATUS, OWNER, BALANCE, NEXT_ACTION, EVIDENCE = range(10)
    HEADERS = ["Citation", "Issued", "Plate", "State", "Violation", "Status", "Registered owner",
               "Balance", "Next action", "Evidence"]

    def __init__(self, runner: TaskRunner, source: CaseSource, tz: Any = None, parent: Any = None) -> None:
        super().__init__(runner, source.count, source.page, CaseFilter(), parent, estimate=source.estimate)
        self.source = source
        self.tz = tz

    def count_cap(self, f: Any) -> int | None:
        return count_cap(f)

    def row_data(self, r: CaseRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and col == self.EVIDENCE and r.evidence_status != "ok":
            return QBrush(QColor("#b71c1c"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.BALANCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == self.VIOLATION:
            return r.violation_description
        if role == Qt.ItemDataRole.ToolTipRole and col == self.PLATE and r.photo_read:
            return "◎ Found by the plate read from its evidence photo: the plate typed on it is another."
        if role == Qt.ItemDataRole.ToolTipRole and col == self.PLATE and r.lookalike:
            return "Found by a look-alike character (O/0, I/1, B/8, S/5, Z/2): check the plate."
        if role == Qt.ItemDataRole.ToolTipRole and col == self.NEXT_ACTION and r.next_action:
            return describe_next_action(r.next_action)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.NEXT_ACTION and r.next_action_date:
            if r.next_action_date < date.today() and r.status in ("open", "in_collections", "under_appeal"):
                return QBrush(QColor("#b71c1c"))
        if role == Qt.ItemDataRole.ForegroundRole and col == self.PLATE and (r.lookalike or r.photo_read):
            return QBrush(QColor("#8a5a00"))
        return None

    def _display(self, r: CaseRow, col: int) -> str:
        if col == self.CITATION:
            return r.citation_number
        if col == self.ISSUED:
            at = r.issued_at.astimezone(self.tz) if self.tz else r.issued_at
            return at.strftime("%Y-%m-%d %H:%M")
        if col == self.PLATE:
            return r.plate + ("  ≈" if r.lookalike else "") + ("  ◎" if r.photo_read else "")  # ◎: see the tooltip
        if col == self.STATE:
            return r.jurisdiction
        if col == self.VIOLATION:
            return f"{r.violation_code}  {r.violation_description}"
        if col == self.STATUS:
            try:
                label = CaseStatus(r.status).label
            except ValueError:
                label = r.status
            return label + (f"  ⚠{r.warning_count}" if r.warning_count else "")
        if col == self.OWNER:
            return r.owner_name or ""
        if col == self.BALANCE:
            return format_cents(r.balance_cents, r.currency)
        if col == self.NEXT_ACTION:
            if not r.next_action:
                return ""
            when = r.next_action_date.isoformat() if r.next_action_date else "no date"
            return f"{when}  {describe_next_action(r.next_action)}"
        if col == self.EVIDENCE:
            return {"ok": "verified", "integrity_failed": "FAILED", "missing": "missing",
                    "none": "none"}.get(r.evidence_status, r.evidence_status)
        return ""
