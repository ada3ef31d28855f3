"""Field simulator: a small HTTP server that speaks field sync protocol v1 and can misbehave on purpose.

Shipped with the product for the demo, for trying a sync without a fleet, and
for the tests. It holds a deterministic fleet (same seed, same events, same
photo bytes): N handhelds, each with an officer badge, issuing believable
citations around Los Angeles or San Francisco with 1-3 JPEG photos each, plus
voids, amendments, patrol shifts and checks, and the occasional event type the
back office does not know.

Faults are switched on by constructor arguments (see :class:`Faults`) or
command-line flags; transport faults (dropped connections, 429, 503, repeats)
are drawn from a seeded generator, data faults (bad photos, malformed events,
conflicting duplicates, sequence gaps, forged signatures) are fixed at
generation time and listed on the simulator so a test can check that nothing
was lost. Tests can also script exact faults with :meth:`FieldSimulator.queue_fault`.

Run it (handhelds start at HH-0021 unless --first-device says otherwise)::

    python -m desktop.demo.simulator --port 8765 --token demo --devices 5 --citations 300 \
        [--drop 0.05 --repeat 0.1 --throttle 0.05 --unavailable 0.05 --truncated-photos 2 \
         --corrupted-photos 2 --malformed 5 --conflicts 1 --gaps --sign --faults all]
"""

from __future__ import annotations

import argparse
import bisect
import copy
import hashlib
import hmac
import io
import json
import logging
import random
import socket
import string
import sys
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw, ImageFont

