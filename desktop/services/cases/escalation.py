"""The daily escalation: every open case climbs its profile's ladder on the calendar, in set-based SQL.

(Over 600 lines on purpose: one run is one class whose steps share the run's work tables and the SQL it
writes per profile version, in one transaction; the one-case rules are ``schedule``, the daily run
around it ``desktop.services.daily_run``.)

One run, for one day (``as_of``, the agency's today by default), inside ONE transaction:

1. schedule cases never escalated (the profile version in force on the issue date, the first stage);
2. date the next step where it became known (a notice was mailed: its clock starts at MAILING);
3. advance every case whose next step is due, stage after stage, rung by rung of each profile
   version: penalties as ledger entries, the stage's notice queued (or held for a clerk when the
   case has no owner or an address that cannot be mailed), collections referral / judgment /
   charge certificate, each such legal step audited case by case;
4. notices: cancel the unmailed ones of closed cases, release held ones whose owner is now mailable;
5. holds: cases on hold wait (their dates move by the hold's length when it is released);
6. every touched case gets its next action and date; plates with too many unpaid cases past their
   last stage go on the hot list as boot-eligible.

Every statement works on a SET of cases (``INSERT ... SELECT``, ``UPDATE ... FROM``) with the date
arithmetic done in SQL per profile stage; Python only loops over profile versions and stages.
Dedupe keys make it idempotent: a second run for the same day changes nothing.

The same rules for ONE case, in Python, are ``schedule.reschedule_case`` (used by the use cases that
change a case between runs: a hold released, an owner fixed, a notice mailed). The whole daily run
(appeal deadlines, payment plans, then this escalation) is ``desktop.services.daily_run``.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, literal, select
from sqlalchemy import text as sql_text

from desktop.domain import case_plan
from desktop.domain.ladder import FINAL_PREFIX, Anchor, Rung, ladder
from desktop.domain.ledger import format_cents
from desktop.domain.lifecycle import CaseStatus
from desktop.domain.profiles import ContestOutcome
from desktop.domain.roles import Permission
from desktop.domain.service_days import ServiceRule
from desktop.domain.wording import counted
from desktop.persistence.bulk import insert_rows, reserve_ids
from desktop.persistence.models import Appeal, Citation, LedgerEntry, Notice
from desktop.services.admin import profiles as profile_store
from desktop.services.cases.schedule import MUST_HAVE_NEXT_ACTION, UNMAILED
from desktop.services.core import audit
from desktop.services.core import settings as settings_service
from desktop.services.core.clock import agency_date
from desktop.services.core.context import Actor, AppContext, UnitOfWork, retrying
from desktop.services.core.seal import seal_of, seal_row_dicts
from desktop.services.core.sqltext import Sql

log = logging.getLogger(__name__)

#: Cases the escalation moves along.
ESCALATING = (CaseStatus.OPEN.value, CaseStatus.IN_COLLECTIONS.value)
CLOSED = tuple(s.value for s in CaseStatus if s.is_closed)
#: The DPPA permissible purpose recorded with every owner lookup the daily run makes for a notice (a
#: clerk's own lookups name the clerk's purpose: ``owners.PURPOSES``).
NOTICE_PURPOSE = "notice mailing: automatic lookup by the daily run (18 U.S.C. 2721(b)(4))"
HOTLIST_REASON = "boot-eligible"
#: The indexes of the columns a case's step rewrites (stage, its dates, the next action).
#: penalties written at a time by the first run's bulk insert (one chunk's rows in memory)
PENALTY_CHUNK = 50_000
NEXT_STEP_INDEXES = ("ix_citation_status_next", "ix_citation_status_stage_on", "ix_citation_status_action")

Progress = Callable[[int, int, str], None]


@dataclass
class EscalationResult:
    """What one run did. ``changed`` is False when a run found nothing to do (a second run the same day)."""

    as_of: date
    scheduled: int = 0
    dated: int = 0
    advanced: dict[str, int] = field(default_factory=dict)
    penalties: int = 0
    penalties_cents: int = 0
    #: the penalties' total in each currency (a run may span profiles in dollars and pounds)
    penalties_by_currency: dict[str, int] = field(default_factory=dict)
    notices_queued: int = 0
    notices_held: int = 0
    notices_released: int = 0
    notices_cancelled: int = 0
    owner_lookups: int = 0
    moved_to_collections: int = 0
    legal_steps: int = 0
    next_actions_set: int = 0
    hotlisted: int = 0
    hotlist_cleared: int = 0
    without_next_action: int = 0
    seconds: float = 0.0
    #: what the other steps of the daily run reported (appeal deadlines, payment plans)
    other_steps: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.scheduled, self.dated, sum(self.advanced.values()), self.penalties, self.notices_queued,
                    self.notices_held, self.notices_released, self.notices_cancelled, self.owner_lookups,
                    self.next_actions_set, self.hotlisted, self.hotlist_cleared))

    def summary(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "scheduled": self.scheduled, "dated": self.dated,
            "advanced": dict(self.advanced), "penalties": self.penalties, "penalties_cents": self.penalties_cents,
            "notices_queued": self.notices_queued, "notices_held": self.notices_held,
            "notices_released": self.notices_released, "notices_cancelled": self.notices_cancelled,
            "owner_lookups": self.owner_lookups, "moved_to_collections": self.moved_to_collections,
            "legal_steps": self.legal_steps, "next_actions_set": self.next_actions_set,
            "hotlisted": self.hotlisted, "hotlist_cleared": self.hotlist_cleared,
        }

    def lines(self) -> list[str]:
        """The run's report for a clerk (command line and the menu action)."""
        out = [f"Daily escalation as of {self.as_of.isoformat()} ({self.seconds:.1f} s)"]
        if not self.changed:
            out.append("  nothing to do: every case is already where the calendar puts it")
        if self.scheduled:
            out.append(f"  {counted(self.scheduled, 'new case')} scheduled")
        for step, n in self.advanced.items():
            out.append(f"  {counted(n, 'case')} reached {step}")
        if self.penalties:
            totals = " + ".join(format_cents(cents, currency) for currency, cents in
                                sorted(self.penalties_by_currency.items()) if cents)
            out.append(f"  {counted(self.penalties, 'penalty', 'penalties')} posted"
                       + (f" ({totals})" if totals else ""))
        if self.notices_queued or self.notices_held:
            out.append(f"  {counted(self.notices_queued, 'notice')} queued for mailing, {self.notices_held:,} held for "
                       "a clerk")
        if self.notices_released:
            out.append(f"  {counted(self.notices_released, 'held notice')} released (owner now mailable)")
        if self.notices_cancelled:
            out.append(f"  {counted(self.notices_cancelled, 'unmailed notice')} cancelled (case closed or superseded)")
        if self.owner_lookups:
            out.append(f"  {counted(self.owner_lookups, 'registered-owner lookup')} ({NOTICE_PURPOSE})")
        if self.moved_to_collections:
            out.append(f"  {counted(self.moved_to_collections, 'case')} referred to collections")
        if self.hotlisted or self.hotlist_cleared:
            out.append(f"  hot list: {counted(self.hotlisted, 'plate')} boot-eligible, {self.hotlist_cleared:,} cleared")
        out.append(f"  open cases without a next action: {self.without_next_action:,}")
        out.extend(self.other_steps)
        return out


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class _Version:
    code: str
    version: int
    tz: str
    rungs: tuple[Rung, ...]
    #: the issue dates it governs: [effective_from, until); None = open-ended (the first and the last)
    effective_from: date | None = None
    until: date | None = None
    currency: str = "USD"
    service: ServiceRule = ServiceRule()

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"


