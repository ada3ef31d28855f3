"""Benchmark: exporting every citation of a big office as CSV, in constant memory, on SQLite and PostgreSQL.

Each export runs in a process of its own (``python -m tests.benchmarks.bench_export_memory URL OUT``), which
reports its peak resident memory (``ru_maxrss``) just before the export (the baseline: Python, SQLAlchemy,
the models and an open database) and after it, the rows written and the seconds taken. The figure that
matters is the growth: a few MB whatever the number of citations (a server-side cursor on PostgreSQL, the
file read row by row on SQLite), where reading the whole result first would hold about 1 KB per citation.

``CURBDESK_SCALE_URLS`` names the offices (``label=url`` separated by spaces); by default the cached
1,000,000-citation SQLite office of ``casework_db``. Run with
``pytest tests/benchmarks/bench_export_memory.py --benchmark-only -p no:randomly -s``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _offices() -> list[tuple[str, str]]:
    """The offices named by ``CURBDESK_SCALE_URLS``; else the cached million-citation SQLite office if it is
    complete (never built from here: building it is ``casework_db``'s, and other benchmarks share it)."""
    given = os.environ.get("CURBDESK_SCALE_URLS", "").split()
    if given:
        return [(item.split("=", 1)[0], item.split("=", 1)[1]) for item in given]
    cached = Path("/tmp/curbdesk-bench-1000k/base/curbdesk.sqlite3")
    return [("sqlite-1M", f"sqlite:///{cached}")] if cached.exists() else []


def measure(url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "citations.csv"
        done = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_export_memory", url, str(out)],
                              check=True, capture_output=True, text=True, cwd=ROOT)
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        result["csv_mb"] = out.stat().st_size / 1e6 if out.exists() else 0.0
        return result


@pytest.mark.parametrize("label,url", _offices())
def test_export_every_citation_in_constant_memory(benchmark, label: str, url: str) -> None:  # type: ignore[no-untyped-def]
    result = benchmark.pedantic(measure, args=(url,), rounds=1, iterations=1)
    load = os.getloadavg()
    print(f"\n{label}: {result['rows']:,.0f} rows in {result['seconds']:.1f} s; peak RSS {result['peak_mb']:.0f} MB, "
          f"before the export {result['baseline_mb']:.0f} MB (+{result['peak_mb'] - result['baseline_mb']:.0f} MB); "
          f"load {load[0]:.1f}")
    assert result["peak_mb"] - result["baseline_mb"] < 100


def _child(url: str, out: Path) -> None:
    from sqlalchemy import text

    from desktop.bootstrap import make_app_context
    from desktop.paths import AppPaths
    from desktop.persistence.db import Database
    from desktop.services.admin import users
    from desktop.services.cases.queries import export_citations

    with tempfile.TemporaryDirectory() as data:
        app = make_app_context(Database(url), AppPaths(Path(data)))
        actor = users.actor_for(app, "admin")
        with app.db.reading() as s:  # the same connection work before the baseline as during the export
            s.execute(text("SELECT 1")).all()
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        rows = export_citations(app, actor, out)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        app.db.dispose()
    print(json.dumps({"rows": rows, "seconds": seconds, "baseline_mb": baseline, "peak_mb": peak}))


if __name__ == "__main__":
    _child(sys.argv[1], Path(sys.argv[2]))
