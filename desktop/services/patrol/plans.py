"""Patrol plans: make a day's beats, let a supervisor change them, save them (versioned, audited), print them,
and hand the saved beats of the days ahead to the handhelds as their ``assignments`` reference data.

Saving is optimistic: a draft remembers the version it was made from, and the save moves the plan to the
next version only if it is still at that one (``UPDATE ... WHERE version = :seen``; on PostgreSQL the second
of two concurrent saves waits for the first's row lock, then finds the version moved and updates nothing).
The second supervisor is told who saved first and when; their draft stays on their screen, and every saved
version is kept whole in ``patrol_plan_versions``, so no save ever loses another.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop.domain import patrol_plan as pp
from desktop.domain.errors import ConcurrencyConflict, NotFound, UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import Device, Officer, PatrolPlan, PatrolPlanBeat, PatrolPlanVersion, Setting, Zone
from desktop.services.core import settings
from desktop.services.core.clock import agency_date, agency_zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.patrol.demand import ZoneDemand, zone_demand
from reports.data import PatrolBeatPage, PatrolPlanPrint, PatrolStopLine, PatrolZoneShape

#: Saved plans of today and this many days after are pushed to the handhelds.
DAYS_AHEAD = 7


@dataclass(frozen=True)
class PlanDraft:
    """A plan on a supervisor's screen: made, edited, or loaded as saved."""

    day: date
    constraints: pp.PlanConstraints
    roster: tuple[pp.OfficerShift, ...]
    beats: tuple[pp.Beat, ...]
    zones: dict[str, ZoneDemand]
    problems: tuple[str, ...] = ()
    plan_id: int | None = None
    #: the saved version this draft was made from (None: no plan saved for the day when it was made)
    version: int | None = None
    saved_at: datetime | None = None
    saved_by: str | None = None
    not_covered: tuple[str, ...] = field(default=())

    @property
    def zone_infos(self) -> dict[str, pp.ZoneInfo]:
        return {c: pp.ZoneInfo(c, z.name, z.priority, z.lat, z.lon) for c, z in self.zones.items()}


@dataclass(frozen=True)
class VersionInfo:
    version: int
    saved_at: datetime
    saved_by: str
    reason: str | None
    beats: int


# ---------------------------------------------------------------- plain data in and out of the JSON columns


def constraints_to_plain(c: pp.PlanConstraints) -> dict[str, Any]:
    return {"must_cover": list(c.must_cover), "expertise": {b: list(z) for b, z in sorted(c.expertise.items())},
            "visit_minutes": c.visit_minutes, "travel_kmh": c.travel_kmh}


def constraints_from_plain(value: Any, defaults: pp.PlanConstraints) -> pp.PlanConstraints:
    v = value if isinstance(value, dict) else {}
    expertise = v.get("expertise") if isinstance(v.get("expertise"), dict) else {}
    return pp.PlanConstraints(
        must_cover=tuple(str(z) for z in v.get("must_cover") or ()),
        expertise={str(b): tuple(str(z) for z in zs or ()) for b, zs in (expertise or {}).items() if zs},
        visit_minutes=int(v.get("visit_minutes") or defaults.visit_minutes),
        travel_kmh=float(v.get("travel_kmh") or defaults.travel_kmh))


def _roster_plain(roster: Sequence[pp.OfficerShift]) -> list[dict[str, Any]]:
    return [{"badge": o.badge, "name": o.name, "shift_start": o.shift_start, "shift_minutes": o.shift_minutes}
            for o in roster]


def _roster_from_plain(value: Any) -> tuple[pp.OfficerShift, ...]:
    return tuple(pp.OfficerShift(str(o["badge"]), str(o.get("name") or ""), o.get("shift_start"),
                                 o.get("shift_minutes")) for o in value or () if isinstance(o, dict) and o.get("badge"))


def _stops_plain(beat: pp.Beat, zones: dict[str, ZoneDemand] | None = None) -> list[dict[str, Any]]:
    return [{"zone": s.zone, "minutes": s.minutes, "travel_minutes": s.travel_minutes,
             "priority": zones[s.zone].priority if zones and s.zone in zones else None} for s in beat.stops]


def _beat_from_row(b: PatrolPlanBeat) -> pp.Beat:
    return pp.Beat(b.officer_badge, b.officer_name, b.shift_start, b.shift_minutes,
                   tuple(pp.Stop(str(s["zone"]), int(s["minutes"]), s.get("travel_minutes")) for s in b.stops or ()))


