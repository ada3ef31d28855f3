"""The demo office's field sync: an endpoint, signed handhelds with sequence gaps, a quarantine with reasons.

Honest rather than painted: a field simulator runs in-process with some of every fault a
fleet produces (repeats, dropped connections, a truncated and a corrupted photo, malformed
events, a conflicting citation number, a forged signature, withheld events) and the real
pipeline pulls from it over HTTP on loopback; one more handheld comes in as a dock bundle.
Afterwards the endpoint points at the standalone simulator (``python -m desktop.demo.simulator``,
port 8765, token ``demo``) so that Sync now has something to talk to. Done once (``demo.sync``).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from desktop.demo.fleet import Faults
from desktop.demo.simulator import FieldSimulator
from desktop.persistence.models import Officer, Setting
from desktop.services.core.context import Actor, AppContext
from desktop.services.sync.bundles import import_bundle
from desktop.services.sync.devices import add_device, register_device
from desktop.services.sync.endpoints import save_endpoint
from desktop.services.sync.run import sync_now

log = logging.getLogger(__name__)

ORDER = 20  # before the review step, so that the synced citations are checked like the others
STANDALONE_URL = "http://127.0.0.1:8765"
ENDPOINT_NAME = "Field simulator"


def _done(app: AppContext) -> bool:
    with app.db.reading() as s:
        return s.get(Setting, "demo.sync") is not None


def _anchor(app: AppContext) -> datetime:
    with app.db.reading() as s:
        row = s.get(Setting, "demo.anchor")
    return datetime.fromisoformat(row.value) if row is not None else app.now()


def _assignments(app: AppContext, day: str) -> None:
    """Patrol assignments for the demo officers (pushed to the handhelds as reference data)."""
    with app.uow(Actor.system("demo")) as uow:
        s = uow.session
        if s.get(Setting, "patrol.assignments") is not None:
            return
        badges = list(s.scalars(select(Officer.badge).order_by(Officer.badge).limit(8)))
        zones = ["Z-BUNKER-HILL", "Z-CIVIC-CENTER", "Z-CHINATOWN", "Z-ARTS-DISTRICT", "Z-SOUTH-PARK"]
        items = [{"officer_badge": b, "date": day, "zones": [zones[n % len(zones)], zones[(n + 2) % len(zones)]],
                  "priority": 1 + n % 3} for n, b in enumerate(badges)]
        s.add(Setting(key="patrol.assignments", value=items))
        uow.audit("setting.changed", "setting", "patrol.assignments", after={"items": len(items)},
                  reason="demo patrol plan")
        uow.commit()


def extend_demo(app: AppContext, progress: Callable[[str, int, int], None]) -> None:
    if _done(app):
        return
    actor = Actor.system("demo")
    day = (_anchor(app) - timedelta(days=1)).date()
    _assignments(app, day.isoformat())
    progress("Field sync: starting the fleet simulator", 0, 3)
    faults = Faults(repeat_probability=0.2, drop_probability=0.02, truncated_photos=1, corrupted_photos=1,
                    malformed_events=4, conflicting_duplicates=1, sequence_gaps=True, sign_events=True,
                    forged_signatures=1, retry_after_seconds=0)
    sim = FieldSimulator(seed=17, devices=4, citations=48, token="demo-run", faults=faults, day=day,
                         first_device=13, endpoint_id="GW-DEMO", photo_size=(640, 480))
    sim.start()
    try:
        endpoint_id, _ = save_endpoint(app, actor, None, name=ENDPOINT_NAME, url=sim.base_url, auto_sync_minutes=0)
        for device in sim.devices:
            register_device(app, actor, device.device_id, device.public_key_b64, device.officer_badge)
        progress("Field sync: pulling from the simulator", 1, 3)
        summary = sync_now(app, actor, endpoint_id, token=sim.token, client_options={"sleep": lambda _s: None})
        log.info("demo sync: %s", summary.line())
    finally:
        sim.stop()
    progress("Field sync: a docked handheld", 2, 3)
    docked = FieldSimulator(seed=23, devices=1, citations=8, token="dock", day=day, first_device=17,
                            photo_size=(640, 480), malformed_events=1)
    for device in docked.devices:  # a bundle of an unregistered device would be held for a supervisor
        add_device(app, actor, device.device_id, device.officer_badge)
    with tempfile.TemporaryDirectory() as folder:
        for path in docked.write_bundles(Path(folder)):
            import_bundle(app, actor, path)
    # from now on the endpoint is the standalone simulator; its cursor starts afresh
    save_endpoint(app, actor, endpoint_id, name=ENDPOINT_NAME, url=STANDALONE_URL, auto_sync_minutes=0)
    with app.uow(actor) as uow:
        uow.session.add(Setting(key="demo.sync", value={"endpoint": endpoint_id, "summary": summary.line()}))
        uow.commit()
    progress("Field sync", 3, 3)

