"""Twenty workstations at once: a load harness for one office's database (issue 19, item 3).

Each workstation is a process of its own (as on the office floor: its own interpreter, its own connection
pool), signed in as its own account, doing a clerk's mix through the services with a pause between clicks:
searches (plate, citation number, owner name), cases opened, counter payments, Review approvals, notes and
supervisor holds placed and released. Meanwhile a city's day of background work runs in two processes of
its own, started with the clerks: one field sync of 30,000 citations from the local simulator (review checks
included) and one lockbox file of 20,000 payments (``Background``; ``--repeat`` runs them again and again for
the whole window). Each click is timed, and the clicks made while the sync or the import ran are reported
apart ("while a sync or an import ran"). Afterwards
the database is checked: every payment a clerk was told was posted is there exactly once and its ledger
entries add up to it, every note and hold a clerk made is there, every approval holds, and every case a
clerk paid has a balance of zero (a balance is the sum of its ledger entries). A deadlock that reached a
clerk, or any error other than a sentence for the clerk, is counted as a failure.

    python -m tests.benchmarks.load_office URL --clerks 20 --seconds 60 [--no-background | --repeat]
        [--sync-citations N] [--import-payments N] [--background-nice N] [--think 1.0]

Each workstation works on its own share of the cases (cases ``id % 23 == k``; the import pays cases of
share 21), so two clerks never pay the same case: contention is on what an office shares (the drawer
table, the audit chain, the daily-run lock, the ledger and its indexes), not on a case two clerks fight over.
Prints one JSON line: p50/p95/p99 per operation in ms, the counts, the checks, the load average.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARES = 23
IMPORT_SHARE = 21
PASSWORD = "load-harness-password-1"  # noqa: S105 - accounts of a throw-away copy of the demo office
MIX = (("search", 30), ("open case", 25), ("counter payment", 10), ("review approve", 10), ("note", 15),
       ("hold", 10))
INTERACTIVE = ("search", "open case", "counter payment", "review approve", "note", "hold place", "hold release")


def _app(url: str) -> Any:
    """The office's database with its data folder (``CURBDESK_LOAD_DATA``: the audit key, the evidence)."""
    from desktop.bootstrap import make_app_context
    from desktop.paths import AppPaths
    from desktop.persistence.db import Database

    data = os.environ.get("CURBDESK_LOAD_DATA") or tempfile.mkdtemp(prefix="curbdesk-load-")
    return make_app_context(Database(url), AppPaths(Path(data)))


def ensure_accounts(url: str, clerks: int) -> None:
    from desktop.services.admin import users

    app = _app(url)
    admin = users.actor_for(app, "admin")
    for k in range(clerks):
        name = f"load{k:02d}"
        try:
            users.actor_for(app, name)
        except Exception:  # noqa: BLE001 - not there yet
            users.add_user(app, admin, name, f"Workstation {k:02d}", "supervisor", PASSWORD)
    app.db.dispose()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 1)

    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1), "p95": at(0.95), "p99": at(0.99),
            "max": round(ordered[-1], 1)}


class _RetryCounter(logging.Handler):
    """Counts the units of work the database undid and the service ran again (``context.retrying`` logs each)."""

    def __init__(self) -> None:
        super().__init__()
        self.deadlocks = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "undid a unit of work" in record.getMessage():
            self.deadlocks += 1


