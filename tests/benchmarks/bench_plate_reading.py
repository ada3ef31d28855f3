"""Benchmark: the plate reader on the labelled synthetic test set (tests/helpers/plate_set.py) and the demo's
photos: exact-read accuracy per category, false "differs" warnings on correctly typed citations, photos per second.

Run with ``pytest tests/benchmarks/bench_plate_reading.py --benchmark-only -s`` (``CURBDESK_PLATE_SET`` photos
per split, default 180: 20 of each of the nine plate styles).

Two splits of the set: *development* (seeds from ``DEV_SEED``: the reader was tuned looking at its failures)
and *held-out* (seeds from ``HELD_OUT_SEED``: never looked at while tuning); both are reported.

Exact read: the reading equals the plate as printed (spaces dropped). The accuracy's denominator is the
*legible* photos only (``Sample.legible``: every photo except a plate narrower than 150 px of an 800 px photo
blurred with a radius above 1.2 px, which a person cannot read either); a photo that gives no reading counts
as a miss. A false warning is a correctly typed citation (typed = the printed plate, the sample's state) on
which the "Plate photo" check warns, over *all* photos, the illegible ones included.

Group ``plate-read`` (the same photos in each):

* baseline: decode each JPEG with OpenCV (the least any reader does);
* reader: region finding + recognition of the plate line + the choice of reading (what ``plates read`` does
  per photo, less the database), on each split;
* whole photo (same run, on the first 6 photos only: it is slow): RapidOCR's full pipeline (text detection
  over the whole photo, then recognition of every text found), what the issue measured at ~550 ms a photo.

Goals (issue 20): >= 97 % exact on legible plates, <= 1 % false warnings, >= 10 photos/s on 2 cores.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from desktop.demo.photos import street_photo
from desktop.domain import checks
from desktop.domain.plate_reading import PhotoReading, StoredReading
from desktop.services.review.plate_ocr import PlateReader
from tests.helpers.plate_set import DEV_SEED, HELD_OUT_SEED, Sample, categories, labelled_set

COUNT = int(os.environ.get("CURBDESK_PLATE_SET", "180"))
DEMO_PLATES = ("7GAM761", "8XYZ999", "5KRA480", "6BAK684", "9GPS914", "7THF105", "4NGL483", "3UGS393")


@pytest.fixture(scope="module")
def photos() -> list[Sample]:
    return labelled_set(COUNT, DEV_SEED)


@pytest.fixture(scope="module")
def held_out() -> list[Sample]:
    return labelled_set(COUNT, HELD_OUT_SEED)


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()


def _typed_check(sample: Sample, plate: str | None, confidence: float | None) -> bool:
    """Whether the "Plate photo" check warns on a citation typed exactly as the plate is printed."""
    when = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
    citation = checks.CitationForReview("B-1", sample.plate, sample.jurisdiction, "TOYT", when, when, None, None, ())
    stored = StoredReading("x", 0, "read" if plate else "not_readable", plate, confidence, None, "", "bench")
    return not checks.check_plate_photo(citation, stored, None, checks.CheckConfig()).ok


def evaluate(read: Callable[[bytes, str], PhotoReading], photos: list[Sample]) -> dict[str, Any]:
    """Exact reads on the legible photos (overall and per category), false warnings on all photos, speed."""
    exact, legible, warned = 0, 0, 0
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: Counter[str] = Counter()
    failures: list[str] = []
    warnings: list[str] = []
    started = time.perf_counter()
    for sample in photos:
        result = read(sample.jpeg, sample.jurisdiction)
        if sample.legible:
            legible += 1
            ok = result.plate == sample.plate
            exact += ok
            for cat in categories(sample):
                per_cat[cat][0] += ok
                per_cat[cat][1] += 1
            if not ok:
                misses["no reading" if result.plate is None else "wrong or partial"] += 1
                failures.append(f"{sample.style} {sample.plate} w{sample.width_px} a{sample.angle} b{sample.blur} "
                                f"{'G' if sample.glare else ''}{'N' if sample.night else ''}{'D' if sample.dirt else ''}"
                                f" -> {result.plate} {result.confidence} {result.reason}")
        if _typed_check(sample, result.plate, result.confidence):
            warned += 1
            warnings.append(f"{sample.style} {sample.plate} read {result.plate} ({result.confidence})")
    seconds = time.perf_counter() - started
    return {"exact_read_pct": round(100 * exact / max(1, legible), 1), "exact": exact, "legible": legible,
            "false_warning_pct": round(100 * warned / max(1, len(photos)), 2), "false_warnings": warnings,
            "photos_per_s": round(len(photos) / seconds, 1), "photos": len(photos),
            "per_category": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_cat.items())},
            "misses": dict(misses), "failures": failures}


def print_report(name: str, report: dict[str, Any]) -> None:
    print(f"\n{name}: exact {report['exact']}/{report['legible']} = {report['exact_read_pct']} %, false warnings "
          f"{report['false_warning_pct']} % {report['false_warnings']}, {report['photos_per_s']} photos/s, "
          f"misses {report['misses']}")
    for cat, frac in report["per_category"].items():
        print(f"  {cat:34} {frac}")
    for line in report["failures"]:
        print(f"  FAIL {line}")


@pytest.mark.benchmark(group="plate-read")
def test_baseline_decode(benchmark, photos) -> None:
    import cv2
    import numpy as np

    def decode() -> int:
        return sum(cv2.imdecode(np.frombuffer(s.jpeg, np.uint8), cv2.IMREAD_COLOR).shape[0] for s in photos)

    assert benchmark.pedantic(decode, rounds=3, iterations=1) == 600 * len(photos)


@pytest.mark.benchmark(group="plate-read")
def test_reader_on_the_synthetic_set(benchmark, photos, reader) -> None:
    report = benchmark.pedantic(lambda: evaluate(reader.read_bytes, photos), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in report.items() if k != "failures"})
    print_report("development split", report)
    # what was reached, less a margin, kept as a floor so that a regression shows (goals in the docstring)
    assert report["exact_read_pct"] >= 92
    assert report["false_warning_pct"] <= 1.0


@pytest.mark.benchmark(group="plate-read")
def test_reader_on_the_held_out_set(benchmark, held_out, reader) -> None:
    report = benchmark.pedantic(lambda: evaluate(reader.read_bytes, held_out), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in report.items() if k != "failures"})
    print_report("held-out split", report)
    assert report["exact_read_pct"] >= 92
    assert report["false_warning_pct"] <= 1.0


@pytest.mark.benchmark(group="plate-read")
def test_reader_on_demo_photos(benchmark, reader) -> None:
    taken = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    demo = [street_photo(p, "CA", "WT", "TOYT", taken, 34.05, -118.25, seed=i) for i, p in enumerate(DEMO_PLATES)]

    def read_all() -> list[str | None]:
        return [reader.read_bytes(data, "CA").plate for data in demo]

    plates = benchmark.pedantic(read_all, rounds=3, iterations=1)
    benchmark.extra_info["exact"] = sum(p == t for p, t in zip(plates, DEMO_PLATES, strict=True))
    assert plates == list(DEMO_PLATES)


@pytest.mark.benchmark(group="plate-read")
def test_whole_photo_ocr_same_run_baseline(benchmark, photos) -> None:
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    few = photos[:6]

    def whole() -> int:
        return sum(len(engine(s.jpeg)[0] or []) for s in few)

    assert benchmark.pedantic(whole, rounds=1, iterations=1) >= len(few)
