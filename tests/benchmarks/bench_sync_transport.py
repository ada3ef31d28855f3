"""Benchmarks: events/s pulled from the local simulator (limit=500) and photo download MB/s.

Baselines measured in the same run: parsing the same events in memory (what the
transport adds on top) and a plain file copy of the same photo bytes.
Run with ``pytest tests/benchmarks/bench_sync_transport.py --benchmark-only -p no:randomly``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.demo.simulator import FieldSimulator
from desktop.sync.client import FieldClient
from desktop.sync.wire import parse_envelope

EVENT_CITATIONS = 2000


@pytest.fixture(scope="module")
def event_sim() -> Iterator[FieldSimulator]:
    sim = FieldSimulator(devices=10, citations=EVENT_CITATIONS, token="bench", photo_size=(64, 48))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def photo_sim() -> Iterator[tuple[FieldSimulator, str]]:
    sim = FieldSimulator(devices=1, citations=1, token="bench", photo_size=(640, 480))
    big = b"\xff\xd8" + bytes(range(256)) * (8 * 1024 * 1024 // 256)  # 8 MB, like a large phone photo
    sha = sim.add_photo(big)
    sim.start()
    yield sim, sha
    sim.stop()


def _pull(client: FieldClient) -> int:
    count = 0
    for page in client.iter_pages(limit=500):
        count += len(page.events)
    return count


def test_bench_events_fetch(benchmark: Any, event_sim: FieldSimulator) -> None:
    client = FieldClient(event_sim.base_url, "bench")
    expected = len(event_sim.held_events)
    count = benchmark(_pull, client)
    assert count == expected
    benchmark.extra_info["events"] = count
    benchmark.extra_info["events_per_s"] = round(count / benchmark.stats.stats.median)
    client.close()


def test_bench_events_parse_baseline(benchmark: Any, event_sim: FieldSimulator) -> None:
    events = event_sim.held_events

    def parse_all() -> int:
        return sum(1 for e in events if parse_envelope(e))

    count = benchmark(parse_all)
    benchmark.extra_info["events_per_s"] = round(count / benchmark.stats.stats.median)


def test_bench_photo_download(benchmark: Any, photo_sim: tuple[FieldSimulator, str], tmp_path: Path) -> None:
    sim, sha = photo_sim
    client = FieldClient(sim.base_url, "bench")
    dest = tmp_path / "photo.jpg"

    def download() -> int:
        dest.unlink(missing_ok=True)
        return client.photo(sha, dest).size

    size = benchmark(download)
    assert size == len(sim.photos[sha]) and dest.read_bytes() == sim.photos[sha]
    benchmark.extra_info["MB_per_s"] = round(size / 1e6 / benchmark.stats.stats.median, 1)
    client.close()


def test_bench_photo_file_copy_baseline(benchmark: Any, photo_sim: tuple[FieldSimulator, str],
                                        tmp_path: Path) -> None:
    sim, sha = photo_sim
    source = tmp_path / "source.jpg"
    source.write_bytes(sim.photos[sha])
    dest = tmp_path / "copy.jpg"

    def copy() -> int:
        shutil.copyfile(source, dest)
        return dest.stat().st_size

    size = benchmark(copy)
    benchmark.extra_info["MB_per_s"] = round(size / 1e6 / benchmark.stats.stats.median, 1)
