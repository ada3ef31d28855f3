"""The lists a user prints or exports: the case list and its work lists, the review queue, payments, held
notices, the appeals docket and the mail log, each as one `ListSource` (issue 16, point 4).

A source names its columns (typed: money, dates, whole numbers) and reads its rows through the same
service the screen lists them with, page by page, so what a user exports is exactly what that user can
see on the screen: the same permission, checked by that service for every page (and once before the
file is started). ``export_list`` writes the file through `desktop.services.core.exports` and records
the export in the audit trail (which list, the filter, the format and the number of rows), since a
list of cases carries owners' names.

Nothing imports this module but the screens and the command line (like ``daily_run``), so it may read
every workflow's lists without tying the workflows together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain import ladder
from desktop.domain.errors import UserError
from desktop.domain.ledger import currency_symbol
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.review import check_title
from desktop.domain.roles import Permission
from desktop.services.appeals import lists as appeal_lists
from desktop.services.cases import queries as case_queries
from desktop.services.cases.queries import CaseFilter
from desktop.services.core import exports, settings
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as notice_runs
from desktop.services.notices.runs import MailLogFilter
from desktop.services.payments import posting
from desktop.services.review import queue as review_queue
from reports.data import ColumnKind, TableColumn, TableData

T, N, M, D, DT = ColumnKind.TEXT, ColumnKind.INT, ColumnKind.MONEY, ColumnKind.DATE, ColumnKind.DATETIME
#: rows read per page from a paged list service
PAGE = 1000


@dataclass(frozen=True)
class AppealsFilter:
    pending_only: bool = True
    text: str = ""
    decided_within_days: int | None = None  # with pending_only: also those decided within so many days


@dataclass(frozen=True)
class PaymentsFilter:
    day: date | None = None
    source: str = ""
    status: str = ""


@dataclass(frozen=True)
class NoFilter:
    """A list that the screen shows whole (the review queue, the held notices)."""


@dataclass(frozen=True)
class ListSource:
    """One list: its key (the command line's name), title, the permission of the screen that shows it,
    its columns, how to read its rows for a filter, and the filter in words (printed in the header)."""

    key: str
    title: str
    permission: Permission
    columns: tuple[TableColumn, ...]
    rows: Callable[[AppContext, Actor, Any], Iterator[tuple[Any, ...]]]
    describe: Callable[[Any], str]
    filter_type: type = field(default=NoFilter)


def _col(title: str, kind: ColumnKind = T, width: float = 1.0) -> TableColumn:
    return TableColumn(title, kind, width)


# ------------------------------------------------------------------ the case list and its work lists

CASE_COLUMNS = (
    _col("Citation", width=1.45), _col("Issued", DT, 1.0), _col("Plate", width=1.0), _col("State", width=0.45),
    _col("Violation", width=1.5), _col("Status", width=0.75), _col("Owner", width=1.4), _col("Balance", M, 0.8),
    _col("Next action", width=1.9), _col("Due", D, 0.8), _col("Warnings", N, 0.75), _col("On hold", width=0.65),
)


def _case_rows(app: AppContext, actor: Actor, f: CaseFilter) -> Iterator[tuple[Any, ...]]:
    offset = 0
    cap = case_queries.count_cap(f)
    while True:
        page = case_queries.case_page(app, actor, f, offset, PAGE)
        for r in page:
            status = CaseStatus(r.status).label if r.status in CaseStatus._value2member_map_ else r.status
            yield (r.citation_number, r.issued_at, r.plate, r.jurisdiction,
                   f"{r.violation_code} {r.violation_description}".strip(), status, r.owner_name, r.balance_cents,
                   ladder.describe_next_action(r.next_action) if r.next_action else "", r.next_action_date, r.warning_count,
                   "yes" if r.on_hold else "")
        offset += len(page)
        if len(page) < PAGE or (cap is not None and offset > cap):
            return


def describe_cases(f: CaseFilter) -> str:
    parts = []
    if f.worklist:
        parts.append(f"work list '{case_queries.WORKLISTS.get(f.worklist, f.worklist)}'")
    if f.text.strip():
        parts.append(f"search '{f.text.strip()}'")
    if f.statuses:
        parts.append("status " + " or ".join(CaseStatus(s).label if s in CaseStatus._value2member_map_ else s
                                             for s in f.statuses))
    if f.date_from or f.date_to:
        parts.append(f"issued {f.date_from or '…'} to {f.date_to or '…'}")
    order = case_queries.describe_order(f)
    return ("; ".join(parts) or "all cases") + f" ({order})"


# ------------------------------------------------------------------ the review queue

REVIEW_COLUMNS = (_col("Citation", width=1.2), _col("Issued", DT, 1.2), _col("Plate", width=0.8),
                  _col("State", width=0.45), _col("Violation", width=0.8), _col("Warnings", N, 0.6),
                  _col("Worst", width=0.7), _col("Checks", width=2.5))


def _review_rows(app: AppContext, actor: Actor, _f: NoFilter) -> Iterator[tuple[Any, ...]]:
    queue = review_queue.review_queue(app, actor)
    for e in queue.entries:
        yield (e.citation_number, e.issued_at, e.plate, e.jurisdiction, e.violation_code, e.warning_count,
               e.worst or "", ", ".join(check_title(c) for c in e.warning_codes))


# ------------------------------------------------------------------ payments

PAYMENT_COLUMNS = (_col("Received", DT, 1.1), _col("Value date", D, 0.8), _col("Source", width=1.2),
                   _col("Method", width=0.7), _col("Amount", M, 0.8), _col("Payer", width=1.2),
                   _col("Reference", width=1.6), _col("Status", width=0.8), _col("Citations", width=1.6),
                   _col("Receipt", width=0.9), _col("Note", width=1.2))


def _payment_rows(app: AppContext, actor: Actor, f: PaymentsFilter) -> Iterator[tuple[Any, ...]]:
    for p in posting.payments_list(app, actor, day=f.day, source=f.source or None, status=f.status or None,
                                   limit=1_000_000):
        yield (p.received_at, p.value_date, posting.source_label(p.source), posting.method_label(p.method),
               p.amount_cents, p.payer_name, p.reference, p.status, ", ".join(p.citation_numbers),
               p.receipt_number, p.reversal_reason or p.match_note)


def describe_payments(f: PaymentsFilter) -> str:
    parts = [f"value date {f.day}" if f.day else "", f"source {f.source}" if f.source else "",
             f"status {f.status}" if f.status else ""]
    return "; ".join(p for p in parts if p) or "all payments (newest first)"


# ------------------------------------------------------------------ notices and the mail log

HELD_COLUMNS = (_col("Citation", width=1.2), _col("Plate", width=0.8), _col("Owner", width=1.6),
                _col("Notice", width=1.1), _col("Held since", DT, 1.1), _col("Why", width=3.0))


def _held_rows(app: AppContext, actor: Actor, _f: NoFilter) -> Iterator[tuple[Any, ...]]:
    for r in notice_runs.held_notices(app, actor, limit=1_000_000):
        yield (r.citation_number, r.plate, r.owner_name, r.kind.replace("_", " "), r.since, r.reason)


MAIL_COLUMNS = (_col("Piece", N, 0.6), _col("Citation", width=1.1), _col("Kind", width=1.1), _col("Status", width=0.7),
                _col("Batch", N, 0.5), _col("Serial", N, 0.7), _col("Recipient", width=1.5), _col("ZIP", width=0.6),
                _col("Queued", DT, 1.0), _col("Printed", DT, 1.0), _col("Mailed", DT, 1.0),
                _col("Returned", DT, 1.0), _col("Note", width=1.5))


def _mail_rows(app: AppContext, actor: Actor, f: MailLogFilter) -> Iterator[tuple[Any, ...]]:
    offset = 0
    while True:
        page = notice_runs.mail_log(app, actor, f, offset, PAGE)
        for r in page:
            yield (r.id, r.citation_number, r.kind.replace("_", " "), r.status, r.batch_id, r.serial, r.recipient,
                   r.zip_code, r.queued_at, r.printed_at, r.mailed_at, r.returned_at, r.note)
        offset += len(page)
        if len(page) < PAGE:
            return


def describe_mail_log(f: MailLogFilter) -> str:
    parts = [f"'{f.text}'" if f.text else "", f"status {f.status}" if f.status else "",
             f"kind {f.kind.replace('_', ' ')}" if f.kind else "", f"batch {f.batch_id}" if f.batch_id else ""]
    return "; ".join(p for p in parts if p) or "every piece (newest first)"


# ------------------------------------------------------------------ the appeals docket

APPEAL_COLUMNS = (_col("Appeal", width=0.9), _col("Citation", width=1.1), _col("Plate", width=0.8),
                  _col("Level", width=1.4), _col("Appellant", width=1.5), _col("Channel", width=0.7),
                  _col("Status", width=0.9), _col("Filed", DT, 1.0), _col("Decide by", D, 0.8),
                  _col("Days left", N, 0.6), _col("Hearing", DT, 1.0), _col("Decision", width=0.8))


def _appeal_rows(app: AppContext, actor: Actor, f: AppealsFilter) -> Iterator[tuple[Any, ...]]:
    for a in appeal_lists.list_appeals(app, actor, pending_only=f.pending_only, text=f.text, limit=1_000_000,
                                         decided_within_days=f.decided_within_days):
        yield (a.number, a.citation_number, a.plate, a.level_name, a.appellant_name, a.channel,
               a.status.replace("_", " "), a.filed_at, a.decide_by, a.days_left, a.hearing_at, a.decision or "")


def describe_appeals(f: AppealsFilter) -> str:
    what = "pending appeals, most urgent first" if f.pending_only else "every appeal, pending first"
    if f.pending_only and f.decided_within_days is not None:
        what = f"pending appeals and those closed in the last {f.decided_within_days} days"
    return what + (f"; search '{f.text}'" if f.text.strip() else "")


SOURCES: dict[str, ListSource] = {s.key: s for s in (
    ListSource("cases", "Cases", Permission.VIEW_CASES, CASE_COLUMNS, _case_rows, describe_cases, CaseFilter),
    ListSource("review-queue", "Review queue", Permission.REVIEW_CITATIONS, REVIEW_COLUMNS, _review_rows,
               lambda _f: "every citation waiting for review (warnings first, then oldest first)"),
    ListSource("payment-list", "Payments", Permission.VIEW_CASES, PAYMENT_COLUMNS, _payment_rows,
               describe_payments, PaymentsFilter),
    ListSource("held-notices", "Held notices", Permission.VIEW_CASES, HELD_COLUMNS, _held_rows,
               lambda _f: "every held piece, oldest first"),
    ListSource("mail-log", "Mail log", Permission.VIEW_CASES, MAIL_COLUMNS, _mail_rows, describe_mail_log,
               MailLogFilter),
    ListSource("appeals", "Appeals docket", Permission.VIEW_CASES, APPEAL_COLUMNS, _appeal_rows, describe_appeals,
               AppealsFilter),
)}


def source(key: str) -> ListSource:
    try:
        return SOURCES[key]
    except KeyError:
        raise UserError(f"There is no list called {key}; the lists are {', '.join(SOURCES)}.") from None


def table_of(app: AppContext, actor: Actor, key: str, flt: Any) -> TableData:
    """The header of list ``key`` for ``flt``: title (a work list's name for the case list), the filter in
    words, who and when, checking first that ``actor`` may see the list."""
    src = source(key)
    with app.reader(actor, src.permission) as uow:
        tz = agency_zone(uow.session)
        agency = str(settings.get(uow.session, "agency.name"))
        symbol = currency_symbol(settings.office_currency(uow.session))
    title = src.title
    if key == "cases" and getattr(flt, "worklist", None):
        title = f"Work list: {case_queries.WORKLISTS.get(flt.worklist, flt.worklist)}"
    who = f"{actor.full_name} ({actor.username})" if actor.full_name else actor.username
    return TableData(title, src.describe(flt), src.columns, who, app.now(), str(tz), agency, symbol)


def export_list(app: AppContext, actor: Actor, key: str, flt: Any, out: Path | str, fmt: str | None = None, *,
                progress: exports.Progress | None = None, cancel: exports.Cancel | None = None
                ) -> exports.ExportResult:
    """List ``key`` with filter ``flt`` (None: the list's default) to ``out`` as PDF, XLSX or CSV."""
    src = source(key)
    flt = src.filter_type() if flt is None else flt
    if not isinstance(flt, src.filter_type):
        raise TypeError(f"the {key} list takes a {src.filter_type.__name__}, not {type(flt).__name__}")
    exports.format_of(Path(out), fmt)  # a wrong extension is refused before anything is read
    table = table_of(app, actor, key, flt)
    result = exports.export_table(app, table, src.rows(app, actor, flt), out, fmt, progress=progress, cancel=cancel)
    with app.uow(actor) as uow:
        uow.audit("list.exported", "list", key, after={"filter": table.filter_text, "format": result.format,
                                                       "rows": result.rows, "file": result.path.name})
        uow.commit()
    return result