def content_plain(draft: PlanDraft) -> dict[str, Any]:
    """The whole plan as kept in a version row."""
    return {"day": draft.day.isoformat(), "constraints": constraints_to_plain(draft.constraints),
            "roster": _roster_plain(draft.roster),
            "beats": [{"badge": b.badge, "name": b.name, "shift_start": b.shift_start,
                       "shift_minutes": b.shift_minutes, "stops": _stops_plain(b, draft.zones)} for b in draft.beats],
            "problems": list(draft.problems)}


# ---------------------------------------------------------------- reading


def parse_shift_start(text: str | None) -> time | None:
    if not text:
        return None
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"The shift start {text!r} is not a time of day: write it as HH:MM, e.g. 08:00.") from None


def _defaults(s: Session) -> pp.PlanConstraints:
    return pp.PlanConstraints(visit_minutes=int(settings.get(s, "patrol.visit_minutes")),
                              travel_kmh=float(settings.get(s, "patrol.travel_kmh")))


def default_roster(s: Session) -> tuple[pp.OfficerShift, ...]:
    """The office's officers who hold an active handheld, each on the default shift (``patrol.shift_start``,
    ``patrol.shift_hours``)."""
    start = str(settings.get(s, "patrol.shift_start"))
    parse_shift_start(start)
    minutes = round(float(settings.get(s, "patrol.shift_hours")) * 60)
    badges = set(s.scalars(select(Device.officer_badge).where(Device.active.is_(True),
                                                              Device.officer_badge.is_not(None))))
    return tuple(pp.OfficerShift(o.badge, o.name, start, minutes)
                 for o in s.scalars(select(Officer).where(Officer.active.is_(True)).order_by(Officer.badge))
                 if o.badge in badges)


