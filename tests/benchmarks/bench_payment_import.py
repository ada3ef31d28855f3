"""Benchmark: NACHA parse throughput on the 100k-entry file, against merely splitting its lines.

Run with ``pytest tests/benchmarks/bench_payment_import.py --benchmark-only -p no:randomly``.
Both measurements share the group ``nacha-100k`` so the report shows them side by side; the
``entries_per_second`` extra info gives the throughput of each.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from desktop.services.payments.importers.nacha import parse_nacha_bytes, read_nacha

GZ_FILE = Path("/work/shared/data/bank_payment_files/nacha_ach_moov/PPD-200-batches-100000-entries.ach.gz")
ENTRIES = 100199  # entry detail records in the file (its name rounds it down)


@pytest.fixture(scope="module")
def raw_bytes() -> bytes:
    if not GZ_FILE.exists():
        pytest.skip("shared NACHA volume file is not available")
    return gzip.decompress(GZ_FILE.read_bytes())


def _record(benchmark) -> None:  # type: ignore[no-untyped-def]
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["entries_per_second"] = round(ENTRIES / mean)


@pytest.mark.benchmark(group="nacha-100k")
def test_baseline_decode_and_split_lines(benchmark, raw_bytes: bytes) -> None:  # type: ignore[no-untyped-def]
    lines = benchmark(lambda: raw_bytes.decode("ascii").split("\n"))
    assert sum(1 for line in lines if line.startswith("6")) == ENTRIES
    _record(benchmark)


@pytest.mark.benchmark(group="nacha-100k")
def test_parse_nacha_in_memory(benchmark, raw_bytes: bytes) -> None:  # type: ignore[no-untyped-def]
    result = benchmark(parse_nacha_bytes, raw_bytes, "ppd.ach")
    assert len(result.skipped) == ENTRIES and result.control_credit_cents == 20123398766
    _record(benchmark)


@pytest.mark.benchmark(group="nacha-100k-gz")
def test_baseline_gunzip_and_split_lines(benchmark) -> None:  # type: ignore[no-untyped-def]
    lines = benchmark(lambda: gzip.decompress(GZ_FILE.read_bytes()).decode("ascii").split("\n"))
    assert len(lines) >= ENTRIES
    _record(benchmark)


@pytest.mark.benchmark(group="nacha-100k-gz")
def test_read_nacha_gz_file(benchmark) -> None:  # type: ignore[no-untyped-def]
    result = benchmark(read_nacha, GZ_FILE)
    assert len(result.skipped) == ENTRIES
    _record(benchmark)
