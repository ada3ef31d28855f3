"""Patrol plans: the pure heuristic that turns officers on shift and zone priorities into beats.

A *beat* is one officer's day: the zones to patrol in visiting order, minutes in each, and the travel
between them. The heuristic (no solver: nine to a few hundred zones and a dozen officers are small, and a
supervisor must be able to follow why a zone landed where it did):

1. **Must-cover zones first**, highest priority first, each into the eligible beat where it adds the least
   travel and still fits the shift. A must-cover zone that fits nowhere is reported plainly.
2. **Every other zone once**, highest priority first, the same way, so that coverage is spread before it
   is deepened; a zone that fits nowhere is listed as not covered, with the reason.
3. **Spare time follows priority**: while some beat has room for one more visit, the zone with the highest
   priority *per visit it already has* (``priority / (1 + visits)``, diminishing returns, D'Hondt-style) that
   the beat may take and that fits is added to it.
4. **Route order**: each beat's stops are ordered by nearest neighbour from its highest-priority stop and
   improved with 2-opt (Croes 1958), so travel is short and the most important zone comes first.
5. **Slack**: minutes a beat still has spare are shared out over its stops in proportion to priority.

Constraints: a beat's visits plus travel never exceed its shift; a zone that appears in some officer's
expertise may only go to officers who list it (a specialist zone); an officer with no shift gets no beat
(said so). Travel is the great-circle distance between zone centroids times a street-detour factor at the
office's patrol speed; a zone with no centroid is placed without a travel estimate (said so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from desktop.domain.geo import haversine_m

#: Streets are not straight lines: a Manhattan grid makes a trip about 1.27x the crow's-flight distance
#: (the ratio of L1 to L2 distance averaged over directions, 4/pi); 1.3 rounds it for non-grid streets.
DETOUR_FACTOR = 1.3


@dataclass(frozen=True)
class ZoneInfo:
    """A zone as the planner sees it: its priority (higher: more violations per patrol hour expected and
    thinner coverage), and its centroid when the zone has geometry."""

    code: str
    name: str
    priority: float
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class OfficerShift:
    """An officer (or handheld) on duty: the minutes the shift lasts (None: no shift on that day)."""

    badge: str
    name: str
    shift_start: str | None  # "HH:MM", local time
    shift_minutes: int | None


@dataclass(frozen=True)
class PlanConstraints:
    must_cover: tuple[str, ...] = ()
    #: badge -> the zones the officer is qualified for; a zone listed for anyone is a specialist zone
    expertise: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    visit_minutes: int = 60
    travel_kmh: float = 15.0


@dataclass(frozen=True)
class Stop:
    zone: str
    minutes: int
    #: minutes of travel from the previous stop (0 for the first); None when either zone has no centroid
    travel_minutes: int | None = 0


@dataclass(frozen=True)
class Beat:
    badge: str
    name: str
    shift_start: str | None
    shift_minutes: int
    stops: tuple[Stop, ...] = ()

    @property
    def zones(self) -> list[str]:
        return [s.zone for s in self.stops]

    @property
    def patrol_minutes(self) -> int:
        return sum(s.minutes for s in self.stops)

    @property
    def travel_minutes(self) -> int:
        return sum(s.travel_minutes or 0 for s in self.stops)

    @property
    def used_minutes(self) -> int:
        return self.patrol_minutes + self.travel_minutes


@dataclass(frozen=True)
class PlanResult:
    beats: tuple[Beat, ...]
    #: plain sentences a supervisor can act on (zones that do not fit, officers without shifts ...)
    problems: tuple[str, ...] = ()
    #: zones (codes) that fit in no beat
    not_covered: tuple[str, ...] = ()


def travel_minutes(a: ZoneInfo, b: ZoneInfo, kmh: float) -> int | None:
    """Minutes from zone a's centroid to zone b's at ``kmh`` along streets; None when either has no centroid."""
    if a.code == b.code:
        return 0
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    metres = haversine_m(a.lat, a.lon, b.lat, b.lon) * DETOUR_FACTOR
    return max(1, round(metres / (kmh * 1000 / 60)))


class _Router:
    def __init__(self, zones: Mapping[str, ZoneInfo], kmh: float) -> None:
        self.zones = zones
        self.kmh = kmh
        self._cache: dict[tuple[str, str], int | None] = {}

    def leg(self, a: str, b: str) -> int | None:
        key = (a, b) if a <= b else (b, a)
        if key not in self._cache:
            self._cache[key] = travel_minutes(self.zones[a], self.zones[b], self.kmh)
        return self._cache[key]

    def cost(self, a: str, b: str) -> int:
        return self.leg(a, b) or 0

    def route_cost(self, order: Sequence[str]) -> int:
        return sum(self.cost(order[i], order[i + 1]) for i in range(len(order) - 1))

    def best_insertion(self, order: Sequence[str], zone: str) -> tuple[int, int]:
        """(position, added travel) of the cheapest place to put ``zone`` into the route."""
        if not order:
            return 0, 0
        best = (len(order), self.cost(order[-1], zone))
        if self.cost(zone, order[0]) < best[1]:
            best = (0, self.cost(zone, order[0]))
        for i in range(len(order) - 1):
            added = self.cost(order[i], zone) + self.cost(zone, order[i + 1]) - self.cost(order[i], order[i + 1])
            if added < best[1]:
                best = (i + 1, added)
        return best

    def order(self, stops: Sequence[str], priority: Mapping[str, float]) -> list[str]:
        """The shortest of: nearest neighbour from the highest-priority stop, and the order the stops were
        inserted in (which is known to fit the shift); each improved with 2-opt keeping its first stop."""
        if len(stops) <= 2:
            return sorted(stops, key=lambda z: -priority[z])
        left = sorted(stops, key=lambda z: (-priority[z], z))
        route = [left.pop(0)]
        while left:
            nxt = min(left, key=lambda z: (self.cost(route[-1], z), -priority[z], z))
            left.remove(nxt)
            route.append(nxt)
        candidates = [self._two_opt(route), self._two_opt(list(stops))]
        return min(candidates, key=self.route_cost)  # ties: the one led by the highest priority

    def _two_opt(self, route: list[str]) -> list[str]:
        improved = True
        while improved:
            improved = False
            for i in range(1, len(route) - 1):
                for j in range(i + 1, len(route)):
                    candidate = route[:i] + route[i:j + 1][::-1] + route[j + 1:]
                    if self.route_cost(candidate) < self.route_cost(route):
                        route, improved = candidate, True
        return route


def eligible(badge: str, zone: str, constraints: PlanConstraints, specialist: frozenset[str]) -> bool:
    """Whether the officer may patrol the zone: a specialist zone only by an officer who lists it."""
    return zone not in specialist or zone in constraints.expertise.get(badge, ())


def specialist_zones(constraints: PlanConstraints) -> frozenset[str]:
    return frozenset(z for zones in constraints.expertise.values() for z in zones)


def make_plan(officers: Sequence[OfficerShift], zones: Sequence[ZoneInfo],
              constraints: PlanConstraints) -> PlanResult:
    """Beats for the officers on shift that put patrol time where the priority is (see the module text)."""
    problems: list[str] = []
    by_code = {z.code: z for z in zones}
    priority = {z.code: z.priority for z in zones}
    router = _Router(by_code, constraints.travel_kmh)
    specialist = specialist_zones(constraints)
    visit = max(1, constraints.visit_minutes)
    for code in constraints.must_cover:
        if code not in by_code:
            problems.append(f"The must-cover zone {code} is not one of the office's zones: it is left out.")
    for z in zones:
        if z.lat is None or z.lon is None:
            problems.append(f"Zone {z.code} has no geometry: it is placed without a travel estimate.")
    on_duty: list[OfficerShift] = []
    for o in officers:
        if not o.shift_minutes or o.shift_minutes <= 0:
            problems.append(f"Officer {o.badge} ({o.name}) has no shift on this day: no beat is planned.")
        else:
            on_duty.append(o)
    routes: dict[str, list[str]] = {o.badge: [] for o in on_duty}
    capacity = {o.badge: int(o.shift_minutes or 0) for o in on_duty}
    visits: dict[str, int] = {z.code: 0 for z in zones}

    def used(badge: str) -> int:
        return len(routes[badge]) * visit + router.route_cost(routes[badge])

    def place(zone: str) -> bool:
        best: tuple[int, int, str, int] | None = None  # (added travel, -spare, badge, position)
        for o in on_duty:
            route = routes[o.badge]
            if zone in route or not eligible(o.badge, zone, constraints, specialist):
                continue
            pos, added = router.best_insertion(route, zone)
            spare = capacity[o.badge] - used(o.badge)
            if spare < visit + added:
                continue
            key = (added, -spare, o.badge, pos)
            if best is None or key < best:
                best = key
        if best is None:
            return False
        routes[best[2]].insert(best[3], zone)
        visits[zone] += 1
        return True

    def why_not(zone: str) -> str:
        allowed = [o for o in on_duty if eligible(o.badge, zone, constraints, specialist)]
        if not on_duty:
            return "no officer is on shift"
        if not allowed:
            return "no officer on shift has it among their zones of expertise"
        return f"no beat has {visit} minutes left for it (with travel)"

    not_covered: list[str] = []
    must = [c for c in dict.fromkeys(constraints.must_cover) if c in by_code]
    for code in sorted(must, key=lambda c: (-priority[c], c)):
        if not place(code):
            not_covered.append(code)
            problems.append(f"The must-cover zone {code} ({by_code[code].name}) does not fit: {why_not(code)}.")
    for z in sorted(zones, key=lambda z: (-z.priority, z.code)):
        if z.code in must:
            continue
        if not place(z.code):
            not_covered.append(z.code)
            problems.append(f"Zone {z.code} ({z.name}) does not fit: {why_not(z.code)}.")
    # spare time follows priority, with diminishing returns per visit already planned
    while True:
        for z in sorted(zones, key=lambda z: (-z.priority / (1 + visits[z.code]), z.code)):
            if place(z.code):
                break
        else:
            break

    beats: list[Beat] = []
    for o in on_duty:
        order = router.order(routes[o.badge], priority)
        spare = capacity[o.badge] - len(order) * visit - router.route_cost(order)
        total_p = sum(max(priority[z], 0.0) for z in order) or 1.0
        extra = {c: int(spare * max(priority[c], 0.0) / total_p) for c in order}
        stops = []
        for i, code in enumerate(order):
            leg = 0 if i == 0 else router.leg(order[i - 1], code)
            stops.append(Stop(code, visit + extra[code], leg))
        beats.append(Beat(o.badge, o.name, o.shift_start, capacity[o.badge], tuple(stops)))
    return PlanResult(tuple(beats), tuple(problems), tuple(not_covered))


def retime(beat: Beat, zones: Mapping[str, ZoneInfo], kmh: float) -> Beat:
    """The beat with its travel recomputed for the current order (after the supervisor moved zones)."""
    router = _Router(zones, kmh)
    stops = []
    for i, s in enumerate(beat.stops):
        known = s.zone in zones and (i == 0 or beat.stops[i - 1].zone in zones)
        leg = 0 if i == 0 else (router.leg(beat.stops[i - 1].zone, s.zone) if known else None)
        stops.append(replace(s, travel_minutes=leg))
    return replace(beat, stops=tuple(stops))


def check_beats(beats: Sequence[Beat], zones: Mapping[str, ZoneInfo], constraints: PlanConstraints) -> list[str]:
    """What is wrong with (edited) beats, in sentences: a beat over its shift, a zone given to an officer
    without the expertise, an unknown zone, must-cover zones nobody patrols. Empty when all is well."""
    problems = []
    specialist = specialist_zones(constraints)
    for b in beats:
        for s in b.stops:
            if s.zone not in zones:
                problems.append(f"Beat of {b.badge}: {s.zone} is not one of the office's zones.")
            elif not eligible(b.badge, s.zone, constraints, specialist):
                problems.append(f"Beat of {b.badge}: {s.zone} is a specialist zone and {b.badge} does not have "
                                "it among their zones of expertise.")
            if s.minutes <= 0:
                problems.append(f"Beat of {b.badge}: {s.zone} has no minutes.")
        if b.used_minutes > b.shift_minutes:
            problems.append(f"Beat of {b.badge} needs {b.used_minutes} minutes (patrol and travel) but the shift "
                            f"is {b.shift_minutes}: move or shorten a zone.")
    covered = {s.zone for b in beats for s in b.stops}
    for code in constraints.must_cover:
        if code in zones and code not in covered:
            problems.append(f"The must-cover zone {code} is in no beat.")
    return problems