def _window(s: Session, roster: Sequence[pp.OfficerShift]) -> tuple[time, int]:
    """The local start and length of the day's patrol window: from the earliest shift start to the latest end."""
    spans = []
    for o in roster:
        t = parse_shift_start(o.shift_start)
        if t is not None and o.shift_minutes:
            first = t.hour * 60 + t.minute
            spans.append((first, first + int(o.shift_minutes)))
    if not spans:
        t = parse_shift_start(str(settings.get(s, "patrol.shift_start"))) or time(8)
        return t, round(float(settings.get(s, "patrol.shift_hours")) * 60)
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    return time(first // 60, first % 60), max(1, min(last, 24 * 60) - first)


def _demand(s: Session, day: date, roster: Sequence[pp.OfficerShift]) -> dict[str, ZoneDemand]:
    start, minutes = _window(s, roster)
    rows = zone_demand(s, day, start, minutes, int(settings.get(s, "patrol.history_weeks")), agency_zone(s))
    return {z.code: z for z in rows}


def _draft_from_row(s: Session, plan: PatrolPlan) -> PlanDraft:
    roster = _roster_from_plain(plan.roster)
    return PlanDraft(plan.day, constraints_from_plain(plan.constraints, _defaults(s)), roster,
                     tuple(_beat_from_row(b) for b in plan.beats), _demand(s, plan.day, roster),
                     tuple(str(p) for p in plan.problems or ()), plan.id, plan.version, plan.saved_at, plan.saved_by)


def load_plan(app: AppContext, actor: Actor, day: date) -> PlanDraft | None:
    """The saved plan of the day as it stands, or None."""
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        plan = uow.session.scalar(select(PatrolPlan).where(PatrolPlan.day == day))
        return _draft_from_row(uow.session, plan) if plan is not None else None


def plan_history(app: AppContext, actor: Actor, day: date) -> list[VersionInfo]:
    """Every saved version of the day's plan, newest first."""
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        rows = uow.session.execute(
            select(PatrolPlanVersion).join(PatrolPlan, PatrolPlan.id == PatrolPlanVersion.plan_id)
            .where(PatrolPlan.day == day).order_by(PatrolPlanVersion.version.desc())).scalars()
        return [VersionInfo(v.version, v.saved_at, v.saved_by, v.reason, len(v.content.get("beats") or ()))
                for v in rows]


def version_content(app: AppContext, actor: Actor, day: date, version: int) -> dict[str, Any]:
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        row = uow.session.scalar(select(PatrolPlanVersion).join(PatrolPlan, PatrolPlan.id == PatrolPlanVersion.plan_id)
                                 .where(PatrolPlan.day == day, PatrolPlanVersion.version == version))
        if row is None:
            raise NotFound(f"There is no version {version} of the patrol plan of {day.isoformat()}.")
        return dict(row.content)


def starting_point(app: AppContext, actor: Actor, day: date) -> tuple[tuple[pp.OfficerShift, ...], pp.PlanConstraints]:
    """What a new plan of the day starts from: the roster and constraints of the day's saved plan, else of the
    latest plan saved before it (a supervisor sets them once), else the officers holding handhelds on the
    default shift and no constraints."""
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        s = uow.session
        plan = s.scalar(select(PatrolPlan).where(PatrolPlan.day <= day).order_by(PatrolPlan.day.desc()).limit(1))
        if plan is None:
            return default_roster(s), _defaults(s)
        return _roster_from_plain(plan.roster), constraints_from_plain(plan.constraints, _defaults(s))


# ---------------------------------------------------------------- making and editing


def make_plan(app: AppContext, actor: Actor, day: date, roster: Sequence[pp.OfficerShift] | None = None,
              constraints: pp.PlanConstraints | None = None) -> PlanDraft:
    """A new draft of the day's beats (not saved). With no roster or constraints given, those of
    `starting_point`. The draft keeps the version of the day's saved plan, so saving it replaces that."""
    with app.reader(actor, Permission.PATROL_PLAN):
        pass  # who may make a plan is said first, before the starting point (which only a reader of reports sees)
    start_roster, start_constraints = starting_point(app, actor, day)
    roster = tuple(roster) if roster is not None else start_roster
    constraints = constraints or start_constraints
    with app.reader(actor, Permission.PATROL_PLAN) as uow:
        s = uow.session
        for o in roster:
            parse_shift_start(o.shift_start)
        demand = _demand(s, day, roster)
        saved = s.execute(select(PatrolPlan.id, PatrolPlan.version).where(PatrolPlan.day == day)).first()
    infos = [pp.ZoneInfo(z.code, z.name, z.priority, z.lat, z.lon) for z in demand.values()]
    result = pp.make_plan(roster, infos, constraints)
    return PlanDraft(day, constraints, roster, result.beats, demand, result.problems,
                     saved[0] if saved else None, saved[1] if saved else None, not_covered=result.not_covered)


def edit_beats(draft: PlanDraft, beats: Sequence[pp.Beat]) -> PlanDraft:
    """The draft with the supervisor's beats (zones moved, reordered, minutes changed): travel recomputed for
    the new order, and the problems of the edited plan listed (those that stop a save first)."""
    infos = draft.zone_infos
    beats = tuple(pp.retime(b, infos, draft.constraints.travel_kmh) for b in beats)
    problems = pp.check_beats(beats, infos, draft.constraints)
    problems += [f"Officer {o.badge} ({o.name}) has no shift on this day: no beat is planned."
                 for o in draft.roster if not o.shift_minutes]
    covered = {s.zone for b in beats for s in b.stops}
    left = [z for z in sorted(infos, key=lambda c: (-infos[c].priority, c))
            if z not in covered and z not in draft.constraints.must_cover]
    if left:
        problems.append("Zones in no beat: " + ", ".join(left) + ".")
    no_geometry = sorted({s.zone for b in beats for s in b.stops if s.zone in infos
                          and (infos[s.zone].lat is None or infos[s.zone].lon is None)})
    problems += [f"Zone {z} has no geometry: it is placed without a travel estimate." for z in no_geometry]
    return replace(draft, beats=beats, problems=tuple(problems))


def blocking_problems(draft: PlanDraft) -> list[str]:
    """What stops the draft being saved: a beat over its shift, a specialist zone without the expertise, an
    unknown zone, a stop without minutes. (An uncovered must-cover zone, a zone in no beat, a zone without
    geometry and an officer without a shift are said, not refused.)"""
    return [p for p in pp.check_beats(draft.beats, draft.zone_infos, draft.constraints) if "must-cover" not in p]


# ---------------------------------------------------------------- saving


def save_plan(app: AppContext, actor: Actor, draft: PlanDraft, reason: str | None = None) -> PlanDraft:
    """Save the draft as the day's plan, one version on from the one it was made from.

    Refused, with nothing written, when a beat breaks a constraint (over its shift, a specialist zone without
    the expertise, an unknown zone) or when another save came first (`ConcurrencyConflict`: who and when; the
    draft is untouched, so the supervisor can reload, compare and save again)."""
    checked = edit_beats(draft, draft.beats)
    blocking = blocking_problems(checked)
    if blocking:
        raise UserError("The plan is not saved: " + " ".join(blocking))
    now = app.now()
    content = content_plain(checked)
    with app.uow(actor, Permission.PATROL_PLAN) as uow:
        s = uow.session
        if draft.plan_id is None:
            plan = PatrolPlan(day=draft.day, version=1, constraints=content["constraints"], roster=content["roster"],
                              problems=content["problems"], saved_at=now, saved_by=actor.username)
            s.add(plan)
            try:
                s.flush()
            except IntegrityError:
                s.rollback()
                raise _conflict(app, draft.day) from None
            before = None
        else:
            seen = int(draft.version or 0)
            done = s.execute(update(PatrolPlan).where(PatrolPlan.id == draft.plan_id, PatrolPlan.version == seen)
                             .values(version=seen + 1, constraints=content["constraints"], roster=content["roster"],
                                     problems=content["problems"], saved_at=now, saved_by=actor.username)
                             .execution_options(synchronize_session=False))
            if done.rowcount != 1:  # type: ignore[attr-defined]
                s.rollback()
                raise _conflict(app, draft.day)
            before = {"version": seen}
            s.query(PatrolPlanBeat).filter(PatrolPlanBeat.plan_id == draft.plan_id).delete(synchronize_session=False)
            plan = s.get(PatrolPlan, draft.plan_id)  # type: ignore[assignment]
            s.refresh(plan)
        for i, b in enumerate(checked.beats):
            s.add(PatrolPlanBeat(plan_id=plan.id, position=i, officer_badge=b.badge, officer_name=b.name,
                                 shift_start=b.shift_start, shift_minutes=b.shift_minutes,
                                 stops=_stops_plain(b, checked.zones)))
        s.add(PatrolPlanVersion(plan_id=plan.id, version=plan.version, saved_at=now, saved_by=actor.username,
                                reason=reason, content=content))
        uow.audit("patrol_plan.saved", "patrol_plan", plan.id, before=before,
                  after={"day": draft.day.isoformat(), "version": plan.version, "beats": len(checked.beats),
                         "zones": sorted({z for b in checked.beats for z in b.zones})}, reason=reason)
        try:
            uow.commit()
        except IntegrityError:
            raise _conflict(app, draft.day) from None
        version, plan_id = plan.version, plan.id
    return replace(checked, plan_id=plan_id, version=version, saved_at=now, saved_by=actor.username)


def _conflict(app: AppContext, day: date) -> ConcurrencyConflict:
    with app.db.reading() as s:
        row = s.execute(select(PatrolPlan.version, PatrolPlan.saved_by, PatrolPlan.saved_at)
                        .where(PatrolPlan.day == day)).first()
        tz = agency_zone(s)
    if row is None:
        return ConcurrencyConflict(f"The patrol plan of {day.isoformat()} changed while you were editing it. "
                                   "Your beats are still on screen: save again.")
    at = row.saved_at.astimezone(tz).strftime("%H:%M")
    return ConcurrencyConflict(
        f"{row.saved_by} saved version {row.version} of the patrol plan of {day.isoformat()} at {at} while you "
        "were editing it; your save was not made and their plan is kept. Your beats are still on screen: "
        "reload to see theirs (every version is kept), then make your changes again and save.")


# ---------------------------------------------------------------- printing


def _rings(geometry: Any) -> tuple[tuple[tuple[float, float], ...], ...]:
    if not isinstance(geometry, dict):
        return ()
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    out = []
    for poly in polygons or ():
        if poly and poly[0]:
            out.append(tuple((float(p[0]), float(p[1])) for p in poly[0]))
    return tuple(out)


def print_data(app: AppContext, actor: Actor, day: date) -> PatrolPlanPrint:
    draft = load_plan(app, actor, day)
    if draft is None:
        raise NotFound(f"No patrol plan is saved for {day.isoformat()}: make one and save it first.")
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        s = uow.session
        shapes = {code: (name, _rings(geometry)) for code, name, geometry in
                  s.execute(select(Zone.code, Zone.name, Zone.geometry))}
        agency = str(settings.get(s, "agency.name"))
        tz_name = str(settings.get(s, "agency.timezone"))
    pages = []
    for b in draft.beats:
        start = parse_shift_start(b.shift_start)
        clock = datetime.combine(day, start) if start is not None else None
        lines = []
        for s_ in b.stops:
            if clock is not None:
                clock += timedelta(minutes=s_.travel_minutes or 0)
            lines.append(PatrolStopLine(s_.zone, shapes.get(s_.zone, (s_.zone, ()))[0], s_.minutes, s_.travel_minutes,
                                        clock.strftime("%H:%M") if clock is not None else ""))
            if clock is not None:
                clock += timedelta(minutes=s_.minutes)
        pages.append(PatrolBeatPage(b.badge, b.name, b.shift_start, b.shift_minutes, tuple(lines)))
    zones = tuple(PatrolZoneShape(code, name, rings, draft.zones[code].priority if code in draft.zones else 0.0)
                  for code, (name, rings) in sorted(shapes.items()))
    return PatrolPlanPrint(agency, day, int(draft.version or 0), draft.saved_by or "", draft.saved_at or app.now(),
                           tz_name, tuple(pages), zones, tuple(p for p in draft.problems if "must-cover" in p))


def print_plan(app: AppContext, actor: Actor, day: date, out: Path) -> Path:
    """The saved plan of the day as a PDF at ``out`` (written whole or not at all); audited."""
    pdf = app.renderer.patrol_plan(print_data(app, actor, day))
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".plan-", suffix=".pdf")
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
        os.replace(tmp, out)
    except OSError as exc:
        raise UserError(f"The plan cannot be written to {out} ({exc.strerror}): choose another file.") from None
    with app.uow(actor, Permission.REPORTS_VIEW) as uow:
        plan_id = uow.session.scalar(select(PatrolPlan.id).where(PatrolPlan.day == day))
        uow.audit("patrol_plan.printed", "patrol_plan", plan_id or 0, after={"day": day.isoformat(), "file": str(out)})
        uow.commit()
    return out