from desktop.sync.bundle import write_bundle
from desktop.sync.wire import (
    CITATION_AMENDED,
    CITATION_ISSUED,
    CITATION_VOIDED,
    PATROL_CHECK,
    PATROL_SHIFT,
    REFERENCE_KINDS,
    public_key_b64,
    sign_envelope,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024


def _local_zone() -> tzinfo:
    try:
        return ZoneInfo("America/Los_Angeles")
    except Exception:  # no tz database (some Windows installs): November is PST anyway
        return timezone(timedelta(hours=-8), "PST")


# --------------------------------------------------------------------------- trade data

# (code, description, fine_cents, weight) - the most common LA codes and fines
VIOLATION_CODES: list[tuple[str, str, int, int]] = [
    ("88.13B+", "METER EXP.", 6300, 30),
    ("80.56E4+", "RED ZONE", 9300, 18),
    ("80.58L", "PREFERENTIAL PARKING", 6800, 10),
    ("80.69BS", "NO PARK/STREET CLEAN", 7300, 12),
    ("80.69C", "PARKED OVER TIME LIMIT", 5800, 8),
    ("80.61", "STANDNG IN ALLEY", 6800, 3),
    ("22514", "FIRE HYDRANT", 6800, 3),
    ("22500E", "BLOCKING DRIVEWAY", 6800, 3),
    ("22500H", "DOUBLE PARKING", 6800, 2),
    ("80.56E1", "WHITE ZONE", 5800, 2),
    ("22502A", "18 IN. CURB/2 WAY", 6300, 2),
    ("80.69AP+", "NO STOP/STANDING", 9300, 2),
    ("5204A-", "DISPLAY OF TABS", 2500, 3),
]
TIME_LIMIT_CODES = {"80.69C", "80.58L"}

MAKES: dict[str, list[str]] = {
    "TOYT": ["CAMRY", "COROLLA", "PRIUS", "RAV4", "TACOMA"],
    "HOND": ["CIVIC", "ACCORD", "CR-V", "FIT"],
    "FORD": ["F150", "FOCUS", "ESCAPE", "FUSION"],
    "NISS": ["ALTIMA", "SENTRA", "ROGUE"],
    "CHEV": ["MALIBU", "SILVERADO", "EQUINOX"],
    "TSMR": ["MODEL 3", "MODEL Y"],
    "BMW": ["328I", "X3"],
    "HYUN": ["ELANTRA", "SONATA"],
    "KIA": ["OPTIMA", "SOUL"],
    "VOLK": ["JETTA", "GOLF"],
    "SUBA": ["OUTBACK", "IMPREZA"],
    "LEXS": ["RX350", "IS250"],
    "MERZ": ["C300", "E350"],
}
MAKE_WEIGHTS = [22, 16, 10, 8, 8, 6, 4, 5, 4, 4, 4, 4, 3]
COLORS: dict[str, tuple[int, int, int]] = {
    "BK": (25, 25, 28), "WT": (235, 235, 235), "GY": (128, 130, 135), "SL": (192, 194, 198),
    "BL": (30, 60, 150), "RD": (170, 25, 30), "GN": (30, 100, 50), "BN": (100, 70, 40),
    "TN": (200, 180, 140), "GO": (200, 170, 60),
}
COLOR_WEIGHTS = [20, 20, 16, 16, 8, 7, 3, 3, 4, 3]
# state -> plate pattern (9 digit, A letter) and weight
PLATE_PATTERNS: dict[str, tuple[str, int]] = {
    "CA": ("9AAA999", 80), "AZ": ("AAA9999", 4), "NV": ("999A99", 4), "TX": ("AAA9999", 3),
    "OR": ("999AAA", 3), "WA": ("AAA9999", 3), "NY": ("AAA9999", 2), "FL": ("AAAA99", 1),
}
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q

CITIES: dict[str, dict[str, Any]] = {
    "LA": {
        "center": (34.0470, -118.2500),
        "streets": ["S MAIN ST", "S SPRING ST", "S BROADWAY", "S HILL ST", "W 7TH ST", "W 5TH ST",
                    "S FIGUEROA ST", "S FLOWER ST", "W OLYMPIC BLVD", "WILSHIRE BLVD"],
        "zones": ["Z-DOWNTOWN-1", "Z-DOWNTOWN-2", "Z-DOWNTOWN-3", "Z-FASHION-1"],
    },
    "SF": {
        "center": (37.7620, -122.4210),
        "streets": ["MISSION ST", "VALENCIA ST", "16TH ST", "18TH ST", "GUERRERO ST", "DOLORES ST",
                    "24TH ST", "SOUTH VAN NESS AVE"],
        "zones": ["Z-MISSION-1", "Z-MISSION-2", "Z-CASTRO-1"],
    },
}
CHECK_RESULTS = ["paid", "compliant", "permit_ok"]
MALFORMED_KINDS = ["missing_field", "naive_time", "out_of_range", "wrong_type", "unreadable_json"]


# --------------------------------------------------------------------------- configuration


@dataclass
class Faults:
    """Fault switches. Probabilities apply per request, counts are fixed when the fleet is generated."""

    drop_probability: float = 0.0  # cut the connection half-way through an answer
    repeat_probability: float = 0.0  # repeat an event within a page / step the cursor back
    throttle_probability: float = 0.0  # 429 with Retry-After
    retry_after_seconds: int = 1
    unavailable_probability: float = 0.0  # 503
    truncated_photos: int = 0  # photos served cut short (digest declared for the original)
    corrupted_photos: int = 0  # photos served with bytes altered (digest declared for the original)
    malformed_events: int = 0  # cycles: missing field, naive time, coords out of range, wrong type, bad JSON
    conflicting_duplicates: int = 0  # a citation_number re-issued with different content
    sequence_gaps: bool = False  # withhold one event per device (see release_withheld)
    sign_events: bool = False  # Ed25519 signatures with per-device keys
    forged_signatures: int = 0  # events signed with the wrong key (needs sign_events)
    ignore_range: bool = False  # answer 200 with the whole photo to a Range request
    unknown_events: int | None = None  # events of a type the back office does not know; None: 1 per 100

    @classmethod
    def everything(cls) -> Faults:
        """A bit of every fault, for the demo (``--faults all``)."""
        return cls(
            drop_probability=0.05, repeat_probability=0.1, throttle_probability=0.03,
            unavailable_probability=0.03, truncated_photos=2, corrupted_photos=2, malformed_events=5,
            conflicting_duplicates=2, sequence_gaps=True, sign_events=True, forged_signatures=1,
        )


@dataclass
class SimDevice:
    device_id: str
    officer_badge: str
    city: str
    app_version: str
    private_key: Ed25519PrivateKey
    last_seen_at: str = ""

    @property
    def public_key_b64(self) -> str:
        return public_key_b64(self.private_key)


@dataclass
class _FeedItem:
    index: int
    item: Any  # dict envelope, or str for an unreadable line
    device_id: str | None
    photo_shas: tuple[str, ...]


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    fault: str | None = None


# --------------------------------------------------------------------------- the simulator


class FieldSimulator:
    """A field endpoint on 127.0.0.1 with a generated fleet; see the module docstring.

    What it holds, for tests to assert that nothing was lost:
    ``valid_citation_numbers``, ``accepted_event_ids`` (what a correct back office
    stores), ``malformed`` (event_id or None -> kind), ``conflict_event_ids``,
    ``unknown_event_ids``, ``forged_event_ids``, ``withheld_event_ids``,
    ``bad_photos`` (sha -> "truncated" | "corrupted"), ``photos`` (sha -> original
    bytes), ``acked_index`` / ``acked_cursor``, ``reference`` (kind -> (version, items)),
    ``requests`` (a log of every request).
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        devices: int = 5,
        citations: int = 300,
        token: str = "demo",
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        endpoint_id: str = "GW-SIM",
        day: date = date(2026, 11, 24),
        photo_size: tuple[int, int] = (640, 480),
        delete_on_ack: bool = True,
        first_device: int = 1,
        photos_per_citation: int | None = None,
        ssl_context: Any = None,
        **fault_switches: Any,
    ) -> None:
        base = faults or Faults()
        known = {f.name for f in fields(Faults)}
        unknown = set(fault_switches) - known
        if unknown:
            raise TypeError(f"unknown fault switch(es): {', '.join(sorted(unknown))}")
        self.faults = replace(base, **fault_switches)
        self.seed = seed
        self.token = token
        self.host = host
        self.port = port
        self.endpoint_id = endpoint_id
        self.day = day
        self.photo_size = photo_size
        self.delete_on_ack = delete_on_ack
        #: devices are HH-<first_device>, HH-<first_device + 1>, ... (keep fleets apart from the demo office's)
        self.first_device = first_device
        #: photos per citation: None draws 1-3 (the realistic mix); 0 gives citations without photos
        self.photos_per_citation = photos_per_citation
        #: an ``ssl.SSLContext`` (server side) to serve https, as a production gateway does
        self.ssl_context = ssl_context
        self.zone = _local_zone()

        self._lock = threading.RLock()
        self._fault_rng = random.Random(f"{seed}-faults")
        self._queued: deque[tuple[str, str]] = deque()  # (path prefix, fault)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

        self.devices: list[SimDevice] = []
        self.photos: dict[str, bytes] = {}
        self.served_photos: dict[str, bytes] = {}
        self.bad_photos: dict[str, str] = {}
        self.valid_citation_numbers: set[str] = set()
        self.accepted_event_ids: set[str] = set()
        self.malformed: dict[str | None, str] = {}
        self.malformed_count = 0
        self.conflict_event_ids: set[str] = set()
        self.unknown_event_ids: set[str] = set()
        self.forged_event_ids: set[str] = set()
        self.withheld: list[_FeedItem] = []
        self.withheld_event_ids: set[str] = set()
        self.reference: dict[str, tuple[int, list[Any]]] = {kind: (0, []) for kind in REFERENCE_KINDS}
        self.requests: list[RequestRecord] = []
        self.acked_index = 0
        self.acked_cursor: str | None = None
        self.ack_history: list[str] = []

        self._feed: list[_FeedItem] = []
        self._all_feed: list[_FeedItem] = []
        self._next_index = 1
        self.device_events: dict[str, list[Any]] = {}
        self._generate(devices, citations)

    # ------------------------------------------------------------ public helpers

    @property
    def device_keys(self) -> dict[str, str]:
        """device_id -> base64 Ed25519 public key (register these in the back office)."""
        return {d.device_id: d.public_key_b64 for d in self.devices}

    @property
    def device_private_keys(self) -> dict[str, Ed25519PrivateKey]:
        return {d.device_id: d.private_key for d in self.devices}

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host, port = self._server.server_address[:2]
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    @property
    def held_events(self) -> list[Any]:
        """The events the endpoint still holds (not yet acked), in feed order."""
        with self._lock:
            return [entry.item for entry in self._feed if entry.index > self.acked_index]

    @property
    def all_events(self) -> list[Any]:
        """Every event ever put in the feed (including acked ones), in feed order."""
        with self._lock:
            return [entry.item for entry in self._all_feed]

    def cursor_for(self, index: int) -> str:
        return f"c{index}"

    def queue_fault(self, fault: str, count: int = 1, path_prefix: str = "/v1/") -> None:
        """Script the next ``count`` requests under ``path_prefix`` to fail with ``fault``.

        ``fault`` is one of ``drop`` (cut the answer half-way), ``429``, ``503``,
        ``500``, ``401``, ``stall`` (send nothing and close).
        """
        if fault not in {"drop", "429", "503", "500", "401", "stall"}:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._queued.extend((path_prefix, fault) for _ in range(count))

    def release_withheld(self) -> int:
        """Deliver the events held back to make sequence gaps; returns how many."""
        with self._lock:
            released = 0
            for entry in self.withheld:
                self._append(entry.item, entry.device_id, entry.photo_shas)
                released += 1
            self.withheld = []
            return released

    def add_events(self, items: Iterable[Any]) -> None:
        """Append raw items (dicts or strings) to the feed, e.g. for a test's own edge case."""
        with self._lock:
            for item in items:
                device = item.get("device_id") if isinstance(item, dict) else None
                self._append(item, device if isinstance(device, str) else None, ())

    def add_photo(self, data: bytes, served: bytes | None = None) -> str:
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            self.photos[sha] = data
            self.served_photos[sha] = served if served is not None else data
        return sha

    def write_bundles(self, directory: Path, exported_at: datetime | None = None) -> list[Path]:
        """Write one dock bundle per device with all its events and photos (for the demo and tests)."""
        paths = []
        for device in self.devices:
            items = self.device_events[device.device_id]
            shas: set[str] = set()
            for item in items:
                shas.update(_photo_shas(item))
            # a docked device exports its own good copies; a photo already damaged is left out (missing)
            photos = {sha: self.photos[sha] for sha in sorted(shas)
                      if sha in self.photos and sha not in self.bad_photos}
            paths.append(write_bundle(directory, device.device_id, items, photos, exported_at=exported_at))
        return paths

    # ------------------------------------------------------------ lifecycle

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL."""
        if self._server is not None:
            return self.base_url
        handler = type("BoundHandler", (_Handler,), {"sim": self})
        server = _QuietServer((self.host, self.port), handler)
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="field-simulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = None
        self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> FieldSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ generation

    def _time(self, dt: datetime) -> str:
        return dt.astimezone(self.zone).isoformat(timespec="seconds")

    def _generate(self, device_count: int, citation_count: int) -> None:
        rng = random.Random(f"{self.seed}-fleet")
        key_rng = random.Random(f"{self.seed}-keys")
        badges = rng.sample(range(1000, 9999), device_count)
        for number in range(device_count):
            device_id = f"HH-{number + self.first_device:04d}"
            self.devices.append(
                SimDevice(
                    device_id=device_id,
                    officer_badge=str(badges[number]),
                    city="LA" if number % 3 != 2 else "SF",
                    app_version=rng.choice(["4.2.1", "4.2.1", "4.3.0"]),
                    private_key=Ed25519PrivateKey.from_private_bytes(key_rng.randbytes(32)),
                )
            )
        per_device = [citation_count // device_count + (1 if i < citation_count % device_count else 0)
                      for i in range(device_count)] if device_count else []
        # per device: list of (local time, sort tiebreak, type, payload, photo shas, tag)
        drafts: dict[str, list[dict[str, Any]]] = {d.device_id: [] for d in self.devices}
        citation_serial: dict[str, int] = {d.device_id: 0 for d in self.devices}
        issued_by_device: dict[str, list[dict[str, Any]]] = {d.device_id: [] for d in self.devices}

        def next_citation_number(device: SimDevice) -> str:
            citation_serial[device.device_id] += 1
            return f"{device.device_id.replace('-', '')}-{citation_serial[device.device_id]:06d}"

        start_of_day = datetime(self.day.year, self.day.month, self.day.day, 7, 0, tzinfo=self.zone)
        for device, count in zip(self.devices, per_device, strict=True):
            shift_start = start_of_day + timedelta(minutes=rng.randint(0, 60))
            city = CITIES[device.city]
            zone_name = rng.choice(city["zones"])
            t = shift_start
            checks = 0
            for _ in range(count):
                for _ in range(rng.choice([0, 0, 1, 1, 2])):
                    t += timedelta(minutes=rng.randint(1, 3), seconds=rng.randint(0, 59))
                    plate, state = _plate(rng)
                    drafts[device.device_id].append({
                        "t": t, "type": PATROL_CHECK, "payload": {
                            "zone": zone_name, "checked_at": self._time(t), "plate": plate,
                            "jurisdiction": state, "result": rng.choice(CHECK_RESULTS)}})
                    checks += 1
                t += timedelta(minutes=rng.randint(3, 15), seconds=rng.randint(0, 59))
                payload, shas = self._citation(rng, device, next_citation_number(device), t, zone_name)
                draft: dict[str, Any] = {"t": t, "type": CITATION_ISSUED, "payload": payload, "shas": shas,
                                         "tag": "valid"}
                drafts[device.device_id].append(draft)
                issued_by_device[device.device_id].append(draft)
                self.valid_citation_numbers.add(payload["citation_number"])
                roll = rng.random()
                if roll < 0.03:
                    vt = t + timedelta(minutes=rng.randint(1, 8))
                    drafts[device.device_id].append({"t": vt, "type": CITATION_VOIDED, "payload": {
                        "citation_number": payload["citation_number"], "voided_at": self._time(vt),
                        "reason": rng.choice(["Driver returned and moved vehicle", "Wrong location entered",
                                              "Printer jam, reissued"])}})
                elif roll < 0.07:
                    at = t + timedelta(minutes=rng.randint(1, 20))
                    changes: dict[str, Any] = rng.choice([
                        {"vehicle": {"plate": _plate(rng)[0]}},
                        {"location": {"space": f"M-{rng.randint(1000, 9999)}"}},
                        {"vehicle": {"color": rng.choice(list(COLORS))}},
                        {"remarks": "Corrected after re-check of the plate"},
                    ])
                    drafts[device.device_id].append({"t": at, "type": CITATION_AMENDED, "payload": {
                        "citation_number": payload["citation_number"], "changes": changes,
                        "reason": "Officer correction"}})
            t += timedelta(minutes=rng.randint(5, 20))
            drafts[device.device_id].append({"t": t, "type": PATROL_SHIFT, "payload": {
                "officer_badge": device.officer_badge, "zone": zone_name,
                "started_at": self._time(shift_start), "ended_at": self._time(t),
                "vehicles_checked": checks + count}})
            device.last_seen_at = self._time(t + timedelta(minutes=1))

        if not self.devices:
            return
        unknown = self.faults.unknown_events
        unknown_count = max(1, citation_count // 100) if unknown is None else unknown
        for n in range(unknown_count):
            device = self.devices[n % len(self.devices)]
            last = max(d["t"] for d in drafts[device.device_id])
            ut = last - timedelta(minutes=rng.randint(1, 120))
            kind = rng.choice(["device.battery", "device.printer_status"])
            payload = ({"level_pct": rng.randint(5, 99), "charging": rng.random() < 0.2}
                       if kind == "device.battery" else {"paper": rng.choice(["ok", "low"]), "jams": 0})
            drafts[device.device_id].append({"t": ut, "type": kind, "payload": payload, "tag": "unknown"})

        for n in range(self.faults.malformed_events):
            device = self.devices[n % len(self.devices)]
            kind = MALFORMED_KINDS[n % len(MALFORMED_KINDS)]
            last = max(d["t"] for d in drafts[device.device_id])
            mt = last - timedelta(minutes=rng.randint(1, 60))
            payload, shas = self._citation(rng, device, next_citation_number(device), mt, "Z-DOWNTOWN-3")
            drafts[device.device_id].append({"t": mt, "type": CITATION_ISSUED, "payload": payload,
                                             "shas": (), "tag": "malformed", "malformed": kind})
            for sha in shas:  # its photos are never referenced by a valid event
                self.photos.pop(sha, None)
                self.served_photos.pop(sha, None)

        for n in range(self.faults.conflicting_duplicates):
            device = self.devices[n % len(self.devices)]
            if not issued_by_device[device.device_id]:
                continue
            original = rng.choice(issued_by_device[device.device_id])
            ct = max(d["t"] for d in drafts[device.device_id]) - timedelta(minutes=rng.randint(1, 30))
            payload = copy.deepcopy(original["payload"])
            payload["vehicle"]["plate"] = _plate(rng)[0]
            payload["violations"][0]["fine_cents"] += 1000
            payload["issued_at"] = self._time(ct)
            drafts[device.device_id].append({"t": ct, "type": CITATION_ISSUED, "payload": payload,
                                             "shas": original.get("shas", ()), "tag": "conflict"})

        # seal: order each device's events, number them, wrap them in envelopes
        all_entries: list[tuple[datetime, str, int, Any, tuple[str, ...]]] = []
        for device in self.devices:
            events = sorted(drafts[device.device_id], key=lambda d: d["t"])
            items: list[Any] = []
            for seq, draft in enumerate(events, start=1):
                envelope: dict[str, Any] = {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "device_id": device.device_id,
                    "seq": seq,
                    "type": draft["type"],
                    "occurred_at": self._time(draft["t"]),
                    "payload": draft["payload"],
                }
                tag = draft.get("tag", "valid")
                item: Any = envelope
                if tag == "malformed":
                    item = self._break(envelope, draft["malformed"], device)
                    self.malformed[envelope["event_id"] if isinstance(item, dict) else None] = draft["malformed"]
                    self.malformed_count += 1
                else:
                    if self.faults.sign_events:
                        envelope["signature"] = sign_envelope(envelope, device.private_key)
                    if tag == "conflict":
                        self.conflict_event_ids.add(envelope["event_id"])
                    elif tag == "unknown":
                        self.unknown_event_ids.add(envelope["event_id"])
                    else:
                        self.accepted_event_ids.add(envelope["event_id"])
                items.append(item)
                all_entries.append((draft["t"], device.device_id, seq, item, tuple(draft.get("shas", ()))))
            self.device_events[device.device_id] = items

        if self.faults.sign_events and self.faults.forged_signatures:
            forger = Ed25519PrivateKey.from_private_bytes(key_rng.randbytes(32))
            candidates = sorted(e for e in self.accepted_event_ids)
            for event_id in rng.sample(candidates, min(self.faults.forged_signatures, len(candidates))):
                for entry in all_entries:
                    item = entry[3]
                    if isinstance(item, dict) and item["event_id"] == event_id:
                        item["signature"] = sign_envelope(item, forger)
                        if item["type"] == CITATION_ISSUED:  # a correct office quarantines it
                            self.valid_citation_numbers.discard(item["payload"]["citation_number"])
                self.accepted_event_ids.discard(event_id)
                self.forged_event_ids.add(event_id)

        gap_ids: set[str] = set()
        if self.faults.sequence_gaps:
            for device in self.devices:
                items = self.device_events[device.device_id]
                inner = [i for i in items[1:-1] if isinstance(i, dict) and i["type"] == PATROL_CHECK
                          and i["event_id"] in self.accepted_event_ids] or [
                    i for i in items[1:-1] if isinstance(i, dict) and i["event_id"] in self.accepted_event_ids]
                if inner:
                    gap_ids.add(rng.choice(inner)["event_id"])
            self.withheld_event_ids = gap_ids

        all_entries.sort(key=lambda e: (e[0], e[1], e[2]))
        for _, device_id, _, item, shas in all_entries:
            if isinstance(item, dict) and item.get("event_id") in gap_ids:
                self.withheld.append(_FeedItem(0, item, device_id, shas))
            else:
                self._append(item, device_id, shas)

        photo_list = sorted(self.photos)
        picks = rng.sample(photo_list, min(len(photo_list),
                                           self.faults.truncated_photos + self.faults.corrupted_photos))
        for n, sha in enumerate(picks):
            data = self.photos[sha]
            if n < self.faults.truncated_photos:
                self.served_photos[sha] = data[: len(data) * 2 // 3]
                self.bad_photos[sha] = "truncated"
            else:
                altered = bytearray(data)
                middle = len(altered) // 2
                for i in range(middle, min(middle + 64, len(altered))):
                    altered[i] ^= 0x5A
                self.served_photos[sha] = bytes(altered)
                self.bad_photos[sha] = "corrupted"

    def _append(self, item: Any, device_id: str | None, shas: tuple[str, ...]) -> None:
        entry = _FeedItem(self._next_index, item, device_id, shas or tuple(_photo_shas(item)))
        self._next_index += 1
        self._feed.append(entry)
        self._all_feed.append(entry)

    def _citation(
        self, rng: random.Random, device: SimDevice, number: str, t: datetime, zone_name: str
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        city = CITIES[device.city]
        lat0, lon0 = city["center"]
        lat = round(lat0 + rng.uniform(-0.012, 0.012), 6)
        lon = round(lon0 + rng.uniform(-0.012, 0.012), 6)
        plate, state = _plate(rng)
        make = rng.choices(list(MAKES), MAKE_WEIGHTS)[0]
        color = rng.choices(list(COLORS), COLOR_WEIGHTS)[0]
        code, description, fine_cents, _ = rng.choices(VIOLATION_CODES, [v[3] for v in VIOLATION_CODES])[0]
        payload: dict[str, Any] = {
            "citation_number": number,
            "officer_badge": device.officer_badge,
            "issued_at": self._time(t),
            "vehicle": {
                "plate": plate, "jurisdiction": state, "plate_type": "PAS", "make": make,
                "model": rng.choice(MAKES[make]), "color": color, "vin": None,
                "registration_expiry": f"{rng.randint(2026, 2028)}-{rng.randint(1, 12):02d}",
            },
            "location": {
                "lat": lat, "lon": lon, "accuracy_m": round(rng.uniform(3, 15), 1),
                "address": f"{rng.randint(1, 19) * 100 + rng.randint(0, 99)} {rng.choice(city['streets'])}",
                "zone": zone_name, "space": f"M-{rng.randint(1000, 9999)}" if code == "88.13B+" else None,
            },
            "violations": [{"code": code, "description": description, "fine_cents": fine_cents}],
            "observations": [],
            "photos": [],
            "remarks": rng.choice(["", "", "", "Vehicle unattended", "Hazards on", "Dealer plate frame"]),
        }
        if code in TIME_LIMIT_CODES or rng.random() < 0.08:
            first = t - timedelta(hours=2, minutes=rng.randint(5, 40))
            payload["observations"].append({
                "kind": "chalk", "first_seen_at": self._time(first),
                "second_seen_at": self._time(t - timedelta(seconds=rng.randint(20, 90)))})
        shas = []
        count = rng.choice([1, 2, 2, 3]) if self.photos_per_citation is None else min(self.photos_per_citation, 3)
        for n, caption in enumerate(["plate", "vehicle", "context"][:count]):
            taken = t - timedelta(seconds=rng.randint(5, 60) + n * 10)
            data = _street_photo(rng, plate, state, COLORS[color], self.photo_size, caption, taken,
                                 (lat, lon), make)
            sha = hashlib.sha256(data).hexdigest()
            self.photos[sha] = data
            self.served_photos[sha] = data
            shas.append(sha)
            payload["photos"].append({"sha256": sha, "taken_at": self._time(taken), "bytes": len(data),
                                      "caption": caption})
        return payload, tuple(shas)

    def _break(self, envelope: dict[str, Any], kind: str, device: SimDevice) -> Any:
        payload = envelope["payload"]
        payload["photos"] = []
        if kind == "missing_field":
            del payload["vehicle"]["plate"]
        elif kind == "naive_time":
            payload["issued_at"] = payload["issued_at"][:19]
        elif kind == "out_of_range":
            payload["location"]["lat"] = 134.0522
        elif kind == "wrong_type":
            payload["violations"][0]["fine_cents"] = "$73.00 "
        if self.faults.sign_events:
            envelope["signature"] = sign_envelope(envelope, device.private_key)
        if kind == "unreadable_json":
            text = json.dumps(envelope)
            return text[: len(text) // 2]
        return envelope

    # ------------------------------------------------------------ serving (called by the handler)

    def take_fault(self, path: str) -> str | None:
        with self._lock:
            for n, (prefix, fault) in enumerate(self._queued):
                if path.startswith(prefix):
                    del self._queued[n]
                    return fault
            rng, f = self._fault_rng, self.faults
            if f.unavailable_probability and rng.random() < f.unavailable_probability:
                return "503"
            if f.throttle_probability and rng.random() < f.throttle_probability:
                return "429"
            if f.drop_probability and rng.random() < f.drop_probability:
                return "drop"
            return None

    def page(self, after: str | None, limit: int) -> dict[str, Any]:
        with self._lock:
            start = self.acked_index
            if after is not None:
                start = max(start, _cursor_index(after))
            # the feed is in index order: find the first entry after `start` without scanning it all
            first = bisect.bisect_right(self._feed, start, key=lambda e: e.index)
            real = self._feed[first:first + limit]
            items = [e.item for e in real]
            rng, p = self._fault_rng, self.faults.repeat_probability
            last_index = real[-1].index if real else start
            if p and len(real) >= 2 and rng.random() < p:
                # repeat within the page (still no more than `limit` items)
                dup = copy.deepcopy(items[rng.randrange(len(items) - 1)])
                if len(items) >= limit:
                    items = items[:-1]
                    last_index = real[len(items) - 1].index
                items.insert(rng.randrange(1, len(items) + 1), dup)
            if p and len(real) >= 2 and rng.random() < p:
                # step the cursor back so the next page repeats the last event
                last_index = min(last_index, real[-2].index)
            more = bool(self._feed) and self._feed[-1].index > last_index
            return {"events": items, "next": self.cursor_for(last_index), "more": more}

    def ack(self, through: str) -> None:
        index = _cursor_index(through)
        with self._lock:
            if index > self._next_index - 1:
                raise ValueError("cursor beyond the feed")
            if index <= self.acked_index:
                self.ack_history.append(through)
                return
            self.acked_index = index
            self.acked_cursor = through
            self.ack_history.append(through)
            cut = bisect.bisect_right(self._feed, index, key=lambda e: e.index)
            dropped = self._feed[:cut]
            self._feed = self._feed[cut:]
            if self.delete_on_ack and any(entry.photo_shas for entry in dropped):
                still = {sha for e in self._feed for sha in e.photo_shas}
                still.update(sha for e in self.withheld for sha in e.photo_shas)
                for entry in dropped:
                    for sha in entry.photo_shas:
                        if sha not in still:
                            self.served_photos.pop(sha, None)

    def status(self) -> dict[str, Any]:
        with self._lock:
            pending: dict[str, int] = {}
            for entry in self._feed:
                if entry.device_id:
                    pending[entry.device_id] = pending.get(entry.device_id, 0) + 1
            return {
                "protocol": 1,
                "endpoint_id": self.endpoint_id,
                "devices": [
                    {"device_id": d.device_id, "officer_badge": d.officer_badge, "last_seen_at": d.last_seen_at,
                     "app_version": d.app_version, "pending_events": pending.get(d.device_id, 0)}
                    for d in self.devices
                ],
            }

    def put_reference(self, kind: str, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or isinstance(body.get("version"), bool) or not isinstance(
            body.get("version"), int
        ) or not isinstance(body.get("items"), list):
            return 400, {"error": "bad_request", "detail": "body must be {\"version\": int, \"items\": [...]}"}
        with self._lock:
            held, _ = self.reference[kind]
            if body["version"] <= held:
                return 409, {"error": "stale_version",
                             "detail": f"{kind} version {body['version']} is not newer than {held}",
                             "held_version": held}
            self.reference[kind] = (body["version"], body["items"])
            return 200, {"accepted_version": body["version"]}

    def record(self, method: str, path: str, status: int, fault: str | None) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, status, fault))


def _cursor_index(cursor: str) -> int:
    if not cursor.startswith("c") or not cursor[1:].isdigit():
        raise ValueError(f"bad cursor {cursor!r}")
    return int(cursor[1:])


def _photo_shas(item: Any) -> list[str]:
    if not isinstance(item, dict) or not isinstance(item.get("payload"), dict):
        return []
    photos = item["payload"].get("photos")
    if not isinstance(photos, list):
        return []
    return [p["sha256"] for p in photos if isinstance(p, dict) and isinstance(p.get("sha256"), str)]


def _plate(rng: random.Random) -> tuple[str, str]:
    state = rng.choices(list(PLATE_PATTERNS), [w for _, w in PLATE_PATTERNS.values()])[0]
    pattern = PLATE_PATTERNS[state][0]
    plate = "".join(rng.choice(string.digits) if c == "9" else rng.choice(PLATE_LETTERS) for c in pattern)
    return plate, state


_FONTS: dict[int, Any] = {}


def _font(size: int) -> Any:
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    return (float(degrees), float(minutes), seconds)


def _street_photo(
    rng: random.Random, plate: str, state: str, body: tuple[int, int, int], size: tuple[int, int],
    caption: str, taken: datetime, position: tuple[float, float], make: str,
) -> bytes:
    """A simple street scene: sky, buildings, kerb, a car whose plate is readable, EXIF time and GPS."""
    width, height = size
    image = Image.new("RGB", size, (150 + rng.randint(-20, 20), 185, 225))
    draw = ImageDraw.Draw(image)
    x = 0
    while x < width:  # buildings
        w = rng.randint(width // 8, width // 4)
        top = rng.randint(height // 10, height // 3)
        shade = rng.randint(120, 200)
        draw.rectangle([x, top, x + w, height // 2], fill=(shade, shade - 10, shade - 25))
        for wy in range(top + 10, height // 2 - 10, 22):
            for wx in range(x + 8, x + w - 12, 20):
                draw.rectangle([wx, wy, wx + 9, wy + 12], fill=(90, 110, 140))
        x += w + 2
    draw.rectangle([0, height // 2, width, height // 2 + height // 12], fill=(170, 170, 165))  # sidewalk
    draw.rectangle([0, height // 2 + height // 12, width, height // 2 + height // 12 + 6], fill=(200, 40, 40))
    draw.rectangle([0, height // 2 + height // 12 + 6, width, height], fill=(70, 70, 75))  # road
    scale = 1.6 if caption == "plate" else (1.0 if caption == "vehicle" else 0.6)
    cw, ch = int(width * 0.6 * scale), int(height * 0.3 * scale)
    cx = width // 2 - cw // 2 + rng.randint(-width // 20, width // 20)
    cy = int(height * 0.62) - ch // 2
    draw.rounded_rectangle([cx, cy + ch // 3, cx + cw, cy + ch], radius=max(4, ch // 8), fill=body)
    draw.polygon([(cx + cw * 0.2, cy + ch / 3), (cx + cw * 0.3, cy), (cx + cw * 0.7, cy),
                  (cx + cw * 0.8, cy + ch / 3)], fill=body)
    draw.polygon([(cx + cw * 0.26, cy + ch / 3), (cx + cw * 0.33, cy + ch * 0.06),
                  (cx + cw * 0.67, cy + ch * 0.06), (cx + cw * 0.74, cy + ch / 3)], fill=(60, 80, 100))
    for axle in (cx + cw * 0.18, cx + cw * 0.82):
        wheel = ch * 0.18
        draw.ellipse([axle - wheel, cy + ch - wheel, axle + wheel, cy + ch + wheel], fill=(20, 20, 20))
    pw, ph = int(cw * 0.32), int(ch * 0.2)
    px, py = cx + cw // 2 - pw // 2, cy + int(ch * 0.62)
    draw.rectangle([px, py, px + pw, py + ph], fill=(245, 245, 240), outline=(30, 30, 30), width=2)
    font = _font(max(10, int(ph * 0.62)))
    draw.text((px + pw // 2, py + ph * 0.58), plate, fill=(20, 20, 110), font=font, anchor="mm")
    draw.text((px + pw // 2, py + 2), state, fill=(160, 20, 20), font=_font(max(8, int(ph * 0.22))), anchor="mt")
    draw.text((8, height - 22), f"{taken.isoformat(timespec='seconds')}  {make}  {caption}",
              fill=(255, 255, 0), font=_font(14))
    exif = Image.Exif()
    exif[0x010F] = "CURBDESK"
    exif[0x0110] = "HH-SIM"
    exif[0x0112] = 1
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    offset = taken.strftime("%z")
    exif_ifd[0x9011] = f"{offset[:3]}:{offset[3:]}"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if position[0] >= 0 else "S"
    gps[2] = _dms(position[0])
    gps[3] = "E" if position[1] >= 0 else "W"
    gps[4] = _dms(position[1])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, exif=exif)
    return out.getvalue()


# --------------------------------------------------------------------------- HTTP


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-answer (a killed sync, a cancelled download) is normal here, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("client %s went away: %s", client_address, error)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    sim: FieldSimulator
    protocol_version = "HTTP/1.1"
    server_version = "CurbdeskFieldSimulator/1"
    timeout = 30
    # headers and body go out in separate writes: without this, Nagle + delayed ACK cost 40 ms per answer
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send_json(self, status: int, body: Any, fault: str | None = None, headers: dict[str, str] | None = None,
                   ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, data, "application/json", fault, headers)

    def _send_bytes(self, status: int, data: bytes, content_type: str, fault: str | None,
                    headers: dict[str, str] | None = None) -> None:
        self.sim.record(self.command, self.path, status, fault)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if fault == "drop" and len(data) > 1:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._cut()
            return
        if data:
            self.wfile.write(data)

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _error(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None,
               fault: str | None = None) -> None:
        self._send_json(status, {"error": code, "detail": detail}, fault=fault, headers=headers)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw.decode("utf-8")) if raw else None

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        expected = f"Bearer {self.sim.token}"
        return hmac.compare_digest(header.encode("utf-8"), expected.encode("utf-8"))

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path = url.path
        body: Any = None
        if self.command in ("POST", "PUT"):
            try:
                body = self._read_body()
            except (ValueError, UnicodeDecodeError):
                self._error(400, "bad_request", "the body is not JSON")
                return
        fault = self.sim.take_fault(path)
        if fault == "401" or not self._authorised():
            self._error(401, "unauthorized", "bad or missing bearer token", fault=fault)
            return
        if fault == "stall":
            self.sim.record(self.command, self.path, 0, fault)
            self._cut()
            return
        if fault == "429":
            retry = str(self.sim.faults.retry_after_seconds)
            self._error(429, "rate_limited", "slow down", headers={"Retry-After": retry}, fault=fault)
            return
        if fault in ("503", "500"):
            self._error(int(fault), "unavailable", "the gateway is busy", fault=fault)
            return
        drop = fault if fault == "drop" else None
        query = parse_qs(url.query)
        if self.command == "GET" and path == "/v1/status":
            self._send_json(200, self.sim.status(), fault=drop)
        elif self.command == "GET" and path == "/v1/events":
            try:
                limit = int(query.get("limit", ["100"])[0])
                if not 1 <= limit <= 500:
                    raise ValueError
            except ValueError:
                self._error(400, "bad_limit", "limit must be 1..500")
                return
            after = query.get("after", [None])[0]
            try:
                page = self.sim.page(after, limit)
            except ValueError:
                self._error(400, "bad_cursor", f"unknown cursor {after!r}")
                return
            self._send_json(200, page, fault=drop)
        elif self.command == "GET" and path.startswith("/v1/photos/"):
            self._photo(path[len("/v1/photos/"):], drop)
        elif self.command == "POST" and path == "/v1/ack":
            through = body.get("through") if isinstance(body, dict) else None
            try:
                if not isinstance(through, str):
                    raise ValueError
                self.sim.ack(through)
            except ValueError:
                self._error(400, "bad_cursor", "through must be a cursor from /v1/events")
                return
            self._send_bytes(204, b"", "application/json", drop)
        elif self.command == "PUT" and path.startswith("/v1/reference/"):
            kind = path[len("/v1/reference/"):]
            if kind not in REFERENCE_KINDS:
                self._error(404, "unknown_kind", f"no reference kind {kind!r}")
                return
            status, answer = self.sim.put_reference(kind, body)
            self._send_json(status, answer, fault=drop if status == 200 else None)
        else:
            self._error(404, "not_found", f"no such endpoint {self.command} {path}")

    def _photo(self, sha: str, drop: str | None) -> None:
        with self.sim._lock:
            data = self.sim.served_photos.get(sha)
        if data is None:
            self._error(404, "not_found", "photo not held")
            return
        range_header = self.headers.get("Range", "")
        start = 0
        if range_header and not self.sim.faults.ignore_range:
            try:
                unit, _, spec = range_header.partition("=")
                first, _, last = spec.partition("-")
                if unit.strip() != "bytes" or not first.strip().isdigit():
                    raise ValueError
                start = int(first)
                end = int(last) if last.strip() else len(data) - 1
            except ValueError:
                start, end = 0, len(data) - 1
            else:
                if start >= len(data):
                    self._error(416, "range", "range not satisfiable",
                                headers={"Content-Range": f"bytes */{len(data)}"})
                    return
                end = min(end, len(data) - 1)
                self._send_bytes(206, data[start:end + 1], "image/jpeg", drop,
                                 {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"})
                return
        self._send_bytes(200, data, "image/jpeg", drop, {"Accept-Ranges": "bytes"})

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m desktop.demo.simulator",
                                     description="Curbdesk field simulator: a field endpoint for demos and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="demo")
    parser.add_argument("--devices", type=int, default=5)
    parser.add_argument("--citations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-device", type=int, default=21,
                        help="number of the first handheld (default 21: HH-0021..., clear of the demo office's "
                             "HH-0001..HH-0012 and their citation numbers)")
    parser.add_argument("--no-photos", action="store_true", help="citations without photos (for speed tests)")
    parser.add_argument("--faults", choices=["none", "all"], default="none", help="a preset of faults")
    parser.add_argument("--drop", type=float, help="probability of cutting an answer half-way")
    parser.add_argument("--repeat", type=float, help="probability of repeating events")
    parser.add_argument("--throttle", type=float, help="probability of 429 with Retry-After")
    parser.add_argument("--retry-after", type=int, help="seconds in Retry-After")
    parser.add_argument("--unavailable", type=float, help="probability of 503")
    parser.add_argument("--truncated-photos", type=int)
    parser.add_argument("--corrupted-photos", type=int)
    parser.add_argument("--malformed", type=int, help="number of malformed events")
    parser.add_argument("--conflicts", type=int, help="citation numbers re-issued with different content")
    parser.add_argument("--gaps", action="store_true", help="withhold one event per device")
    parser.add_argument("--sign", action="store_true", help="sign events with per-device Ed25519 keys")
    parser.add_argument("--forged", type=int, help="events signed with the wrong key")
    parser.add_argument("--ignore-range", action="store_true", help="answer Range requests with the whole photo")
    parser.add_argument("--bundles", type=Path, help="also write one dock bundle per device into this folder")
    return parser


def faults_from_args(args: argparse.Namespace) -> Faults:
    faults = Faults.everything() if args.faults == "all" else Faults()
    mapping = {
        "drop": "drop_probability", "repeat": "repeat_probability", "throttle": "throttle_probability",
        "retry_after": "retry_after_seconds", "unavailable": "unavailable_probability",
        "truncated_photos": "truncated_photos", "corrupted_photos": "corrupted_photos",
        "malformed": "malformed_events", "conflicts": "conflicting_duplicates", "forged": "forged_signatures",
    }
    changes: dict[str, Any] = {name: getattr(args, arg) for arg, name in mapping.items()
                               if getattr(args, arg) is not None}
    if args.gaps:
        changes["sequence_gaps"] = True
    if args.sign:
        changes["sign_events"] = True
    if args.ignore_range:
        changes["ignore_range"] = True
    return replace(faults, **changes)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sim = FieldSimulator(seed=args.seed, devices=args.devices, citations=args.citations, token=args.token,
                         faults=faults_from_args(args), host=args.host, port=args.port,
                         first_device=args.first_device, photos_per_citation=0 if args.no_photos else None)
    url = sim.start()
    print(f"Field simulator listening on {url} (token {args.token!r}); "
          f"{len(sim.held_events)} events, {len(sim.photos)} photos.")
    if sim.faults.sign_events:
        for device_id, key in sim.device_keys.items():
            print(f"  {device_id} public key {key}")
    if args.bundles:
        args.bundles.mkdir(parents=True, exist_ok=True)
        for path in sim.write_bundles(args.bundles):
            print(f"  wrote {path}")
    print("Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