class _Run:
    def __init__(self, uow: UnitOfWork, as_of: date, progress: Progress | None) -> None:
        self.uow = uow
        self.s = uow.session
        self.sql = Sql(self.s)
        self.as_of = as_of
        self.now = uow.app.now()
        self.uid = uow.actor.user_id
        self.progress = progress
        stored = profile_store.all_versions(self.s)
        self.codes: dict[str, list[profile_store.StoredProfile]] = {}
        for v in stored:
            self.codes.setdefault(v.code, []).append(v)
        self.versions = []
        for versions in self.codes.values():
            ordered = sorted(versions, key=lambda x: x.effective_from)
            for i, v in enumerate(ordered):
                self.versions.append(_Version(
                    v.code, v.version, v.profile.timezone, ladder(v.profile),
                    None if i == 0 else v.effective_from,
                    ordered[i + 1].effective_from if i + 1 < len(ordered) else None, v.profile.currency,
                    v.profile.service))
        self.result = EscalationResult(as_of)
        self.review_days = int(settings_service.get(self.s, "holds.review_days"))
        self.final_review_days = int(settings_service.get(self.s, "escalation.final_review_days"))
        self.threshold = int(settings_service.get(self.s, "scofflaw.unpaid_cases"))
        self._steps = 6 + sum(len(v.rungs) for v in self.versions)
        self._looked_up = False
        self._done = 0
        #: rows of ``esc_undated`` by tag: a rung none of whose cases got a date is not read again
        self._undated_rows: dict[str, int] = {}

    def step(self, text_: str) -> None:
        self._done += 1
        if self.progress is not None:
            self.progress(min(self._done, self._steps), self._steps, text_)

    def today_in(self, tz: str) -> date:
        return self.now.astimezone(ZoneInfo(tz)).date()

    def execute(self) -> EscalationResult:
        started = _time.perf_counter()
        if not self.sql.pg:
            # A million rows are rewritten: a page cache (up to 2 GB, taken only as pages are read) keeps each
            # page written once, not spilled to the log mid-run and written again.
            # (The work tables live in memory: temp_store, set on every connection.)
            self.sql.run("PRAGMA cache_size = -2097152")
        try:
            self.sql.temp_tables()
            self.step("Scheduling new cases…")
            self.cancel_notices_of_closed_cases()
            self.collect_undated()
            self.rejection_floors()
            for v in self.versions:
                self.advance(v)
            self.step("Dating next steps (mailed notices)…")
            self.date_next_steps()
            self.schedule_new()
            self.step("Notices: released and cancelled…")
            self.maintain_notices()
            self.step("Holds…")
            self.holds()
            self.step("Next actions…")
            self.recompute_touched()
            self.step("Hot list…")
            self.scofflaws()
        finally:
            if not self.sql.pg:
                self.sql.run("PRAGMA cache_size = -2000")
        self.result.seconds = _time.perf_counter() - started
        return self.result

    # -- 1. cases of no known profile --------------------------------------------------------------
    def rejection_floors(self) -> None:
        """Cases resumed after a decision against the motorist: their next step waits for the law's floor.

        The next step's date counts from the ladder's notice (and moves by the hold while the appeal was
        pending), but after a rejection the law also says "not before": England's Charge Certificate (and its
        50 % increase) only after the 28 days beginning with the service of the notice of rejection
        (``case_plan.rejection_floor``, which cites the regulations; the same rule ``plan_case`` applies). The
        decision letter's service comes from its mailing; while it is not mailed, from a posting today (so the
        step never comes before the letter is served). Run before ``advance``: a case below its floor gets the
        floor as its next step's date (and the next action with it). Reads the open cases with a decided,
        not dismissed appeal: a small share of the cases."""
        versions = profile_store.versions_by_key(self.s)
        letter_key = literal("decision_letter:") + cast(Appeal.id, String)
        rows = self.s.execute(
            select(Citation.id, Citation.profile_code, Citation.profile_version, Citation.next_stage_on,
                   Appeal.level, Appeal.decided_at, Appeal.decision, Notice.mailed_at)
            .join(Appeal, Appeal.citation_id == Citation.id)
            .outerjoin(Notice, and_(Notice.citation_id == Citation.id, Notice.dedupe_key == letter_key,
                                    Notice.reprint_of.is_(None), Notice.mailed_at.is_not(None)))
            .where(Citation.status.in_(ESCALATING), Citation.on_hold.is_(False), Citation.stage.is_not(None),
                   Appeal.decided_at.is_not(None), Appeal.decision.in_(("upheld", "reduced")),
                   Appeal.status != "withdrawn")).all()
        floors: dict[int, tuple[date | None, date]] = {}
        for cid, code, version, next_on, level, decided_at, decision, mailed_at in rows:
            profile = versions.get((code, version))
            if profile is None or decided_at is None or level not in {lv.key for lv in profile.appeal_levels}:
                continue
            tz = ZoneInfo(profile.timezone)
            decided_on = decided_at.astimezone(tz).date()
            posted = mailed_at.astimezone(tz).date() if mailed_at is not None else max(decided_on, self.as_of)
            floor = case_plan.rejection_floor(profile, case_plan.ContestDecided(
                level, decided_on, ContestOutcome(decision), letter_mailed_on=posted))
            if floor is not None and (cid not in floors or floor > floors[cid][1]):
                floors[cid] = (next_on, floor)
        sql = self.sql
        for cid, (next_on, floor) in floors.items():
            if next_on is not None and next_on < floor:
                sql.run("UPDATE citations SET next_stage_on = :d, version = version + 1 WHERE id = :id", d=floor, id=cid)
                sql.run("INSERT INTO esc_touched (id) VALUES (:id) ON CONFLICT (id) DO NOTHING", id=cid)
                self.result.dated += 1
            elif next_on is None:
                sql.run("UPDATE esc_undated SET d = :d WHERE id = :id AND d < :d", d=floor, id=cid)

    def schedule_new(self) -> None:
        """New cases are scheduled with the others whose next step gets a date (``collect_undated``):
        the version in force on the issue date, its first stage. Here only those whose profile is not
        stored at all: a person must look at them. (Run after the others were scheduled, when few cases
        are left without a stage: the index range read is small even on the first run.)"""
        sql = self.sql
        known = sql.in_list(list(self.codes)) if self.codes else "('')"
        n = sql.run(f"""
            UPDATE citations SET next_action = 'review:unscheduled', next_action_date = :as_of,
                   version = version + 1
            WHERE status IN {sql.in_list(MUST_HAVE_NEXT_ACTION)} AND next_stage_on IS NULL AND stage IS NULL
              AND profile_code NOT IN {known}
              AND (next_action IS NULL OR next_action <> 'review:unscheduled' OR next_action_date IS NULL)""",
                    as_of=self.as_of)
        self.result.next_actions_set += n

    # -- 2. dates that became known (a notice was mailed) -------------------------------------
    def _case_filter(self, v: _Version, rung: Rung, alias: str = "c") -> str:
        return (f"{alias}.status IN ('open', 'in_collections') AND NOT {alias}.on_hold "
                f"AND {alias}.profile_code = '{v.code}' AND {alias}.profile_version = {v.version} "
                f"AND {alias}.stage = '{rung.key}'")

    def _undated(self, v: _Version, rung: Rung, only: str | None = None) -> tuple[str, dict[str, Any]] | None:
        """SQL selecting (id, d, status, owner_id, fine_cents) of the cases standing on ``rung`` whose
        next step had no date yet and now has one (its notice was mailed, or it counts from the issue);
        ``only``: a query of the ids it is limited to."""
        sql = self.sql
        if rung.is_final or rung.anchor is None or rung.days is None:
            return None
        where = f"c.next_stage_on IS NULL AND {self._case_filter(v, rung)}"
        if only is not None:
            where += f" AND c.id IN ({only})"
        if rung.anchor is Anchor.ISSUE:
            due = sql.add_days(sql.local_date("c.issued_at", v.tz), f"{rung.days} + c.held_days")
            return (f"SELECT c.id AS id, {due} AS d, c.status AS status, c.owner_id AS owner_id, "
                    f"c.fine_cents AS fine FROM citations c WHERE {where}"), {}
        if rung.anchor is Anchor.MAILING:
            mailed = sql.local_date("n.mailed_at", v.tz)
            if v.service.working_days:  # the clock starts at service, not at posting (see ServiceRule)
                self._fill_service(v, mailed)
                mailed = (f"(SELECT sv.served FROM esc_service sv WHERE sv.code = '{v.code}' "
                          f"AND sv.mailed = {mailed})")
            span = sql.days_between(sql.local_date("h.ended_at", v.tz), sql.local_date("h.started_at", v.tz))
            held = (f"COALESCE((SELECT SUM({span}) FROM holds h WHERE h.citation_id = c.id "
                    f"AND h.ended_at IS NOT NULL AND h.started_at >= n.mailed_at), 0)")
            due = sql.add_days(mailed, f"{rung.days} + {held}")
            return (f"SELECT c.id AS id, {due} AS d, c.status AS status, c.owner_id AS owner_id, "
                    f"c.fine_cents AS fine FROM citations c "
                    f"JOIN notices n ON n.citation_id = c.id AND n.dedupe_key = :dkey "
                    f"WHERE {where} AND n.mailed_at IS NOT NULL"), {"dkey": rung.notice_dedupe_key}
        # Entered before its date was kept (older data): count from today.
        return (f"SELECT c.id AS id, {sql.add_days(':as_of', str(rung.days))} AS d, c.status AS status, "
                f"c.owner_id AS owner_id, c.fine_cents AS fine FROM citations c WHERE {where}"), {"as_of": self.as_of}

    def _fill_service(self, v: _Version, mailed: str) -> None:
        """`esc_service` rows for every day a notice of `v`'s profile was mailed (a few hundred dates at
        most), each with the day it counts as served: computed here, joined by the set-based statements."""
        sql = self.sql
        days = sql.rows(f"""SELECT DISTINCT {mailed} FROM notices n JOIN citations c ON c.id = n.citation_id
                            WHERE c.profile_code = :code AND n.mailed_at IS NOT NULL
                              AND NOT EXISTS (SELECT 1 FROM esc_service sv WHERE sv.code = :code
                                              AND sv.mailed = {mailed})""", code=v.code)
        for (day,) in days:
            posted = day if isinstance(day, date) else date.fromisoformat(str(day))
            sql.fill("esc_service", "INSERT INTO esc_service (code, mailed, served) VALUES (:code, :mailed, :served)",
                     code=v.code, mailed=posted, served=v.service.served_on(posted))

    @staticmethod
    def _tag(v: _Version, rung: Rung) -> str:
        return f"{v.code}:{v.version}:{rung.key}"

    def collect_undated(self) -> None:
        """Once per run: every case whose next step now has a date it did not have (its notice was
        mailed; or a new case, which starts on the first stage of the version in force on its issue
        date), with that date. ``advance`` moves those already due, ``date_next_steps`` dates the rest;
        each case is written once."""
        for v in self.versions:
            for index, rung in enumerate(v.rungs):
                if self._collect_undated(v, rung) and index == 0:
                    new = self._new_cases(v, rung)
                    self._undated_rows[self._tag(v, rung)] += new
                    self.result.scheduled += new

    def _collect_undated(self, v: _Version, rung: Rung, only: str | None = None) -> bool:
        """Add to ``esc_undated`` the cases on ``rung`` (those ``only`` selects, if given) whose next step now
        has a date; False for a rung whose next step is never dated (the last, or one without a clock)."""
        undated = self._undated(v, rung, only)
        if undated is None:
            return False
        select_sql, params = undated
        tag = self._tag(v, rung)
        if only is not None:  # rows they had on the rung they left were read by ``advance`` already
            self.sql.run(f"DELETE FROM esc_undated WHERE id IN ({only})")
        self._undated_rows[tag] = self._undated_rows.get(tag, 0) + self.sql.fill("esc_undated", f"""
            INSERT INTO esc_undated (id, d, status, owner_id, fine, tag, new)
            SELECT u.id, u.d, u.status, u.owner_id, u.fine, :tag, 0 FROM ({select_sql}) u
            WHERE u.d IS NOT NULL""", tag=tag, **params)
        return True

    def _new_cases(self, v: _Version, rung: Rung) -> int:
        """Cases never escalated whose issue date falls under version ``v``: their first stage's next step."""
        sql = self.sql
        issue = sql.local_date("c.issued_at", v.tz)
        if rung.anchor is Anchor.ISSUE and rung.days is not None:
            due = sql.add_days(issue, f"{rung.days} + c.held_days")
        elif rung.days is not None:
            due = sql.add_days(":as_of", str(rung.days))
        else:
            return 0
        params: dict[str, Any] = {"tag": self._tag(v, rung), "code": v.code, "as_of": self.as_of}
        span = ""
        if v.effective_from is not None:
            span += f" AND {issue} >= :since"
            params["since"] = v.effective_from
        if v.until is not None:
            span += f" AND {issue} < :until"
            params["until"] = v.until
        return sql.fill("esc_undated", f"""
            INSERT INTO esc_undated (id, d, status, owner_id, fine, tag, new)
            SELECT c.id, {due}, c.status, c.owner_id, c.fine_cents, :tag, 1 FROM citations c
            WHERE c.status IN ('open', 'in_collections') AND c.next_stage_on IS NULL AND c.stage IS NULL
              AND NOT c.on_hold AND c.profile_code = :code{span}""", **params)

    def date_next_steps(self) -> None:
        """Cases whose next step just got a date that is still to come: the date and the next action, in
        one statement per rung (those already due were moved on by ``advance``)."""
        sql = self.sql
        for v in self.versions:
            for rung in v.rungs:
                if not self._undated_rows.get(self._tag(v, rung)):
                    continue
                sql.clear("esc_batch")
                n = sql.fill("esc_batch", """INSERT INTO esc_batch (id, d) SELECT u.id, u.d FROM esc_undated u
                                             WHERE u.tag = :tag AND u.d > :as_of""",
                             tag=self._tag(v, rung), as_of=self.as_of)
                if not n:
                    continue
                self.result.dated += n
                next_code = rung.next_code or "review"
                params: dict[str, Any] = {"key": rung.key, "v": v.version, "next_code": next_code}
                if rung.notice_kind:
                    pending = sql.in_list(UNMAILED)
                    statement = f"""
                        UPDATE citations SET next_stage_on = b.d, stage = :key, profile_version = :v,
                               next_action = CASE WHEN n.status = 'held' THEN :owner_code
                                                  WHEN n.status IN {pending} THEN :mail_code ELSE :next_code END,
                               next_action_date = CASE WHEN n.status IN {pending}
                                                       THEN {sql.local_date('n.queued_at', v.tz)} ELSE b.d END,
                               version = citations.version + 1
                        FROM esc_batch b LEFT JOIN notices n ON n.citation_id = b.id AND n.dedupe_key = :dkey
                        WHERE {sql.driven_by('citations', 'esc_batch', 'b')}"""
                    params.update(owner_code=rung.owner_code, mail_code=rung.mail_code, dkey=rung.notice_dedupe_key)
                else:
                    statement = f"""
                        UPDATE citations SET next_stage_on = b.d, next_action = :next_code, next_action_date = b.d,
                               stage = :key, profile_version = :v, version = citations.version + 1
                        FROM esc_batch b WHERE {sql.driven_by('citations', 'esc_batch', 'b')}"""
                with sql.indexes_rebuilt("citations", NEXT_STEP_INDEXES, n):
                    self.result.next_actions_set += sql.run(statement, **params)

    # -- 3. advancing ---------------------------------------------------------------------------
    def advance(self, v: _Version) -> None:
        sql = self.sql
        for index in range(1, len(v.rungs)):
            previous, rung = v.rungs[index - 1], v.rungs[index]
            self.step(f"{v.label}: {rung.name}…")
            sql.clear("esc_batch")
            n = sql.fill("esc_batch", f"""
                INSERT INTO esc_batch (id, d, prev_status, owner_id, looked_up, fine)
                SELECT c.id, c.next_stage_on, c.status, c.owner_id, 0, c.fine_cents FROM citations c
                WHERE c.next_stage_on <= :as_of AND {self._case_filter(v, previous)}""", as_of=self.as_of)
            if self._undated_rows.get(self._tag(v, previous)):  # due, though no date was kept (just mailed)
                n += sql.fill("esc_batch", """
                    INSERT INTO esc_batch (id, d, prev_status, owner_id, looked_up, fine)
                    SELECT u.id, u.d, u.status, u.owner_id, 0, u.fine FROM esc_undated u
                    WHERE u.tag = :tag AND u.d <= :as_of""", tag=self._tag(v, previous), as_of=self.as_of)
            if not n:
                continue
            self.result.advanced[f"{v.label} {rung.name}"] = n
            self._looked_up = False
            self._penalty(v, rung, n)
            if rung.notice_kind:
                self._lookup_owners(v)
            self._enter(v, rung, n)
            if rung.notice_kind:
                earlier_notices = any(r.notice_kind for r in v.rungs[:index])
                inserted = self._queue_notice(rung, n, earlier_notices)
                if inserted < n:  # a notice of this stage existed already: read its state
                    self.set_next_actions("esc_batch", v, rung)
                    # Mailed already (before an appeal sent the case back, say): the stage's clock started
                    # at that mailing. Dated here like any mailed notice's case: the next rung moves it on
                    # in this run if that date has passed, ``date_next_steps`` dates it otherwise.
                    # (those ``set_next_actions`` left without a date: a few, where the batch may be 500,000)
                    self._collect_undated(v, rung, only="SELECT e.id FROM esc_next e WHERE e.d IS NULL")
            if rung.is_legal_step:
                self._audit_legal_step(v, rung)

    def _penalty(self, v: _Version, rung: Rung, n: int) -> None:
        fixed, pct = rung.penalty.fixed_cents, rung.penalty.percent_of_fine
        if not fixed and not pct:
            return
        amount = f"({fixed} + (b.fine * {pct} + 50) / 100)"
        memo = f"{rung.name} ({v.label})"
        if seal_of(self.s) is None:  # no office key: the database writes them in one statement
            inserted = self.sql.insert_ignore(
                "ledger_entries", "citation_id, kind, amount_cents, at, effective_date, user_id, dedupe_key, memo",
                f"SELECT b.id, 'penalty', {amount}, :now, b.d, :uid, :dkey, :memo FROM esc_batch b "
                f"WHERE {amount} > 0", "citation_id, dedupe_key", now=self.now, uid=self.uid,
                dkey=rung.penalty_dedupe_key, memo=memo)
        else:
            inserted = self._sealed_penalties(amount, rung.penalty_dedupe_key, memo)
        total = self.sql.scalar(
            "SELECT COALESCE(SUM(l.amount_cents), 0) FROM ledger_entries l JOIN esc_batch b ON b.id = l.citation_id "
            "WHERE l.dedupe_key = :dkey AND l.at = :now", dkey=rung.penalty_dedupe_key, now=self.now) \
            if inserted < n else self.sql.scalar(f"SELECT COALESCE(SUM({amount}), 0) FROM esc_batch b "
                                                 f"WHERE {amount} > 0")
        self.result.penalties += inserted
        self.result.penalties_cents += int(total or 0)
        by_currency = self.result.penalties_by_currency
        by_currency[v.currency] = by_currency.get(v.currency, 0) + int(total or 0)

    def _sealed_penalties(self, amount: str, dkey: str, memo: str) -> int:
        """The batch's penalties not posted yet (the dedupe key's ``ON CONFLICT DO NOTHING``, as a filter),
        sealed with the office key here and written by one bulk insert (COPY on PostgreSQL), their ids
        taken first since the seal covers them. Inserted by the database and sealed after, one UPDATE a row,
        the first run at a million citations spent 12 s inserting 504,000 penalties and 28 s sealing them."""
        written, after = 0, 0
        while True:  # PENALTY_CHUNK cases at a time, by id: memory holds one chunk's rows
            rows = self.sql.rows(f"""
                SELECT b.id, {amount}, b.d FROM esc_batch b
                WHERE b.id > :after AND {amount} > 0
                  AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.citation_id = b.id AND l.dedupe_key = :dkey)
                ORDER BY b.id LIMIT {PENALTY_CHUNK}""", after=after, dkey=dkey)
            if not rows:
                return written
            after = int(rows[-1][0])
            ids = reserve_ids(self.s, "ledger_entries", len(rows))
            entries = [dict(id=entry_id, citation_id=int(cid), kind="penalty", amount_cents=int(cents), at=self.now,
                            effective_date=d if isinstance(d, date) else date.fromisoformat(str(d)),
                            user_id=self.uid, payment_id=None, reverses_id=None, dedupe_key=dkey, memo=memo)
                       for entry_id, (cid, cents, d) in zip(ids, rows, strict=True)]
            seal_row_dicts(self.s, LedgerEntry, entries)
            insert_rows(self.s, LedgerEntry.__table__, entries)  # type: ignore[arg-type]
            written += len(entries)

    def _owner_match(self, tz: str, alias: str = "c") -> str:
        issue = self.sql.local_date(f"{alias}.issued_at", tz)
        return (f"(SELECT o.id FROM registered_owners o WHERE o.plate = {alias}.plate "
                f"AND o.jurisdiction = {alias}.jurisdiction AND o.valid_from <= {issue} "
                f"AND (o.valid_to IS NULL OR o.valid_to >= {issue}) ORDER BY o.valid_from DESC, o.id DESC LIMIT 1)")

    def _lookup_owners(self, v: _Version) -> None:
        """The owner registered on the violation date, for the cases of ``esc_batch`` that have none;
        every lookup is recorded with its purpose."""
        sql = self.sql
        n = sql.run(f"""UPDATE esc_batch SET looked_up = 1,
                            owner_id = (SELECT {self._owner_match(v.tz)} FROM citations c WHERE c.id = esc_batch.id)
                        WHERE owner_id IS NULL""")
        self._looked_up = bool(n)
        if not n:
            return
        self.result.owner_lookups += sql.run("""
            INSERT INTO owner_lookups (citation_id, plate, purpose, user_id, at, owner_id)
            SELECT c.id, c.plate, :purpose, :uid, :now, b.owner_id
            FROM esc_batch b JOIN citations c ON c.id = b.id WHERE b.looked_up = 1""",
                                             purpose=NOTICE_PURPOSE, uid=self.uid, now=self.now)

    def _enter(self, v: _Version, rung: Rung, n: int) -> None:
        """Move the batch (``n`` cases) onto ``rung``: its stage, status, owner, the next step's date and the
        next action."""
        sql = self.sql
        if rung.is_final:
            nxt = sql.add_days("b.d", str(self.final_review_days))
        elif rung.anchor is Anchor.ISSUE and rung.days is not None:
            nxt = sql.greatest(sql.add_days(sql.local_date("citations.issued_at", v.tz),
                                            f"{rung.days} + citations.held_days"), "b.d")
        elif rung.anchor is Anchor.ENTRY and rung.days is not None:
            nxt = sql.add_days("b.d", str(rung.days))
        else:
            nxt = "NULL"
        # The status is written only when it changes: every index that starts with it is left alone.
        status = "status = 'in_collections', " if rung.moves_to_collections else ""
        params: dict[str, Any] = {"key": rung.key}
        if rung.notice_kind:
            # "Mail the notice" for now; the few held for a clerk are told apart once queued (a look-up of each
            # case's owner here, to write "find the owner" at once, cost more than rewriting those few).
            action, when = ":mail_code", ":today"
            params.update(mail_code=rung.mail_code, today=self.today_in(v.tz))
        else:
            action, when = ":next_code", nxt
            params["next_code"] = rung.next_code or "review"
        # The owner the run looked up goes in with the step: each row is rewritten once, not twice (on
        # PostgreSQL a rewrite is a new version of the row in every index of citations).
        owner = "owner_id = COALESCE(citations.owner_id, b.owner_id), " if self._looked_up else ""
        # Values that do not depend on the batch row need no join: the ids are enough.
        batch = (f"FROM esc_batch b WHERE {sql.driven_by('citations', 'esc_batch', 'b')}"
                 if "b." in nxt + when + owner else "WHERE citations.id IN (SELECT id FROM esc_batch)")
        with sql.indexes_rebuilt("citations", NEXT_STEP_INDEXES, n):
            sql.run(f"""
                UPDATE citations SET stage = :key, profile_version = {v.version}, {status}{owner}
                       next_stage_on = {nxt}, next_action = {action}, next_action_date = {when},
                       version = citations.version + 1
                {batch}""", **params)
        n = int(sql.scalar("SELECT COUNT(*) FROM esc_batch") or 0)
        self.result.next_actions_set += n
        if rung.moves_to_collections:
            self.result.moved_to_collections += int(sql.scalar(
                "SELECT COUNT(*) FROM esc_batch WHERE prev_status <> 'in_collections'") or 0)

    def _queue_notice(self, rung: Rung, n: int, earlier_notices: bool) -> int:
        sql = self.sql
        if earlier_notices:
            self.result.notices_cancelled += sql.run("""
                UPDATE notices SET status = 'cancelled', hold_reason = :why
                WHERE citation_id IN (SELECT id FROM esc_batch) AND status IN ('queued', 'held')
                  AND dedupe_key LIKE 'stage:%' AND dedupe_key <> :dkey""",
                                                     why=f"superseded by the {rung.name.lower()}",
                                                     dkey=rung.notice_dedupe_key)
        held_reason = ("CASE WHEN o.id IS NULL THEN 'No registered owner on file for the violation date' "
                       "WHEN o.address_status = 'ok' THEN NULL "
                       "ELSE 'Owner address cannot be mailed: ' || COALESCE(o.address_problem, o.address_status) END")
        status = "CASE WHEN o.address_status = 'ok' THEN 'queued' ELSE 'held' END"
        inserted = sql.insert_ignore(
            "notices", "citation_id, kind, stage, status, queued_at, hold_reason, owner_id, address_snapshot, dedupe_key",
            f"""SELECT b.id, :kind, :key, {status}, :now, {held_reason}, o.id, {sql.address_json('o')}, :dkey
                FROM esc_batch b LEFT JOIN registered_owners o ON o.id = b.owner_id WHERE b.id IS NOT NULL""",
            "citation_id, dedupe_key", kind=rung.notice_kind, key=rung.key, now=self.now, dkey=rung.notice_dedupe_key)
        held = sql.run("""UPDATE citations SET next_action = :owner_code
                          WHERE id IN (SELECT citation_id FROM notices WHERE status = 'held' AND queued_at = :now
                                       AND dedupe_key = :dkey)""",
                       owner_code=rung.owner_code, now=self.now, dkey=rung.notice_dedupe_key) if inserted else 0
        self.result.notices_held += held
        self.result.notices_queued += inserted - held
        return inserted

    def _audit_legal_step(self, v: _Version, rung: Rung) -> None:
        rows = self.sql.rows("SELECT b.id, b.prev_status, b.d FROM esc_batch b ORDER BY b.id")
        status_after = CaseStatus.IN_COLLECTIONS.value if rung.moves_to_collections else None
        entries = []
        for cid, prev_status, start in rows:
            after: dict[str, Any] = {"stage": rung.key, "on": start}
            before: dict[str, Any] = {"status": prev_status}
            action = f"escalation.{rung.entry_action.value}"
            if status_after and prev_status != status_after:
                action = f"citation.{status_after}"
                after["status"] = status_after
            entries.append(audit.AuditRecord(action, "citation", int(cid), before=before, after=after,
                                              reason=f"Daily escalation {self.as_of.isoformat()}: {rung.name} "
                                                     f"({v.label})"))
        self.result.legal_steps += audit.append_many(self.s, entries, at=self.now, user_id=self.uid,
                                                     username=self.uow.actor.username)

    # -- next actions --------------------------------------------------------------------------
    def set_next_actions(self, table: str, v: _Version, rung: Rung) -> None:
        """Write the next action and its date for the cases of ``table`` standing on ``rung``."""
        sql = self.sql
        sql.clear("esc_next")
        next_code = rung.next_code or "review"
        if rung.notice_kind:
            pending = sql.in_list(UNMAILED)
            n = sql.fill("esc_next", f"""
                INSERT INTO esc_next (id, action, d)
                SELECT c.id,
                       CASE WHEN n.status = 'held' THEN :owner_code
                            WHEN n.status IN {pending} THEN :mail_code ELSE :next_code END,
                       CASE WHEN n.status IN {pending} THEN {sql.local_date('n.queued_at', v.tz)}
                            ELSE c.next_stage_on END
                FROM {table} t JOIN citations c ON c.id = t.id
                LEFT JOIN notices n ON n.citation_id = c.id AND n.dedupe_key = :dkey
                WHERE {self._case_filter(v, rung)}""",
                         owner_code=rung.owner_code, mail_code=rung.mail_code, next_code=next_code,
                         dkey=rung.notice_dedupe_key)
        else:
            n = sql.fill("esc_next", f"""
                INSERT INTO esc_next (id, action, d)
                SELECT c.id, :next_code, c.next_stage_on FROM {table} t JOIN citations c ON c.id = t.id
                WHERE {self._case_filter(v, rung)}""", next_code=next_code)
        if n:
            self._write_next()

    def _write_next(self) -> None:
        sql = self.sql
        self.result.next_actions_set += sql.run(f"""
            UPDATE citations SET next_action = e.action, next_action_date = e.d, version = citations.version + 1
            FROM esc_next e WHERE {sql.driven_by('citations', 'esc_next', 'e')}
              AND ({sql.distinct('citations.next_action', 'e.action')}
                   OR {sql.distinct('citations.next_action_date', 'e.d')})""")

    # -- 4. notices ------------------------------------------------------------------------------
    def cancel_notices_of_closed_cases(self) -> None:
        """Unmailed notices of cases closed since they were queued (paid, dismissed ...) are not sent.
        Run before the new notices are queued, so it reads only the notices still waiting from before.
        Only the ladder's notices (they have a stage): the letters a closing queues (a deemed acceptance's
        decision and refund letters, a refund letter after payment) are what the closed case still owes."""
        sql = self.sql
        self.result.notices_cancelled += sql.run(f"""
            UPDATE notices SET status = 'cancelled', hold_reason = 'case closed before mailing'
            WHERE status IN ('queued', 'held') AND stage IS NOT NULL
              AND EXISTS (SELECT 1 FROM citations c WHERE c.id = notices.citation_id
                          AND c.status IN {sql.in_list(CLOSED)})""")

    def maintain_notices(self) -> None:
        sql = self.sql
        # Held for want of an owner: look again when the registry now knows one.
        for code, stored in self.codes.items():
            tz = stored[0].profile.timezone
            sql.clear("esc_batch")
            n = sql.fill("esc_batch", f"""
                INSERT INTO esc_batch (id, looked_up) SELECT DISTINCT c.id, 0
                FROM notices n JOIN citations c ON c.id = n.citation_id
                WHERE n.status = 'held' AND c.owner_id IS NULL AND c.profile_code = :code
                  AND c.status IN {sql.in_list(ESCALATING)} AND {self._owner_match(tz)} IS NOT NULL""", code=code)
            if n:
                self._lookup_owners(_Version(code, 0, tz, ()))
                sql.run(f"""UPDATE citations SET owner_id = b.owner_id, version = citations.version + 1
                           FROM esc_batch b WHERE {sql.driven_by('citations', 'esc_batch', 'b')}
                             AND citations.owner_id IS NULL
                             AND b.owner_id IS NOT NULL""")
        held_reason = ("CASE WHEN o.address_status = 'ok' THEN NULL "
                       "ELSE 'Owner address cannot be mailed: ' || COALESCE(o.address_problem, o.address_status) END")
        sql.clear("esc_batch")
        n = sql.fill("esc_batch", f"""
            INSERT INTO esc_batch (id, owner_id) SELECT DISTINCT c.id, c.owner_id
            FROM notices n JOIN citations c ON c.id = n.citation_id JOIN registered_owners o ON o.id = c.owner_id
            WHERE n.status = 'held' AND c.status IN {sql.in_list(ESCALATING)}
              AND (o.address_status = 'ok' OR n.owner_id IS NULL OR n.owner_id <> c.owner_id)""")
        if not n:
            return
        self.result.notices_released += int(sql.scalar(
            """SELECT COUNT(*) FROM notices n JOIN esc_batch b ON b.id = n.citation_id
               JOIN registered_owners o ON o.id = b.owner_id WHERE n.status = 'held' AND o.address_status = 'ok'""") or 0)
        sql.run(f"""
            UPDATE notices SET
                status = (SELECT CASE WHEN o.address_status = 'ok' THEN 'queued' ELSE 'held' END
                          FROM registered_owners o WHERE o.id = b.owner_id),
                hold_reason = (SELECT {held_reason} FROM registered_owners o WHERE o.id = b.owner_id),
                owner_id = b.owner_id,
                address_snapshot = (SELECT {sql.address_json('o')} FROM registered_owners o WHERE o.id = b.owner_id)
            FROM esc_batch b WHERE notices.citation_id = b.id AND notices.status = 'held'""")
        sql.fill("esc_touched", "INSERT INTO esc_touched (id) SELECT id FROM esc_batch WHERE id IS NOT NULL "
                                "ON CONFLICT (id) DO NOTHING")

    # -- 5. holds ----------------------------------------------------------------------------------
    def holds(self) -> None:
        sql = self.sql
        paused = ("SELECT h.citation_id FROM holds h WHERE h.ended_at IS NULL UNION "
                  "SELECT c2.id FROM citations c2 WHERE c2.status = 'under_appeal'")
        for code, stored in self.codes.items():
            tz = stored[0].profile.timezone
            sql.clear("esc_next")
            appeal = ("FROM appeals a WHERE a.citation_id = c.id AND a.status IN ('open', 'scheduled') "
                      "ORDER BY a.filed_at DESC, a.id DESC LIMIT 1")
            first_hold = "(SELECT MIN(h.started_at) FROM holds h WHERE h.citation_id = c.id AND h.ended_at IS NULL)"
            n = sql.fill("esc_next", f"""
                INSERT INTO esc_next (id, action, d)
                SELECT c.id,
                       COALESCE((SELECT 'decide:' || a.level {appeal}),
                                'hold:' || COALESCE((SELECT h.kind FROM holds h WHERE h.citation_id = c.id
                                                     AND h.ended_at IS NULL ORDER BY h.started_at, h.id LIMIT 1),
                                                    'appeal')),
                       COALESCE((SELECT a.decide_by {appeal}),
                                {sql.add_days(sql.local_date(first_hold, tz), ':review_days')}, :as_of)
                FROM citations c
                WHERE c.id IN ({paused}) AND c.profile_code = :code
                  AND c.status IN {sql.in_list(MUST_HAVE_NEXT_ACTION)}""",
                         code=code, review_days=self.review_days, as_of=self.as_of)
            if n:
                self._write_next()
        # Released since, or their notice was mailed (or held, or cancelled) since, or without a next
        # action: the ladder's next action comes back. Each is a range of the (status, next_action) index.
        # (Where the next step counts from the mailing, the mailing itself dated the case above; only
        # stages whose next step counts from the issue date are checked here.)
        notice = "SELECT 1 FROM notices n WHERE n.citation_id = c.id AND n.dedupe_key = 'stage:' || c.stage"
        issue_counted = [r for v in self.versions for r in v.rungs if r.notice_kind and r.anchor is Anchor.ISSUE]
        for status in ESCALATING:
            for lo, hi, extra in (("hold:", "hold;", ""), ("decide:", "decide;", ""),
                                  ("owner:", "owner;", f"AND NOT EXISTS ({notice} AND n.status = 'held')")):
                sql.fill("esc_touched", f"""
                    INSERT INTO esc_touched (id) SELECT c.id FROM citations c
                    WHERE c.status = :status AND c.next_action >= :lo AND c.next_action < :hi
                      AND NOT c.on_hold {extra}
                    ON CONFLICT (id) DO NOTHING""", status=status, lo=lo, hi=hi)
            for code in sorted({r.mail_code for r in issue_counted if r.mail_code}):
                stages = sql.in_list(sorted({r.key for r in issue_counted if r.mail_code == code}))
                sql.fill("esc_touched", f"""
                    INSERT INTO esc_touched (id) SELECT c.id FROM citations c
                    WHERE c.status = :status AND c.next_action = :code AND NOT c.on_hold AND c.stage IN {stages}
                      AND NOT EXISTS ({notice} AND n.status IN ('queued', 'printed'))
                    ON CONFLICT (id) DO NOTHING""", status=status, code=code)
            for column in ("next_action", "next_action_date"):  # two index ranges rather than one OR
                sql.fill("esc_touched", f"""
                    INSERT INTO esc_touched (id) SELECT c.id FROM citations c
                    WHERE c.status = :status AND c.{column} IS NULL AND NOT c.on_hold AND c.stage IS NOT NULL
                    ON CONFLICT (id) DO NOTHING""", status=status)

    def recompute_touched(self) -> None:
        if not self.sql.scalar("SELECT COUNT(*) FROM esc_touched"):
            return
        for v in self.versions:
            for rung in v.rungs:
                self.set_next_actions("esc_touched", v, rung)

    # -- 6. scofflaws ------------------------------------------------------------------------------
    def scofflaws(self) -> None:
        """Plates with more than ``scofflaw.unpaid_cases`` unpaid cases past their last stage are
        boot-eligible: on the hot list while they qualify, off it (cleared) when they no longer do."""
        sql = self.sql
        # Past the last stage: referred to collections, or a final step that keeps the case open
        # (a judgment) in a profile that has one.
        past = "c.status = 'in_collections'"
        if any(r.is_final and not r.moves_to_collections for v in self.versions for r in v.rungs):
            past = f"({past} OR (c.status = 'open' AND c.stage LIKE '{FINAL_PREFIX}%'))"
        sql.clear("esc_plates")
        sql.fill("esc_plates", f"""
            INSERT INTO esc_plates (plate, jurisdiction)
            SELECT c.plate, c.jurisdiction FROM citations c
            WHERE {past}
              AND (SELECT COALESCE(SUM(l.amount_cents), 0) FROM ledger_entries l WHERE l.citation_id = c.id) > 0
            GROUP BY c.plate, c.jurisdiction HAVING COUNT(*) > :threshold""", threshold=self.threshold)
        self.result.hotlisted += sql.run("""
            INSERT INTO hotlist (plate, jurisdiction, reason, since, active)
            SELECT q.plate, q.jurisdiction, :reason, :now, :yes FROM esc_plates q
            WHERE NOT EXISTS (SELECT 1 FROM hotlist h WHERE h.plate = q.plate AND h.jurisdiction = q.jurisdiction
                              AND h.reason = :same_reason AND h.active)""",
                                         reason=HOTLIST_REASON, same_reason=HOTLIST_REASON, now=self.now, yes=True)
        self.result.hotlist_cleared += sql.run("""
            UPDATE hotlist SET active = :no, cleared_at = :now
            WHERE reason = :reason AND active
              AND NOT EXISTS (SELECT 1 FROM esc_plates q WHERE q.plate = hotlist.plate
                              AND q.jurisdiction = hotlist.jurisdiction)""",
                                               no=False, now=self.now, reason=HOTLIST_REASON)


