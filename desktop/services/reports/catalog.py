"""The management reports of issue 18, point 4: each one a few ``GROUP BY`` queries over the period's rows, a
chart and its tables.

Every report takes a `ReportFilter` (a period in the agency's calendar and a case filter: zone, officer,
violation code, jurisdiction profile) and answers a `ReportResult`. The figures are counted straight from the
rows (no summary table): the period is found through an index on its date column (``reports_0001`` adds the
ones that were missing), and the case filter is a join on ``citations``. Seen by supervisors and
administrators only (``Permission.REPORTS_VIEW``), checked here for the screens and the command line alike.

A period with nothing in it answers a sentence (``empty``) instead of a chart; a backwards period is a
`UserError`. Days are the agency's calendar days (``Sql.local_date``); a chart over more than 31 days
draws weeks (starting on Monday) while its table keeps every day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from desktop.domain.errors import UserError
from desktop.domain.ledger import currency_symbol
from desktop.domain.review import VoidReason
from desktop.domain.roles import Permission
from desktop.services.core import settings
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.core.sqltext import Sql
from desktop.services.reports.model import GROUPS, ReportFilter, ReportResult
from reports.data import ChartData, ChartSeries, ColumnKind, ReportTable, TableColumn

T, N, M, D, F, P = (ColumnKind.TEXT, ColumnKind.INT, ColumnKind.MONEY, ColumnKind.DATE, ColumnKind.NUMBER,
                    ColumnKind.PERCENT)
#: bars a chart of officers, zones or codes draws (the table lists every one)
TOP = 20
#: a chart over more days than this draws weeks
DAILY_CHART_DAYS = 31


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    what: str  # one line for the list of reports
    #: (the database, the filter, the agency's zone, the sign of the office's currency for the money it writes)
    build: Callable[[Sql, ReportFilter, ZoneInfo, str], ReportResult]


def _col(title: str, kind: ColumnKind = T, width: float = 1.0) -> TableColumn:
    return TableColumn(title, kind, width)


def _case_filter(f: ReportFilter, alias: str = "c") -> tuple[str, dict[str, Any]]:
    """The ``AND ...`` of the case filter on the citations alias, and its parameters."""
    sql, params = [], {}
    for column, key, value in (("zone_code", "zone", f.zone), ("officer_badge", "officer", f.officer),
                               ("violation_code", "code", f.code), ("profile_code", "profile", f.profile)):
        if value:
            sql.append(f" AND {alias}.{column} = :{key}")
            params[key] = value
    return "".join(sql), params


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _hour(sql: Sql, column: str) -> str:
    """The UTC hour of an instant column: grouping by it and folding the hours into the agency's days in Python
    spares the database a time-zone conversion per row (exact for every zone whose offset is whole hours: all
    of the United States and the United Kingdom)."""
    return f"date_trunc('hour', {column})" if sql.pg else f"substr({column}, 1, 13)"


def _local_day(hour: Any, tz: ZoneInfo) -> date:
    if isinstance(hour, datetime):
        instant = hour if hour.tzinfo else hour.replace(tzinfo=UTC)
    else:
        instant = datetime.fromisoformat(str(hour)[:13] + ":00").replace(tzinfo=UTC)
    return instant.astimezone(tz).date()


def _by_local_day(rows: list[Any], tz: ZoneInfo) -> dict[date, tuple[Any, ...]]:
    """Rows of (hour, sums...) added up per local day: {day: (day, sum, sum, ...)}."""
    out: dict[date, list[Any]] = {}
    for hour, *sums in rows:
        d = _local_day(hour, tz)
        acc = out.setdefault(d, [d] + [0] * len(sums))
        for i, v in enumerate(sums, start=1):
            acc[i] += int(v or 0)
    return {d: tuple(v) for d, v in out.items()}


def _period_days(f: ReportFilter) -> list[date]:
    return [f.start + timedelta(days=i) for i in range(f.days)]


def _buckets(f: ReportFilter) -> tuple[list[date], Callable[[date], date], str]:
    """The chart's categories over the period: every day, or weeks (Monday) over a long period."""
    if f.days <= DAILY_CHART_DAYS:
        return _period_days(f), lambda d: d, "Day"
    first = f.start - timedelta(days=f.start.weekday())
    weeks = [first + timedelta(days=7 * i) for i in range((f.end - first).days // 7 + 1)]
    return weeks, lambda d: d - timedelta(days=d.weekday()), "Week starting (Monday)"


def _label(d: date) -> str:
    return d.strftime("%d %b")


def _nothing(what: str, f: ReportFilter) -> str:
    """The sentence shown instead of an empty chart."""
    extra = f" for {f.describe().split('; ', 1)[1]}" if f.has_case_filter() else ""
    return (f"No {what} between {f.start.strftime('%d %B %Y')} and {f.end.strftime('%d %B %Y')}{extra}. "
            "Choose a longer period or clear the filter.")


def _officer_names(sql: Sql) -> dict[str, str]:
    return {str(b): str(n) for b, n in sql.rows("SELECT badge, name FROM officers")}


def _officer_label(badge: str, names: dict[str, str]) -> str:
    name = names.get(badge)
    return f"{badge} {name}" if name else str(badge)


# --------------------------------------------------------------------------- citations issued

def citations_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    a, b = f.bounds(tz)
    where, params = _case_filter(f)
    key = {"day": _hour(sql, "c.issued_at"), "officer": "c.officer_badge",
           "zone": "COALESCE(c.zone_code, '')", "code": "c.violation_code"}[f.group]
    rows = sql.rows(f"SELECT {key} AS g, COUNT(*), SUM(c.fine_cents), "
                    "SUM(CASE WHEN c.status = 'voided' THEN 1 ELSE 0 END) FROM citations c "
                    f"WHERE c.issued_at >= :a AND c.issued_at < :b{where} GROUP BY {key}", a=a, b=b, **params)
    title = f"Citations issued by {GROUPS[f.group]}"
    if not rows:
        return ReportResult("citations", title, f, None, (), empty=_nothing("citations were issued", f))
    total = sum(int(r[1]) for r in rows)
    fines = sum(int(r[2] or 0) for r in rows)
    summary: tuple[str, ...] = (f"{total:,} citations issued, {_amount(fines, symbol)} in fines as issued.",)
    if f.group == "day":
        by_day = _by_local_day(rows, tz)
        day_rows = tuple((d, int(by_day[d][1]) if d in by_day else 0, int(by_day[d][2] or 0) if d in by_day else 0,
                            int(by_day[d][3] or 0) if d in by_day else 0) for d in _period_days(f))
        cats, bucket, x_title = _buckets(f)
        counts: dict[date, float] = defaultdict(float)
        for d, n, _fine, _v in day_rows:
            counts[bucket(d)] += n
        chart = ChartData("bar", tuple(_label(c) for c in cats),
                          (ChartSeries("Citations", tuple(counts[c] for c in cats)),), x_title, "Citations (count)")
        table = ReportTable("Citations by day", (_col("Day", D), _col("Citations", N), _col("Fines", M),
                                                 _col("Voided", N)), day_rows)
        return ReportResult("citations", title, f, chart, (table,), summary)
    names = _officer_names(sql) if f.group == "officer" else {}
    ordered = sorted(rows, key=lambda r: (-int(r[1]), str(r[0])))

    def name(g: Any) -> str:
        if f.group == "officer":
            return _officer_label(str(g), names)
        return str(g) or "(no zone)"

    table_rows = tuple((name(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in ordered)
    top = table_rows[:TOP]
    chart = ChartData("bar", tuple(str(r[0]).split(" ")[0] if f.group == "officer" else r[0] for r in top),
                      (ChartSeries("Citations", tuple(float(r[1]) for r in top)),),
                      "Officer (badge)" if f.group == "officer" else GROUPS[f.group].capitalize(), "Citations (count)")
    if len(table_rows) > TOP:
        summary += (f"The chart shows the {TOP} with the most citations; the table lists all {len(table_rows)}.",)
    table = ReportTable(f"Citations by {GROUPS[f.group]}", (_col(GROUPS[f.group].capitalize(), T, 2),
                                                            _col("Citations", N), _col("Fines", M), _col("Voided", N)),
                        table_rows)
    return ReportResult("citations", title, f, chart, (table,), summary)


# --------------------------------------------------------------------------- review outcomes

#: what a clerk did with a citation in review, as the audit trail records it (services/review/queue.py)
CORRECTED_ACTIONS = ("citation.corrected", "citation.amended")


def review_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    a, b = f.bounds(tz)
    where, params = _case_filter(f)
    rows = sql.rows(
        "SELECT c.officer_badge, "
        "SUM(CASE WHEN c.approved_at IS NOT NULL AND c.status <> 'voided' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN c.status = 'voided' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN c.status IN ('received', 'pending_review') THEN 1 ELSE 0 END) "
        f"FROM citations c WHERE c.issued_at >= :a AND c.issued_at < :b{where} GROUP BY c.officer_badge",
        a=a, b=b, **params)
    title = "Review outcomes by officer"
    if not rows:
        return ReportResult("review", title, f, None, (), empty=_nothing("citations were issued", f))
    join = ("FROM audit_log x JOIN citations c ON c.id = CAST(x.entity_id AS BIGINT) "
            "WHERE x.entity_type = 'citation' AND c.issued_at >= :a AND c.issued_at < :b" + where)
    corrected = {str(r[0]): int(r[1]) for r in sql.rows(
        f"SELECT c.officer_badge, COUNT(DISTINCT c.id) {join} AND x.action IN {sql.in_list(CORRECTED_ACTIONS)} "
        "AND c.approved_at IS NOT NULL AND c.status <> 'voided' GROUP BY c.officer_badge", a=a, b=b, **params)}
    reasons: dict[tuple[str, str], int] = defaultdict(int)
    seen: set[int] = set()
    for badge, cid, after, note in sql.rows(
            f"SELECT c.officer_badge, c.id, x.after, x.reason {join} AND x.action = 'review.void_reason' "
            "AND c.status = 'voided' ORDER BY x.id DESC", a=a, b=b, **params):
        if int(cid) in seen:
            continue
        seen.add(int(cid))
        code = _json(after).get("reason_code") if after is not None else None
        reasons[(str(badge), _void_label(code, note))] += 1
    names = _officer_names(sql)
    table_rows = []
    voided_with_reason: dict[str, int] = defaultdict(int)
    for (badge, _reason), n in reasons.items():
        voided_with_reason[badge] += n
    for badge, approved, voided, pending in sorted(rows, key=lambda r: str(r[0])):
        badge = str(badge)
        fixed = corrected.get(badge, 0)
        unexplained = int(voided or 0) - voided_with_reason.get(badge, 0)
        if unexplained > 0:
            reasons[(badge, "not recorded")] += unexplained
        table_rows.append((_officer_label(badge, names), int(approved or 0) - fixed, fixed, int(voided or 0),
                           int(pending or 0)))
    if not any(sum(r[1:]) for r in table_rows):
        return ReportResult("review", title, f, None, (), empty=_nothing("citations were reviewed", f))
    shown = sorted(table_rows, key=lambda r: -(r[1] + r[2] + r[3]))[:TOP]
    chart = ChartData("stacked", tuple(str(r[0]).split(" ")[0] for r in shown), (
        ChartSeries("Approved as issued", tuple(float(r[1]) for r in shown)),
        ChartSeries("Approved after correction", tuple(float(r[2]) for r in shown)),
        ChartSeries("Voided", tuple(float(r[3]) for r in shown))), "Officer (badge)", "Citations (count)")
    officers = ReportTable("Outcomes by officer", (
        _col("Officer", T, 2), _col("Approved as issued", N), _col("Approved after correction", N),
        _col("Voided", N), _col("Still in review", N)), tuple(table_rows))
    why = ReportTable("Void reasons", (_col("Officer", T, 2), _col("Reason", T, 2), _col("Voided", N)),
                      tuple((_officer_label(badge, names), reason, n)
                            for (badge, reason), n in sorted(reasons.items(), key=lambda kv: (kv[0][0], -kv[1]))))
    approved = sum(r[1] + r[2] for r in table_rows)
    voided = sum(r[3] for r in table_rows)
    decided = approved + voided
    summary: tuple[str, ...] = (f"{decided:,} citations reviewed: {approved:,} approved "
               f"({sum(r[2] for r in table_rows):,} after a correction), {voided:,} voided"
               + (f" ({voided / decided:.1%})" if decided else "") + f"; {sum(r[4] for r in table_rows):,} still in review.",)
    if len(table_rows) > TOP:
        summary += (f"The chart shows the {TOP} officers with the most citations reviewed.",)
    return ReportResult("review", title, f, chart, (officers, why), summary)


def _void_label(code: Any, note: Any) -> str:
    try:
        return VoidReason(str(code)).label
    except ValueError:
        return str(note or "not recorded")


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    import json  # lazy: only the audit rows of voided citations need it (json is loaded already: 0 ms)

    try:
        out = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


# --------------------------------------------------------------------------- revenue and ageing

CHANNELS = {"counter": "Counter", "bank": "Bank transfer", "lockbox": "Lockbox (mail)", "processor": "Card processor",
            "plan": "Payment plan"}


def revenue_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    where, params = _case_filter(f)
    scope = ("" if not f.has_case_filter() else
             " AND EXISTS (SELECT 1 FROM ledger_entries l JOIN citations c ON c.id = l.citation_id "
             f"WHERE l.payment_id = p.id{where})")
    rows = sql.rows("SELECT p.value_date, p.source, COUNT(*), SUM(p.amount_cents) FROM payments p "
                    f"WHERE p.value_date >= :a AND p.value_date <= :b AND p.status <> 'reversed'{scope} "
                    "GROUP BY p.value_date, p.source", a=f.start, b=f.end, **params)
    title = "Revenue by day and channel"
    if not rows:
        return ReportResult("revenue", title, f, None, (), empty=_nothing("payments were received", f))
    channels = sorted({str(r[1]) for r in rows})
    cats, bucket, x_title = _buckets(f)
    sums: dict[tuple[date, str], float] = defaultdict(float)
    for d, ch, _n, cents in rows:
        sums[(bucket(_day(d)), str(ch))] += int(cents or 0) / 100
    chart = ChartData("stacked", tuple(_label(c) for c in cats),
                      tuple(ChartSeries(CHANNELS.get(ch, ch.capitalize()), tuple(sums[(c, ch)] for c in cats))
                            for ch in channels), x_title, f"Amount received ({symbol})", money=True)
    table_rows = tuple((_day(d), CHANNELS.get(str(ch), str(ch).capitalize()), int(n), int(cents or 0))
                       for d, ch, n, cents in sorted(rows, key=lambda r: (_day(r[0]), str(r[1]))))
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _d, ch, n, cents in table_rows:
        by_channel[ch][0] += n
        by_channel[ch][1] += cents
    total = sum(v[1] for v in by_channel.values())
    channel_table = ReportTable("By channel", (_col("Channel", T, 2), _col("Payments", N), _col("Amount", M),
                                               _col("Share", P)),
                                tuple((ch, v[0], v[1], v[1] / total if total else 0.0)
                                      for ch, v in sorted(by_channel.items(), key=lambda kv: -kv[1][1])))
    days = ReportTable("By day and channel", (_col("Value date", D), _col("Channel", T, 2), _col("Payments", N),
                                              _col("Amount", M)), table_rows)
    summary = (f"{sum(v[0] for v in by_channel.values()):,} payments, {_amount(total, symbol)} received "
               "(reversed payments left out).",)
    return ReportResult("revenue", title, f, chart, (channel_table, days), summary)


#: (label, first day, last day) of the ageing buckets; collections is its own bucket whatever its age
AGES = (("0-30 days", 0, 30), ("31-60 days", 31, 60), ("61-90 days", 61, 90), ("Over 90 days", 91, 10**6))
OWING = ("open", "under_appeal", "in_collections")


def ageing_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    _a, b = f.bounds(tz)
    where, params = _case_filter(f)
    day = _hour(sql, "c.issued_at")
    # one pass: each owing case's ledger summed from the (citation_id, effective_date, amount) index, the cases
    # owing something then counted per issue hour
    rows = sql.rows(
        "SELECT h, coll, COUNT(*), SUM(owed) FROM ("
        f"SELECT {day} AS h, CASE WHEN c.status = 'in_collections' THEN 1 ELSE 0 END AS coll, "
        "SUM(l.amount_cents) AS owed FROM citations c JOIN ledger_entries l ON l.citation_id = c.id "
        f"WHERE c.status IN {sql.in_list(OWING)} AND c.issued_at < :b AND l.effective_date <= :end{where} "
        "GROUP BY c.id, c.issued_at, c.status) t WHERE owed > 0 GROUP BY h, coll", b=b, end=f.end, **params)
    title = f"Receivables ageing on {f.end.isoformat()}"
    if not rows:
        return ReportResult("ageing", title, f, None, (),
                            empty=f"Nothing was owed on {f.end.strftime('%d %B %Y')} on the cases of this filter.")
    labels = [a[0] for a in AGES] + ["In collections"]
    cases = dict.fromkeys(labels, 0)
    owed = dict.fromkeys(labels, 0)
    for hour, coll, n, cents in rows:
        age = (f.end - _local_day(hour, tz)).days
        label = "In collections" if int(coll) else next(a[0] for a in AGES if a[1] <= age <= a[2])
        cases[label] += int(n)
        owed[label] += int(cents or 0)
    total = sum(owed.values())
    chart = ChartData("bar", tuple(labels), (ChartSeries("Owed", tuple(owed[x] / 100 for x in labels)),),
                      "Age of the case (days since issue)", f"Amount owed ({symbol})", money=True)
    table = ReportTable("Owed by age", (_col("Age", T, 2), _col("Cases", N), _col("Owed", M), _col("Share", P)),
                        tuple((x, cases[x], owed[x], owed[x] / total if total else 0.0) for x in labels))
    summary = (f"{sum(cases.values()):,} cases owe {_amount(total, symbol)} in all on {f.end.isoformat()} "
               "(fines, penalties and fees less payments, for cases open, under appeal or in collections; the "
               "period's first day is not used).",)
    return ReportResult("ageing", title, f, chart, (table,), summary)


# --------------------------------------------------------------------------- notices

def notices_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    a, b = f.bounds(tz)
    where, params = _case_filter(f)
    join = " JOIN citations c ON c.id = n.citation_id" if where else ""
    mailed = sql.rows(f"SELECT n.kind, COUNT(*), SUM(CASE WHEN n.returned_at IS NOT NULL OR n.status = 'returned' "
                      f"THEN 1 ELSE 0 END) FROM notices n{join} WHERE n.mailed_at >= :a AND n.mailed_at < :b{where} "
                      "GROUP BY n.kind", a=a, b=b, **params)
    held = sql.rows(f"SELECT COALESCE(n.hold_reason, ''), COUNT(*) FROM notices n{join} WHERE n.status = 'held' "
                    f"AND n.queued_at < :b{where} GROUP BY COALESCE(n.hold_reason, '')", b=b, **params)
    title = "Notices: volumes, returned mail and holds"
    if not mailed and not held:
        return ReportResult("notices", title, f, None, (), empty=_nothing("notices were mailed", f))
    ordered = sorted(mailed, key=lambda r: -int(r[1]))
    names = tuple(_kind(str(r[0])) for r in ordered)
    chart = ChartData("stacked", names, (
        ChartSeries("Delivered (not returned)", tuple(float(int(r[1]) - int(r[2] or 0)) for r in ordered)),
        ChartSeries("Returned by the post office", tuple(float(r[2] or 0) for r in ordered))),
        "Kind of notice", "Pieces mailed (count)") if ordered else None
    kinds = ReportTable("Mailed in the period", (_col("Kind of notice", T, 2), _col("Mailed", N), _col("Returned", N),
                                                 _col("Returned rate", P)),
                        tuple((_kind(str(k)), int(n), int(r or 0), int(r or 0) / int(n) if n else 0.0)
                              for k, n, r in ordered))
    reasons: dict[str, int] = defaultdict(int)
    for reason, n in held:
        reasons[_hold_reason(str(reason))] += int(n)
    holds = ReportTable("Held now, by reason", (_col("Reason", T, 4), _col("Pieces held", N)),
                        tuple(sorted(reasons.items(), key=lambda kv: -kv[1])))
    total = sum(int(r[1]) for r in mailed)
    back = sum(int(r[2] or 0) for r in mailed)
    summary = (f"{total:,} pieces mailed, {back:,} returned ({back / total:.1%})." if total else
               "No piece was mailed in the period.",
               f"{sum(reasons.values()):,} pieces are held now.")
    empty = "" if chart is not None else _nothing("notices were mailed", f)
    return ReportResult("notices", title, f, chart, (kinds, holds), summary, empty=empty)


def _kind(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


def _hold_reason(reason: str) -> str:
    """Held-piece reasons grouped on their first sentence (the rest names the case)."""
    text = " ".join(reason.split())
    if not text:
        return "No reason recorded"
    first = text.split(". ")[0].split(": ")[0]
    return first[:120]


# --------------------------------------------------------------------------- appeals

def appeals_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    a, b = f.bounds(tz)
    where, params = _case_filter(f)
    join = " JOIN citations c ON c.id = x.citation_id" if where else ""
    rows = sql.rows(f"SELECT x.level, x.status, x.decision, x.filed_at, x.decided_at, x.decide_by FROM appeals x{join} "
                    f"WHERE x.filed_at >= :a AND x.filed_at < :b{where}", a=a, b=b, **params)
    title = "Appeals by level and outcome"
    if not rows:
        return ReportResult("appeals", title, f, None, (), empty=_nothing("appeals were filed", f))
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # filed, decided, days, in time
    for level, status, decision, filed, decided, decide_by in rows:
        outcome = _outcome(str(status), decision)
        g = groups[(_kind(str(level)), outcome)]
        g[0] += 1
        if decided is not None:
            filed_day = _instant(filed).astimezone(tz).date()
            decided_day = _instant(decided).astimezone(tz).date()
            g[1] += 1
            g[2] += (decided_day - filed_day).days
            if decide_by is None or decided_day <= _day(decide_by):
                g[3] += 1
    levels = sorted({k[0] for k in groups})
    outcomes = sorted({k[1] for k in groups})
    chart = ChartData("stacked", tuple(levels), tuple(
        ChartSeries(o, tuple(float(groups[(lv, o)][0]) if (lv, o) in groups else 0.0 for lv in levels))
        for o in outcomes), "Level of appeal", "Appeals filed (count)")
    table = ReportTable("Filed in the period", (
        _col("Level", T, 2), _col("Outcome", T, 1.5), _col("Appeals", N), _col("Decided", N),
        _col("Average days to decision", F), _col("Decided within the deadline", P)),
        tuple((lv, o, g[0], g[1], g[2] / g[1] if g[1] else None, g[3] / g[1] if g[1] else None)
              for (lv, o), g in sorted(groups.items())))
    filed = sum(g[0] for g in groups.values())
    decided = sum(g[1] for g in groups.values())
    days = sum(g[2] for g in groups.values())
    in_time = sum(g[3] for g in groups.values())
    summary = (f"{filed:,} appeals filed, {decided:,} decided"
               + (f": {days / decided:.1f} days on average from filing to decision, {in_time / decided:.1%} within "
                  "the deadline." if decided else "; none decided yet."),)
    return ReportResult("appeals", title, f, chart, (table,), summary)


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _outcome(status: str, decision: Any) -> str:
    if decision:
        return str(decision).replace("_", " ").capitalize()
    return {"open": "Pending", "scheduled": "Pending", "deemed_accepted": "Deemed accepted",
            "withdrawn": "Withdrawn"}.get(status, status.replace("_", " ").capitalize())


# --------------------------------------------------------------------------- payment plans

PLAN_STATES = {"current": "In good standing", "defaulted": "Defaulted", "completed": "Completed",
               "cancelled": "Cancelled"}


def plans_report(sql: Sql, f: ReportFilter, tz: ZoneInfo, symbol: str) -> ReportResult:
    a, b = f.bounds(tz)
    where, params = _case_filter(f)
    join = " JOIN citations c ON c.id = x.citation_id" if where else ""
    rows = sql.rows(f"SELECT x.status, COUNT(*), SUM(x.monthly_cents), SUM(x.monthly_cents * x.months) "
                    f"FROM payment_plans x{join} WHERE x.created_at >= :a AND x.created_at < :b{where} "
                    "GROUP BY x.status", a=a, b=b, **params)
    title = "Payment plans enrolled: standing"
    if not rows:
        return ReportResult("plans", title, f, None, (), empty=_nothing("payment plans were set up", f))
    order = list(PLAN_STATES)
    rows = sorted(rows, key=lambda r: order.index(str(r[0])) if str(r[0]) in order else 99)
    labels = tuple(PLAN_STATES.get(str(r[0]), str(r[0]).capitalize()) for r in rows)
    chart = ChartData("bar", labels, (ChartSeries("Plans", tuple(float(r[1]) for r in rows)),), "Standing today",
                      "Plans (count)")
    total = sum(int(r[1]) for r in rows)
    table = ReportTable("Plans set up in the period", (
        _col("Standing today", T, 2), _col("Plans", N), _col("Share", P), _col("Monthly instalments", M),
        _col("Scheduled in all", M)),
        tuple((lab, int(r[1]), int(r[1]) / total, int(r[2] or 0), int(r[3] or 0)) for lab, r in zip(labels, rows,
                                                                                                    strict=True)))
    good = sum(int(r[1]) for r in rows if str(r[0]) in ("current", "completed"))
    bad = sum(int(r[1]) for r in rows if str(r[0]) == "defaulted")
    summary = (f"{total:,} plans set up: {good:,} in good standing or paid off, {bad:,} defaulted "
               f"({bad / total:.1%}).",)
    return ReportResult("plans", title, f, chart, (table,), summary)


# --------------------------------------------------------------------------- the catalogue

REPORTS: dict[str, Report] = {r.key: r for r in (
    Report("citations", "Citations issued", "citations issued by day, officer, zone or violation code", citations_report),
    Report("review", "Review outcomes", "approved, corrected and voided citations per officer, with the void reasons",
           review_report),
    Report("revenue", "Revenue", "money received by day and channel", revenue_report),
    Report("ageing", "Receivables ageing", "what is owed by age (0-30, 31-60, 61-90, over 90 days, collections)",
           ageing_report),
    Report("notices", "Notices", "notices mailed, the returned-mail rate and the held notices by reason",
           notices_report),
    Report("appeals", "Appeals", "appeals by level and outcome, time to decision, decided within the deadline",
           appeals_report),
    Report("plans", "Payment plans", "payment plans in good standing and defaulted", plans_report),
)}


def _amount(cents: int, symbol: str) -> str:
    """Money in a summary sentence, with the report's currency sign (as its tables and chart axes)."""
    return f"{symbol}{cents / 100:,.2f}"


def report(key: str) -> Report:
    try:
        return REPORTS[key]
    except KeyError:
        raise UserError(f"There is no report called '{key}'; the reports are {', '.join(REPORTS)}.") from None


def run_report(app: AppContext, actor: Actor, key: str, flt: ReportFilter) -> ReportResult:
    """Report ``key`` for ``flt``: supervisors and administrators only (``Permission.REPORTS_VIEW``)."""
    rep = report(key)
    flt = flt.checked()
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        return _run(uow, rep, flt, app.now())


def _run(uow: UnitOfWork, rep: Report, flt: ReportFilter, now: datetime) -> ReportResult:
    tz = agency_zone(uow.session)
    symbol = currency_symbol(settings.office_currency(uow.session))
    result = rep.build(Sql(uow.session), flt, tz, symbol)
    return ReportResult(result.key, result.title, flt, result.chart, result.tables, result.summary, result.empty,
                        tz.key, symbol, str(settings.get(uow.session, "agency.name")), now)
