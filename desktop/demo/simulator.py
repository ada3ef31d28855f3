"""Field simulator: a small HTTP server that speaks field sync protocol v1 and can misbehave on purpose.

Shipped with the product for the demo, for trying a sync without a fleet, and
for the tests. It serves a deterministic fleet (:mod:`desktop.demo.fleet`: same
seed, same events, same photo bytes): N handhelds, each with an officer badge,
issuing believable citations with 1-3 JPEG photos each, plus voids, amendments,
patrol shifts and checks, and the occasional event type the back office does not know.

Faults are switched on by constructor arguments (see :class:`~desktop.demo.fleet.Faults`) or
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
import logging
import random
import sys
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop.demo.fleet import Faults, Fleet, photo_shas
from desktop.demo.simulator_http import EndpointHandler, QuietServer
from desktop.sync.bundle import write_bundle
from desktop.sync.wire import REFERENCE_KINDS


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
        self._lock = threading.RLock()
        self._fault_rng = random.Random(f"{seed}-faults")
        self._queued: deque[tuple[str, str]] = deque()  # (path prefix, fault)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

        fleet = Fleet(seed=seed, devices=devices, citations=citations, faults=self.faults, day=day,
                      photo_size=photo_size, first_device=first_device, photos_per_citation=photos_per_citation)
        self.zone = fleet.zone
        self.devices = fleet.devices
        self.photos = fleet.photos
        self.served_photos = fleet.served_photos
        self.bad_photos = fleet.bad_photos
        self.valid_citation_numbers = fleet.valid_citation_numbers
        self.accepted_event_ids = fleet.accepted_event_ids
        self.malformed = fleet.malformed
        self.malformed_count = fleet.malformed_count
        self.conflict_event_ids = fleet.conflict_event_ids
        self.unknown_event_ids = fleet.unknown_event_ids
        self.forged_event_ids = fleet.forged_event_ids
        self.withheld_event_ids = fleet.withheld_event_ids
        self.device_events = fleet.device_events
        self.reference: dict[str, tuple[int, list[Any]]] = {kind: (0, []) for kind in REFERENCE_KINDS}
        self.requests: list[RequestRecord] = []
        self.acked_index = 0
        self.acked_cursor: str | None = None
        self.ack_history: list[str] = []

        self._feed: list[_FeedItem] = []
        self._all_feed: list[_FeedItem] = []
        self._next_index = 1
        for item, device_id, shas in fleet.feed:
            self._append(item, device_id, shas)
        self.withheld = [_FeedItem(0, item, device_id, shas) for item, device_id, shas in fleet.withheld]

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
                shas.update(photo_shas(item))
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
        handler = type("BoundHandler", (EndpointHandler,), {"sim": self})
        server = QuietServer((self.host, self.port), handler)
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

    def _append(self, item: Any, device_id: str | None, shas: tuple[str, ...]) -> None:
        entry = _FeedItem(self._next_index, item, device_id, shas or tuple(photo_shas(item)))
        self._next_index += 1
        self._feed.append(entry)
        self._all_feed.append(entry)


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

    def served_photo(self, sha: str) -> bytes | None:
        """The bytes handed out for a photo (None: not held, or let go after its event's ack)."""
        with self._lock:
            return self.served_photos.get(sha)


def _cursor_index(cursor: str) -> int:
    if not cursor.startswith("c") or not cursor[1:].isdigit():
        raise ValueError(f"bad cursor {cursor!r}")
    return int(cursor[1:])


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