# --------------------------------------------------------------------------- use cases


#: rows a run must write before it refreshes the planner's statistics itself (PostgreSQL)
ANALYZE_AFTER_ROWS = 10_000
_WRITTEN_TABLES = "citations, ledger_entries, notices, audit_log"


def _refresh_statistics(app: AppContext, result: EscalationResult) -> None:
    """After a run that wrote many rows (the first run at go-live, the day after a mass mailing) PostgreSQL's
    planner still holds the statistics of before it until autovacuum gets round to them, and plans the next
    runs as if the tables were empty of what it wrote: on the million-case office the settled day after the
    first run took 19.4 s, 6.6 s once analysed. ANALYZE takes no lock a clerk's work waits for."""
    if app.db.dialect != "postgresql":
        return
    written = result.penalties + result.notices_queued + result.next_actions_set + result.dated
    if written < ANALYZE_AFTER_ROWS:
        return
    with app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sql_text("SET statement_timeout = 0"))
        conn.execute(sql_text(f"ANALYZE {_WRITTEN_TABLES}"))


def run_escalation(app: AppContext, actor: Actor, as_of: date | None = None,
                   progress: Progress | None = None) -> EscalationResult:
    """The daily run for ``as_of`` (default: today in the agency's time zone); all or nothing."""
    with app.reader(actor, Permission.RUN_ESCALATION):
        pass
    profile_store.seed(app)

    def once() -> EscalationResult:
        # Exclusive: the run starts once the writes in flight have committed, and none starts until it commits
        # (``desktop.persistence.locks``: why this scheme; SQLite's BEGIN IMMEDIATE does the same already).
        with app.uow(actor, Permission.RUN_ESCALATION, daily_run=True) as uow:
            day = as_of or agency_date(uow.session, app.now())
            run = _Run(uow, day, progress)
            result = run.execute()
            if result.changed:
                uow.audit("escalation.run", "escalation", day.isoformat(), after=result.summary())
            uow.commit()
        return result

    # One transaction, all or nothing, and a day already run finds nothing left to do: after a lost connection
    # (the server restarted mid-run) it is simply run again, once; a server still down gets its sentence.
    result = retrying(once, idempotent=True)
    _refresh_statistics(app, result)
    result.without_next_action = len(cases_without_next_action(app, limit=None))
    log.info("escalation %s: %s", result.as_of, result.summary())
    return result