def clerk(url: str, k: int, seconds: float, think: float, ready: Any, go: Any, results: Any) -> None:
    """One workstation: its own process, pool and account."""
    try:
        from sqlalchemy import text

        from desktop.domain.errors import UserError
        from desktop.persistence import failures
        from desktop.services.admin import users
        from desktop.services.cases import holds, notes
        from desktop.services.cases import queries as cases
        from desktop.services.payments import posting
        from desktop.services.review import queue

        app = _app(url)
        me = users.actor_for(app, f"load{k:02d}")
        retried = _RetryCounter()
        logging.getLogger("desktop.services.core.context").addHandler(retried)
        logging.getLogger("desktop.services.core.context").setLevel(logging.INFO)
        with app.db.reading() as s:
            mine = [tuple(r) for r in s.execute(text(
                "SELECT c.id, c.citation_number, c.plate, (SELECT o.name FROM registered_owners o "
                "WHERE o.id = c.owner_id) FROM citations c WHERE c.status = 'open' AND c.id % :n = :k "
                "ORDER BY c.id DESC LIMIT 400"), {"n": SHARES, "k": k})]
            pending = [int(r[0]) for r in s.execute(text(
                "SELECT id FROM citations WHERE status = 'pending_review' AND id % :n = :k ORDER BY id DESC "
                "LIMIT 200"), {"n": SHARES, "k": k})]
        rnd = random.Random(k)
        rnd.shuffle(mine)
        to_pay = [c for c in mine[:150]]
        others = mine[150:]
        times: dict[str, list[float]] = defaultdict(list)
        ends: dict[str, list[float]] = defaultdict(list)  # when each click ended (wall clock, for the overlap)
        told: dict[str, int] = defaultdict(int)  # sentences a clerk read, by kind
        failed: list[str] = []
        done: dict[str, list[Any]] = {"payments": [], "notes": [], "holds": [], "approved": [], "paid_cases": []}
        names, weights = zip(*MIX, strict=True)
        ready.put(k)
        go.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(rnd.expovariate(1 / think) if think > 0 else 0)  # the clerk reads the screen
            op = rnd.choices(names, weights)[0]
            case = rnd.choice(others)
            label = op
            started = time.perf_counter()
            try:
                if op == "search":
                    typed = rnd.choice([case[1], case[2], case[3] or case[2]])
                    cases.search_cases(app, me, typed, 50)
                elif op == "open case":
                    cases.case_detail(app, me, case[0])
                elif op == "counter payment":
                    if not to_pay:
                        continue
                    cid = to_pay.pop()[0]
                    owed = cases.case_detail(app, me, cid).balance_cents
                    if owed <= 0:
                        continue
                    started = time.perf_counter()  # the click: the payment itself
                    request = uuid.uuid4().hex
                    result = posting.post_counter_payment(app, me, [cid], owed, "cash", request_id=request)
                    done["payments"].append((result.payment_id, owed, request))
                    done["paid_cases"].append(cid)
                elif op == "review approve":
                    if not pending:
                        continue
                    cid = pending.pop()
                    item = queue.review_item(app, me, cid)
                    started = time.perf_counter()
                    try:
                        queue.approve(app, me, cid, seen_warnings=[str(w.get("code")) for w in item.warnings])
                    except queue.ReviewChanged:  # the checks found more: the clerk looks again and approves
                        told["review approve: looked again (new warnings)"] += 1
                        item = queue.review_item(app, me, cid)
                        started = time.perf_counter()
                        queue.approve(app, me, cid, seen_warnings=[str(w.get("code")) for w in item.warnings])
                    done["approved"].append(cid)
                elif op == "note":
                    note = notes.add_note(app, me, case[0], f"Called the owner ({k}-{len(done['notes'])}).")
                    done["notes"].append(note.id)
                elif op == "hold":
                    label = "hold place"
                    hid = holds.place_supervisor_hold(app, me, case[0], "Owner disputes the plate: checking photos.")
                    times[label].append((time.perf_counter() - started) * 1000)
                    ends[label].append(time.time())
                    label = "hold release"
                    started = time.perf_counter()
                    holds.release_hold(app, me, case[0], hid, "Photos checked: the plate is right.")
                    done["holds"].append(hid)
                times[label].append((time.perf_counter() - started) * 1000)
                ends[label].append(time.time())
            except failures.TransientConflict:
                failed.append(f"{label}: a deadlock reached the clerk")
            except UserError as exc:
                told[f"{label}: {type(exc).__name__}"] += 1
                if isinstance(exc, failures.ConnectionLost | failures.TooSlow):
                    failed.append(f"{label}: {exc}")
            except Exception:  # noqa: BLE001 - a bug: reported, not raised, so the others go on
                failed.append(f"{label}: {traceback.format_exc(limit=3)}")
        app.db.dispose()
        told["deadlocks retried inside the service (not seen)"] += retried.deadlocks
        results.put({"k": k, "times": dict(times), "ends": dict(ends), "told": dict(told), "failed": failed,
                     "done": done})
    except Exception:  # noqa: BLE001
        results.put({"k": k, "times": {}, "ends": {}, "told": {}, "failed": [traceback.format_exc()], "done": {}})


