"""Reusable fixtures and builders for the field sync tests (wire, client, simulator, evidence, bundles).

Import the fixtures into a test package's ``conftest.py``::

    from tests.helpers.sync_helpers import simulator_factory, no_sleep  # noqa: F401
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.demo.simulator import FieldSimulator
from desktop.sync.client import FieldClient

SHARED_DATA = Path("/work/shared/data")
PHOTOS_EXIF = SHARED_DATA / "photos_exif"
TOKEN = "test-token"


def shared_photos() -> list[Path]:
    """Every photo file in the shared EXIF sample folder."""
    return sorted(p for p in PHOTOS_EXIF.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg"})


class RecordingSleep:
    """A stand-in for ``time.sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def no_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., FieldSimulator]]:
    """Make started simulators (small fleet, test token); all are stopped after the test.

    ``simulator_factory(citations=20, drop_probability=0.3)`` -> a running FieldSimulator.
    """
    started: list[FieldSimulator] = []

    def make(**kwargs: Any) -> FieldSimulator:
        kwargs.setdefault("devices", 3)
        kwargs.setdefault("citations", 12)
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("photo_size", (320, 240))
        sim = FieldSimulator(**kwargs)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


def client_for(sim: FieldSimulator, sleep: Callable[[float], None] | None = None, **kwargs: Any) -> FieldClient:
    """A real FieldClient on the simulator's URL that records instead of sleeping."""
    kwargs.setdefault("token", sim.token)
    return FieldClient(sim.base_url, sleep=sleep or RecordingSleep(), **kwargs)


VALID_EVENT: dict[str, Any] = {
    "event_id": "6f1c0a52-8a8e-4df4-9b59-3c5d2b1f9e10",
    "device_id": "HH-0042",
    "seq": 1234,
    "type": "citation.issued",
    "occurred_at": "2026-11-24T09:15:02-08:00",
    "payload": {
        "citation_number": "HH0042-000123",
        "officer_badge": "1234",
        "issued_at": "2026-11-24T09:15:02-08:00",
        "vehicle": {"plate": "7ABC123", "jurisdiction": "CA", "plate_type": "PAS", "make": "TOYT",
                    "model": "CAMRY", "color": "GY", "vin": None, "registration_expiry": "2027-03"},
        "location": {"lat": 34.0522, "lon": -118.2437, "accuracy_m": 6.5, "address": "100 S MAIN ST",
                     "zone": "Z-DOWNTOWN-3", "space": "M-1044"},
        "violations": [{"code": "80.69BS", "description": "NO PARK/STREET CLEAN", "fine_cents": 7300}],
        "observations": [{"kind": "chalk", "first_seen_at": "2026-11-24T07:02:00-08:00",
                          "second_seen_at": "2026-11-24T09:14:40-08:00"}],
        "photos": [{"sha256": hashlib.sha256(b"photo").hexdigest(), "taken_at": "2026-11-24T09:14:51-08:00",
                    "bytes": 183234, "caption": "plate"}],
        "remarks": "free text from the officer",
    },
}


def valid_event(**overrides: Any) -> dict[str, Any]:
    """The protocol's own example envelope (a deep copy), with top-level overrides."""
    event = copy.deepcopy(VALID_EVENT)
    event.update(overrides)
    return event
