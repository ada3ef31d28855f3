"""Patrol plans: making a day's plan for the demo office's officers and zones, and the whole command a supervisor
runs, `main.py patrol plan --date D --out FILE.pdf` (make, save, print; process start to exit).

Run: pytest tests/benchmarks/bench_patrol_plan.py --benchmark-only -p no:randomly -s

The office: the demo's nine downtown zones and twelve officers with handhelds (ten on duty, early and late
shifts, two permit areas for two officers, two must-cover zones, as `desktop.demo.patrol_plan` plans them),
and eight weeks of history: CITATIONS citations (default 20,000; `CURBDESK_BENCH_PATROL_CITATIONS`), one patrol
shift per officer per day and 40 checks a day. Measured in the same session, in the group "patrol-plan":

- `heuristic`: the pure beat heuristic on the demand figures (`desktop.domain.patrol_plan.make_plan`): the floor;
- `make plan`: the service (`plans.make_plan`): the demand queries over citations, checks and shifts, then the
  heuristic;
- `process floor`: `main.py --version`, the interpreter and the command line starting and exiting;
- `signed-in floor`: `main.py patrol actual` for a day with nothing: start, sign in (the password's Argon2
  check), load the services, one query, exit: every signed-in command pays this;
- `patrol plan command`: `main.py patrol plan` for a day with no plan: start, sign in, make, save (audited,
  versioned), print the PDF (one page a beat with its map), exit. Each round is a new day.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from desktop.demo.office import ZONES
from desktop.domain import patrol_plan as pp
from desktop.domain.roles import Role
from desktop.persistence.models import Citation, Device, Officer, PatrolCheck, PatrolShift, Zone
from desktop.services.core.context import Actor
from desktop.services.patrol import plans
from tests.benchmarks.casework_db import ROOT
from tests.conftest import PASSWORDS, make_app, seed_users

CITATIONS = int(os.environ.get("CURBDESK_BENCH_PATROL_CITATIONS", "20000"))
LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 12, 8)
_figures: dict[str, float] = {}


def _roster(badges: list[str]) -> tuple[list[pp.OfficerShift], pp.PlanConstraints]:
    roster = [pp.OfficerShift(b, f"Officer {b}", "07:00" if i < 6 else "12:00", 480) if i < 10
              else pp.OfficerShift(b, f"Officer {b}", None, None) for i, b in enumerate(badges)]
    return roster, pp.PlanConstraints(must_cover=("Z-CIVIC-CENTER", "Z-HISTORIC-CORE"),
                                      expertise={badges[0]: ("Z-CHINATOWN", "Z-ARTS-DISTRICT"),
                                                 badges[7]: ("Z-CHINATOWN", "Z-ARTS-DISTRICT")},
                                      visit_minutes=75)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("patrol-plan")
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = make_app(url, tmp)
    actors = seed_users(app)
    rnd = random.Random(18)
    badges = [str(1234 + i * 17) for i in range(12)]
    with app.uow(Actor.system("bench")) as uow:
        s = uow.session
        for code, name, south, west, north, east in ZONES:
            ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
            s.add(Zone(code=code, name=name, geometry={"type": "Polygon", "coordinates": [ring]}, regulations=[],
                       centroid_lat=(south + north) / 2, centroid_lon=(west + east) / 2))
        for i, b in enumerate(badges):
            s.add(Officer(badge=b, name=f"Officer {b}"))
            s.add(Device(device_id=f"HH-{i + 1:04d}", officer_badge=b, seq_gaps=[]))
        weights = [rnd.uniform(0.3, 3.0) for _ in ZONES]
        rows, shifts, checks = [], [], []
        start = datetime.combine(DAY - timedelta(days=56), time(0), tzinfo=LA)
        for n in range(CITATIONS):
            zone = rnd.choices(ZONES, weights)[0][0]
            at = start + timedelta(days=rnd.randrange(56), hours=rnd.uniform(7, 20))
            rows.append(dict(id=n + 1, citation_number=f"B-{n + 1}", officer_badge=rnd.choice(badges), issued_at=at,
                             received_at=at, plate=f"P{n}", plate_key=f"P{n}", jurisdiction="CA", lat=34.05,
                             lon=-118.25, zone_code=zone, violation_code="88.13B+",
                             violation_description="METER EXP.", fine_cents=6300, status="open",
                             evidence_status="ok", signature_state="unsigned",
                             profile_code="CA", profile_version=1, on_hold=False, version=1, observations=[]))
        for d in range(56):
            day = (start + timedelta(days=d)).date()
            for i, b in enumerate(badges[:10]):
                at = datetime.combine(day, time(7 + (i % 2) * 5), tzinfo=LA)
                shifts.append(dict(event_id=f"sh-{d}-{b}", officer_badge=b, zone_code=rnd.choice(ZONES)[0],
                                   started_at=at, ended_at=at + timedelta(hours=rnd.uniform(1, 4)),
                                   vehicles_checked=20))
            for k in range(40):
                at = datetime.combine(day, time(8), tzinfo=LA) + timedelta(minutes=rnd.randrange(600))
                checks.append(dict(event_id=f"ck-{d}-{k}", zone_code=rnd.choice(ZONES)[0], checked_at=at,
                                   plate=f"C{k}", jurisdiction="CA", result="paid"))
        for table, batch in ((Citation, rows), (PatrolShift, shifts), (PatrolCheck, checks)):
            for i in range(0, len(batch), 5000):
                s.execute(insert(table), batch[i:i + 5000])
        uow.commit()
    sup = actors[Role.SUPERVISOR]
    roster, constraints = _roster(badges)
    plans.save_plan(app, sup, plans.make_plan(app, sup, DAY - timedelta(days=1), roster, constraints))  # the
    # roster and constraints every new plan starts from (as a supervisor sets them once)
    yield {"app": app, "sup": sup, "url": url, "data": str(tmp / "data"), "tmp": tmp, "badges": badges}
    app.db.dispose()


def _report(benchmark: Any, name: str) -> None:
    median = benchmark.stats.stats.median
    _figures[name] = median
    benchmark.extra_info["median_seconds"] = round(median, 4)
    for base in ("heuristic", "process floor", "signed-in floor"):
        if base in _figures and name != base:
            benchmark.extra_info[f"vs_{base.replace(' ', '_')}"] = round(median / _figures[base], 1)
    print(f"\n{name}: median {median * 1000:.1f} ms" + "".join(
        f", {k} {v}" for k, v in benchmark.extra_info.items() if k.startswith("vs_")))


@pytest.mark.benchmark(group="patrol-plan")
def test_bench_heuristic(benchmark: Any, office: Any) -> None:
    draft = plans.make_plan(office["app"], office["sup"], DAY)
    zones = [pp.ZoneInfo(z.code, z.name, z.priority, z.lat, z.lon) for z in draft.zones.values()]
    result = benchmark.pedantic(pp.make_plan, args=(draft.roster, zones, draft.constraints), rounds=20, iterations=1)
    assert len(result.beats) == 10 and not result.not_covered
    _report(benchmark, "heuristic")


@pytest.mark.benchmark(group="patrol-plan")
def test_bench_make_plan_service(benchmark: Any, office: Any) -> None:
    draft = benchmark.pedantic(plans.make_plan, args=(office["app"], office["sup"], DAY), rounds=10, iterations=1)
    assert len(draft.beats) == 10 and sum(z.citations for z in draft.zones.values()) > 0
    _report(benchmark, "make plan")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CURBDESK_USER="supervisor", CURBDESK_PASSWORD=PASSWORDS[Role.SUPERVISOR])
    env.pop("CURBDESK_TOKEN", None)
    return env


@pytest.mark.benchmark(group="patrol-plan")
def test_bench_process_floor(benchmark: Any) -> None:
    benchmark.pedantic(subprocess.run, args=([sys.executable, str(ROOT / "main.py"), "--version"],),
                       kwargs={"check": True, "capture_output": True, "cwd": ROOT}, rounds=3, iterations=1)
    _report(benchmark, "process floor")


@pytest.mark.benchmark(group="patrol-plan")
def test_bench_signed_in_floor(benchmark: Any, office: Any) -> None:
    argv = [sys.executable, str(ROOT / "main.py"), "--db", office["url"], "--data-dir", office["data"], "patrol",
            "actual", "--date", (DAY - timedelta(days=300)).isoformat()]
    done = benchmark.pedantic(subprocess.run, args=(argv,), kwargs={"check": True, "capture_output": True,
                                                                     "text": True, "cwd": ROOT, "env": _env()},
                              rounds=3, iterations=1)
    assert "No patrol plan is saved" in done.stdout
    _report(benchmark, "signed-in floor")


@pytest.mark.benchmark(group="patrol-plan")
def test_bench_patrol_plan_command(benchmark: Any, office: Any) -> None:
    days = iter(DAY + timedelta(days=7 * k) for k in range(1, 100))  # a new day each round: made, saved, printed
    outputs: list[Path] = []

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        day = next(days)
        out = Path(office["tmp"]) / f"plan-{day.isoformat()}.pdf"
        outputs.append(out)
        return ([sys.executable, str(ROOT / "main.py"), "--db", office["url"], "--data-dir", office["data"], "patrol",
                 "plan", "--date", day.isoformat(), "--out", str(out)],), {}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)

    done = benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    assert "Made and saved" in done.stdout and "10 beat(s)" in done.stdout, done.stdout + done.stderr
    assert outputs[-1].read_bytes().startswith(b"%PDF")
    _report(benchmark, "patrol plan command")