# ---------------------------------------------------------------- to the handhelds


def _beat_priorities(beats: Sequence[PatrolPlanBeat]) -> list[int]:
    """1 (most important), 2 or 3 for each beat: the tercile of its patrol minutes weighted by the priority its
    zones had when the plan was saved."""
    weights = [sum(float(s.get("priority") or 0.0) * int(s["minutes"]) for s in b.stops or ()) for b in beats]
    ranked = sorted(range(len(beats)), key=lambda i: -weights[i])
    out = [3] * len(beats)
    for rank, i in enumerate(ranked):
        out[i] = 1 + rank * 3 // max(len(beats), 1)
    return out


def assignments(session: Session, now: datetime) -> list[dict[str, Any]]:
    """The ``assignments`` reference data (field-sync-protocol.md: ``{officer_badge, date, zones, priority}``):
    the beats of the plans saved for today and the next `DAYS_AHEAD` days, zones in visiting order; the
    ``patrol.assignments`` setting's items for days with no saved plan (the hand-written fallback)."""
    today = agency_date(session, now)
    plans = list(session.scalars(select(PatrolPlan).where(PatrolPlan.day >= today,
                                                          PatrolPlan.day <= today + timedelta(days=DAYS_AHEAD))
                                 .order_by(PatrolPlan.day)))
    items: list[dict[str, Any]] = []
    planned_days = {p.day.isoformat() for p in plans}
    row = session.get(Setting, "patrol.assignments")
    for a in row.value if row is not None and isinstance(row.value, list) else []:
        if isinstance(a, dict) and a.get("officer_badge") and a.get("date") and str(a["date"]) not in planned_days:
            items.append({"officer_badge": str(a["officer_badge"]), "date": str(a["date"]),
                          "zones": list(a.get("zones") or []), "priority": a.get("priority", 0)})
    for plan in plans:
        beats = [b for b in plan.beats if b.stops]
        for b, rank in zip(beats, _beat_priorities(beats), strict=True):
            items.append({"officer_badge": b.officer_badge, "date": plan.day.isoformat(),
                          "zones": [s["zone"] for s in b.stops], "priority": rank})
    return items