@dataclass(frozen=True)
class MissingNextAction:
    id: int
    citation_number: str
    status: str
    stage: str | None
    next_action: str | None


def cases_without_next_action(app: AppContext, limit: int | None = 200) -> list[MissingNextAction]:
    """Open cases (open, under appeal, in collections) without a next action or its date: the goal is none.

    Read as two ranges of the (status, next_action) and (status, next_action_date) indexes."""
    statuses = ", ".join(f"'{st}'" for st in MUST_HAVE_NEXT_ACTION)
    sql_text = (f"SELECT id, citation_number, status, stage, next_action FROM citations WHERE id IN ("
                f"SELECT id FROM citations WHERE status IN ({statuses}) AND next_action IS NULL UNION "
                f"SELECT id FROM citations WHERE status IN ({statuses}) AND next_action_date IS NULL) ORDER BY id"
                + (f" LIMIT {int(limit)}" if limit is not None else ""))
    with app.db.reading() as s:
        return [MissingNextAction(int(r[0]), r[1], r[2], r[3], r[4]) for r in Sql(s).rows(sql_text)]


def deemed_accepted_due(app: AppContext, actor: Actor, as_of: date) -> list[tuple[int, str, str, date | None]]:
    """Open appeals past their decision date at a level the case's profile deems accepted if undecided
    (England: representations not decided within 56 days). The appeals engineer's hook: these must be
    cancelled. Returns (citation id, citation number, level, decide_by)."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        profiles = profile_store.versions_by_key(s)
        rows = s.execute(select(Citation.id, Citation.citation_number, Citation.profile_code, Citation.profile_version,
                                Appeal.level, Appeal.decide_by)
                         .join(Appeal, Appeal.citation_id == Citation.id)
                         .where(Appeal.status.in_(("open", "scheduled")), Appeal.decide_by < as_of))
        out = []
        for cid, number, code, version, level, decide_by in rows:
            profile = profiles.get((code, version))
            if profile is None:
                continue
            known = {lv.key: lv for lv in profile.appeal_levels}
            if level in known and known[level].deemed_accepted_if_undecided:
                out.append((int(cid), number, level, decide_by))
        return out
