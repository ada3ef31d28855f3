"""The field simulator's fleet: handhelds and everything they did on one day, generated from a seed.

Same seed, same fleet: the devices and their keys, believable citations around Los Angeles or San
Francisco with 1-3 JPEG street photos each, voids, amendments, patrol shifts and checks, the odd
event type the back office does not know, and the data faults asked for (bad photos, malformed
events, conflicting duplicates, sequence gaps, forged signatures), each listed so that a test can
check that nothing was lost. :class:`desktop.demo.simulator.FieldSimulator` serves a fleet over HTTP.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import random
import string
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw, ImageFont

from desktop.sync.wire import (
    CITATION_AMENDED,
    CITATION_ISSUED,
    CITATION_VOIDED,
    PATROL_CHECK,
    PATROL_SHIFT,
    public_key_b64,
    sign_envelope,
)


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



#: an event as delivered: the item (a dict envelope, or a str for an unreadable line), its device, its photos
FeedEntry = tuple[Any, str | None, tuple[str, ...]]


# --------------------------------------------------------------------------- the fleet


class Fleet:
    """The handhelds and their events, in delivery order, with what was planted among them.

    ``feed`` holds the events to deliver and ``withheld`` those held back to make sequence gaps;
    ``photos`` the original bytes and ``served_photos`` what the endpoint hands out (truncated or
    corrupted for ``bad_photos``); ``valid_citation_numbers`` and ``accepted_event_ids`` what a
    correct back office stores; ``malformed``, ``conflict_event_ids``, ``unknown_event_ids``,
    ``forged_event_ids`` and ``withheld_event_ids`` what it must not apply (yet).
    """

    def __init__(self, *, seed: int, devices: int, citations: int, faults: Faults, day: date,
                 photo_size: tuple[int, int], first_device: int, photos_per_citation: int | None) -> None:
        self.seed = seed
        self.faults = faults
        self.day = day
        self.photo_size = photo_size
        self.first_device = first_device
        self.photos_per_citation = photos_per_citation
        self.zone = _local_zone()

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
        self.withheld_event_ids: set[str] = set()
        self.device_events: dict[str, list[Any]] = {}
        self.feed: list[FeedEntry] = []
        self.withheld: list[FeedEntry] = []
        self._generate(devices, citations)

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
                self.withheld.append((item, device_id, shas))
            else:
                self.feed.append((item, device_id, shas))

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



def photo_shas(item: Any) -> list[str]:
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