@dataclass(frozen=True)
class Background:
    """The work beside the clerks. By default one field sync of a city's day (30,000 citations, review checks
    included, as ``main.py sync`` runs it) and one lockbox file (20,000 payments), started with the clerks and
    run at once, each as fast as it goes; ``repeat``: each run again as soon as it ends, for the whole window
    (a stress far beyond an office's day: about 60,000 citations and 60,000 payments a minute)."""

    sync_citations: int = 30_000
    import_payments: int = 20_000
    repeat: bool = False
    nice: int = 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def background(url: str, job: str, seconds: float, go: Any, results: Any, work: Background) -> None:
    """A job beside the clerks (``Background``): ``sync``, the field sync (a simulator of its own, clean
    citations without photos, the review checks run as the user's sync runs them), or ``import``, the bank's
    payment file (payments of open cases). The sync and the import are two processes, so both run at once.
    ``work.nice``: their client side (and the simulator's) at a lower CPU priority, standing for the other
    machines they run on in an office (the workstation that imports, the fleet's endpoint); the server's work
    for them is not lowered."""
    if work.nice:
        os.nice(work.nice)
    size = work.sync_citations if job == "sync" else work.import_payments
    label = f"field sync ({size:,} citations)" if job == "sync" else f"payment import ({size:,} payments)"
    out: dict[str, Any] = {"k": "background", "times": {label: []}, "failed": [], "told": {}, "done": {},
                           "busy": []}
    try:
        from sqlalchemy import text

        from desktop.demo.payments import Bai2Item, build_bai2
        from desktop.services import sync as sync_service
        from desktop.services.admin import users
        from desktop.services.core.context import Actor
        from desktop.services.payments import imports as payment_imports

        app = _app(url)
        admin = users.actor_for(app, "admin")
        system = Actor.system("load-sync")
        rounds = stored = asked = after = 0
        go.wait()
        deadline = time.monotonic() + seconds
        while rounds == 0 or (work.repeat and time.monotonic() < deadline):
            rounds += 1
            if job == "import":
                with app.db.reading() as s:  # the next open cases of the import's share, from where the last
                    # file ended (then from the start again): each payment pays part of the fine, so a case
                    # stays open for the next time round and the share never runs out
                    payable = list(s.execute(text(
                        "SELECT id, citation_number, fine_cents FROM citations WHERE status = 'open' "
                        "AND id % :n = :k AND id > :after ORDER BY id LIMIT :m"),
                        {"n": SHARES, "k": IMPORT_SHARE, "after": after, "m": size}))
                after = int(payable[-1][0]) if len(payable) == size else 0
                bank = build_bai2([Bai2Item("142", int(fine) // 4, f"CIT {num}", f"L{rounds}-{n}")
                                   for n, (_cid, num, fine) in enumerate(payable)],
                                  date.today(), file_id=uuid.uuid4().hex[:8])
                started, wall = time.perf_counter(), time.time()
                outcome = payment_imports.import_payment_bytes(app, admin, bank, f"load-{rounds}.bai2")
                out["times"][label].append((time.perf_counter() - started) * 1000)
                out["busy"].append((wall, time.time()))
                asked += len(payable)
                stored += outcome.matched
                continue
            port = _free_port()
            first_device = 100 + 10 * rounds + random.Random().randrange(5)
            sim = subprocess.Popen([sys.executable, "-m", "desktop.demo.simulator", "--port", str(port), "--token",
                                    "load", "--devices", "4", "--citations", str(size), "--first-device",
                                    str(first_device), "--seed", str(first_device), "--no-photos"],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                assert sim.stdout is not None and "listening on" in sim.stdout.readline()
                endpoint = sync_service.endpoint_for_url(app, system, f"http://127.0.0.1:{port}")
                started, wall = time.perf_counter(), time.time()
                summary = sync_service.sync_now(app, system, endpoint, token="load", push=False)
                out["times"][label].append((time.perf_counter() - started) * 1000)
                out["busy"].append((wall, time.time()))
                asked += size
                stored += summary.stats.citations
            finally:
                sim.terminate()
                sim.wait(timeout=30)
        out["done"][job] = {"runs": rounds, "asked": asked, "stored": stored}
        app.db.dispose()
    except Exception:  # noqa: BLE001
        out["failed"].append(traceback.format_exc())
    results.put(out)


def check(url: str, done: list[dict[str, Any]]) -> dict[str, Any]:
    """What the clerks were told was stored is stored, once; the money adds up."""
    from sqlalchemy import text

    app = _app(url)
    problems: list[str] = []
    payments = [p for d in done for p in d.get("payments", [])]
    with app.db.reading() as s:
        for pid, amount, request in payments:
            n = s.execute(text("SELECT COUNT(*) FROM payments WHERE external_id = :r AND source = 'counter'"),
                          {"r": request}).scalar()
            posted = s.execute(text("SELECT -COALESCE(SUM(amount_cents), 0) FROM ledger_entries WHERE payment_id = :p"),
                               {"p": pid}).scalar()
            if n != 1 or int(posted or 0) != amount:
                problems.append(f"payment {pid}: {n} stored, {posted} of {amount} in the ledger")
        for cid in (c for d in done for c in d.get("paid_cases", [])):
            bal = s.execute(text("SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries WHERE citation_id = :c"),
                            {"c": cid}).scalar()
            if int(bal or 0) != 0:
                problems.append(f"case {cid} paid in full still owes {bal}")
        notes = [n for d in done for n in d.get("notes", [])]
        if notes:
            found = s.execute(text("SELECT COUNT(*) FROM case_notes WHERE id IN :ids").bindparams(
                __import__("sqlalchemy").bindparam("ids", expanding=True)), {"ids": notes}).scalar()
            if found != len(notes):
                problems.append(f"{len(notes) - int(found or 0)} notes lost")
        hold_ids = [h for d in done for h in d.get("holds", [])]
        if hold_ids:
            ended = s.execute(text("SELECT COUNT(*) FROM holds WHERE ended_at IS NOT NULL AND id IN :ids").bindparams(
                __import__("sqlalchemy").bindparam("ids", expanding=True)), {"ids": hold_ids}).scalar()
            if ended != len(hold_ids):
                problems.append(f"{len(hold_ids) - int(ended or 0)} holds not as the clerks left them")
        approved = [c for d in done for c in d.get("approved", [])]
        if approved:
            still = s.execute(text("SELECT COUNT(*) FROM citations WHERE status = 'pending_review' AND id IN :ids")
                              .bindparams(__import__("sqlalchemy").bindparam("ids", expanding=True)),
                              {"ids": approved}).scalar()
            if still:
                problems.append(f"{still} approvals lost")
        unbalanced = s.execute(text(
            "SELECT COUNT(*) FROM payments p WHERE p.status = 'matched' AND p.amount_cents <> -(SELECT "
            "COALESCE(SUM(l.amount_cents), 0) FROM ledger_entries l WHERE l.payment_id = p.id AND l.kind = 'payment') "
            "AND p.id > :since"), {"since": min((p[0] for p in payments), default=0)}).scalar()
    app.db.dispose()
    return {"payments": len(payments), "notes": sum(len(d.get("notes", [])) for d in done),
            "holds": len(hold_ids), "approved": len(approved), "problems": problems,
            "matched payments whose ledger differs (since the run began)": int(unbalanced or 0)}


def run(url: str, clerks: int, seconds: float, think: float, work: Background | None = None) -> dict[str, Any]:
    """``work``: what runs beside the clerks (None: nothing)."""
    ensure_accounts(url, clerks)
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    ready = ctx.Queue()
    results = ctx.Queue()
    procs = [ctx.Process(target=clerk, args=(url, k, seconds, think, ready, go, results)) for k in range(clerks)]
    if work is not None:
        procs += [ctx.Process(target=background, args=(url, job, seconds, go, results, work))
                  for job in ("sync", "import")]
    for p in procs:
        p.start()
    for _ in range(clerks):
        ready.get(timeout=600)
    load_start = os.getloadavg()
    started = time.perf_counter()
    go.set()
    got = [results.get(timeout=seconds + 1800) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    wall = time.perf_counter() - started
    times: dict[str, list[float]] = defaultdict(list)
    beside: dict[str, list[float]] = defaultdict(list)  # the clicks made while a sync or an import ran
    busy = sorted(span for r in got for span in r.get("busy", []))
    told: dict[str, int] = defaultdict(int)
    failed = []
    for r in got:
        for op, values in r["times"].items():
            times[op].extend(values)
            if r["k"] == "background":
                continue
            for ms, end in zip(values, r["ends"].get(op, []), strict=True):
                if any(b0 < end and end - ms / 1000 < b1 for b0, b1 in busy):
                    beside[op].append(ms)
        for kind, n in r["told"].items():
            told[kind] += n
        failed.extend(r["failed"])
    background_done = {job: done for r in got if r["k"] == "background" for job, done in r["done"].items()}
    for job, done in background_done.items():
        if done["stored"] != done["asked"]:
            failed.append(f"{job}: {done['stored']:,} of {done['asked']:,} stored")
    return {"url": url.split("@")[-1], "clerks": clerks, "seconds": round(wall, 1), "think_s": think,
            "background": None if work is None else asdict(work),
            "load_start": load_start, "load_end": os.getloadavg(),
            "operations": {op: _percentiles(v) for op, v in sorted(times.items())},
            "interactive p95 max": max((_percentiles(times[op]).get("p95", 0) for op in INTERACTIVE if times[op]),
                                       default=None),
            "while a sync or an import ran": {op: _percentiles(v) for op, v in sorted(beside.items())},
            "background busy (s)": round(sum(b1 - b0 for b0, b1 in busy), 1),
            "sentences": dict(told), "failures": failed[:20], "failure count": len(failed),
            "background done": background_done, "checks": check(url, [r["done"] for r in got if r["k"] != "background"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clerks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a clerk's clicks (s)")
    parser.add_argument("--no-background", action="store_true")
    parser.add_argument("--sync-citations", type=int, default=Background.sync_citations)
    parser.add_argument("--import-payments", type=int, default=Background.import_payments)
    parser.add_argument("--repeat", action="store_true", help="run the sync and the import again as soon as they "
                                                              "end, for the whole window (a stress test)")
    parser.add_argument("--background-nice", type=int, default=0,
                        help="run the import's and the sync's client side at this niceness (their own machines in an "
                             "office; the 2 cores here are shared by everything)")
    parser.add_argument("--data-dir", help="the office's data folder (its audit key, evidence)")
    args = parser.parse_args()
    if args.data_dir:
        os.environ["CURBDESK_LOAD_DATA"] = args.data_dir  # the workstations' processes inherit it
    work = None if args.no_background else Background(args.sync_citations, args.import_payments, args.repeat,
                                                      args.background_nice)
    print(json.dumps(run(args.url, args.clerks, args.seconds, args.think, work), default=str))


if __name__ == "__main__":
    main()
